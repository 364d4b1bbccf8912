import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { objectKey } from '../../../src/transfer/direct/cloud.js';
import { OrderedMd5 } from '../../../src/transfer/direct/ordered-md5.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('OrderedMd5', () => {
  it('hashes parts added out of order as if in order, across slice boundaries', async () => {
    const parts = [
      randomBytes(9 * 1024 * 1024 + 3),
      randomBytes(1),
      randomBytes(0),
      randomBytes(4 * 1024 * 1024),
    ];
    const h = new OrderedMd5();
    await Promise.all([3, 1, 4, 2].map((i) => h.add(i, parts[i - 1])));
    expect(h.digest()).toBe(md5(Buffer.concat(parts)));
    expect(h.bytes).toBe(parts.reduce((n, p) => n + p.length, 0));
  });

  it('has read a part when add() resolves, so its buffer may be reused', async () => {
    const a = Buffer.from('first');
    const b = Buffer.from('second');
    const h = new OrderedMd5();
    const later = h.add(2, b);
    await h.add(1, a);
    await later;
    b.fill(0);
    a.fill(0);
    expect(h.digest()).toBe(md5(Buffer.from('firstsecond')));
  });

  it('fail() rejects waiting and later parts instead of leaving them waiting forever', async () => {
    const h = new OrderedMd5();
    const waiting = h.add(3, Buffer.from('x'));
    h.fail(new Error('part 1 failed'));
    await expect(waiting).rejects.toThrow('part 1 failed');
    await expect(h.add(1, Buffer.from('y'))).rejects.toThrow('part 1 failed');
    expect(() => h.digest()).toThrow('part 1 failed');
  });

  it('an abort rejects a waiting part; a part added twice is an error', async () => {
    const h = new OrderedMd5();
    const ac = new AbortController();
    const waiting = h.add(2, Buffer.from('x'), ac.signal);
    ac.abort();
    await expect(waiting).rejects.toThrow(/cancelled/);
    await h.add(1, Buffer.from('a'));
    await expect(h.add(1, Buffer.from('a'))).rejects.toThrow(/already hashed/);
  });
});

describe('objectKey', () => {
  it('is prefix + folder + name with single slashes and no leading slash', () => {
    expect(objectKey('runs', '/sub/dir', 'a.bin')).toBe('runs/sub/dir/a.bin');
    expect(objectKey('in/', '/', 'a.bin')).toBe('in/a.bin');
    expect(objectKey('', '/x/', 'a.bin')).toBe('x/a.bin');
    expect(objectKey('/p//q/', '//f', 'n')).toBe('p/q/f/n');
  });
});

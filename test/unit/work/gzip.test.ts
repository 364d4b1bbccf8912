import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EMPTY_GZIP_MEMBER, gzipMember, padPart, paddingMembers } from '../../../src/work/gzip.js';

const MIN = 5 * 1024 * 1024;

describe('gzipMember', () => {
  it("writes classic zlib's Unix header: no mtime, no name, XFL 0, OS 3", () => {
    const g = gzipMember(Buffer.from('ACGT\n'.repeat(1000)), 6);
    expect(g.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    // Like zlib, XFL flags the extreme levels (4 = fastest, 2 = best); 6 is the agent's default.
    expect(gzipMember(Buffer.from('x'), 1).subarray(0, 10).toString('hex')).toBe('1f8b0800000000000403');
    expect(gzipMember(Buffer.from('x'), 9).subarray(0, 10).toString('hex')).toBe('1f8b0800000000000203');
  });

  it('EMPTY_GZIP_MEMBER is the 20-byte gzip of nothing', () => {
    expect(EMPTY_GZIP_MEMBER.toString('hex')).toBe('1f8b0800000000000003' + '0300' + '00000000' + '00000000');
    expect(gzipSync(Buffer.alloc(0)).equals(EMPTY_GZIP_MEMBER)).toBe(true);
    expect(gunzipSync(EMPTY_GZIP_MEMBER).length).toBe(0);
  });

  it('independent members concatenate into a multi-member gzip of the whole source', () => {
    const src = Buffer.from(
      Array.from({ length: 20000 }, (_, i) => `@r${i}\nACGTTGCA\n+\nFFFFFFFF\n`).join(''),
    );
    const cuts = [0, 7, 100_000, 250_001, src.length];
    const members = cuts.slice(1).map((end, i) => gzipMember(src.subarray(cuts[i], end), 6));
    expect(gunzipSync(Buffer.concat(members)).equals(src)).toBe(true);
  });
});

describe('padPart', () => {
  it('pads a short non-last part to the minimum with whole empty members', () => {
    const part = gzipMember(Buffer.from('hello\n'), 6);
    const padded = padPart(part, false, MIN);
    const n = Math.ceil((MIN - part.length) / 20);
    expect(padded.length).toBe(part.length + n * 20);
    expect(padded.length).toBeGreaterThanOrEqual(MIN);
    expect(padded.length - 20).toBeLessThan(MIN);
    expect(padded.subarray(0, part.length).equals(part)).toBe(true);
    for (const at of [part.length, part.length + 20 * 7, padded.length - 20])
      expect(padded.subarray(at, at + 20).equals(EMPTY_GZIP_MEMBER)).toBe(true);
    expect(gunzipSync(padded).toString()).toBe('hello\n');
  });

  it('never pads the last part or a part already at the minimum', () => {
    const part = gzipMember(Buffer.from('tail'), 6);
    expect(padPart(part, true, MIN)).toBe(part);
    const big = Buffer.alloc(MIN, 1);
    expect(padPart(big, false, MIN)).toBe(big);
  });

  it('padding math: members needed for a given length', () => {
    expect(paddingMembers(MIN - 1, false, MIN)).toBe(1);
    expect(paddingMembers(MIN - 20, false, MIN)).toBe(1);
    expect(paddingMembers(MIN - 21, false, MIN)).toBe(2);
    expect(paddingMembers(0, false, MIN)).toBe(262_144);
    expect(paddingMembers(10, true, MIN)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import { BufferPool } from '../../../src/read/buffer-pool.js';

/** Lets every already-settled promise callback run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('BufferPool', () => {
  it('hands a released buffer out again instead of allocating', async () => {
    const pool = new BufferPool({ size: 1024, max: 4 });
    const a = await pool.acquire();
    new Uint8Array(a)[0] = 42;
    pool.release(a);
    const b = await pool.acquire();
    expect(b).toBe(a);
    expect(new Uint8Array(b)[0]).toBe(42);
    expect(pool.allocated).toBe(1);
  });

  it('allocates up to the cap, then waits for a release, first come first served', async () => {
    const pool = new BufferPool({ size: 16, max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);
    const got: string[] = [];
    const first = pool.acquire().then((buf) => got.push(buf === b ? 'first:b' : 'first:?'));
    const second = pool.acquire().then((buf) => got.push(buf === a ? 'second:a' : 'second:?'));
    await settle();
    expect(got).toEqual([]);
    expect(pool.allocated).toBe(2);
    pool.release(b);
    await first;
    pool.release(a);
    await second;
    expect(got).toEqual(['first:b', 'second:a']);
    expect(pool.allocated).toBe(2);
  });

  it('an aborted wait rejects with AbortedError and leaves its turn to the next waiter', async () => {
    const pool = new BufferPool({ size: 8, max: 1 });
    const a = await pool.acquire();
    const ac = new AbortController();
    const aborted = pool.acquire(ac.signal);
    const next = pool.acquire();
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    pool.release(a);
    await expect(next).resolves.toBe(a);
    await expect(pool.acquire(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });

  it('a detached buffer counts as lost: a replacement of the right size is allocated for the next waiter', async () => {
    const pool = new BufferPool({ size: 64, max: 1 });
    const a = await pool.acquire();
    const waiting = pool.acquire();
    structuredClone(a, { transfer: [a] }); // detaches `a`, like a worker that never gave it back
    expect(a.byteLength).toBe(0);
    pool.release(a);
    const b = await waiting;
    expect(b.byteLength).toBe(64);
    expect(pool.allocated).toBe(1);
  });

  it('refuses a buffer of another size', async () => {
    const pool = new BufferPool({ size: 32, max: 2 });
    expect(() => pool.release(new ArrayBuffer(16))).toThrow(RangeError);
    expect(pool.free).toBe(0);
  });
});

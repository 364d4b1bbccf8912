import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import { TokenBucket, createThrottle, throttled } from '../../../src/accounting/throttle.js';
import { FakeClock } from './fakes.js';

const MIB = 2 ** 20;
const CHUNK = 64 * 1024;

/** Takes CHUNK after CHUNK until stopped; returns a counter of bytes let through. */
function pump(bucket: TokenBucket, signal: AbortSignal): { passed: number; done: Promise<void> } {
  const state = { passed: 0, done: Promise.resolve() };
  state.done = (async () => {
    try {
      for (;;) {
        await bucket.take(CHUNK, signal);
        state.passed += CHUNK;
      }
    } catch (err) {
      if (!(err instanceof AbortedError)) throw err;
    }
  })();
  return state;
}

describe('TokenBucket', () => {
  it('lets ~3 MiB through in 3 s at 1 MiB/s (fake clock)', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: MIB, clock });
    const stop = new AbortController();
    const p = pump(bucket, stop.signal);
    await clock.advance(3000);
    expect(p.passed).toBeGreaterThanOrEqual(3 * MIB - CHUNK);
    expect(p.passed).toBeLessThanOrEqual(3 * MIB);
    stop.abort();
    await p.done;
  });

  it('shares one rate among concurrent takers, in arrival order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: MIB, clock });
    const stop = new AbortController();
    const pumps = [pump(bucket, stop.signal), pump(bucket, stop.signal), pump(bucket, stop.signal)];
    await clock.advance(4000);
    const total = pumps.reduce((s, p) => s + p.passed, 0);
    expect(total).toBeGreaterThanOrEqual(4 * MIB - 3 * CHUNK);
    expect(total).toBeLessThanOrEqual(4 * MIB);
    // Fair: no taker starves.
    for (const p of pumps) expect(p.passed).toBeGreaterThan(MIB);
    stop.abort();
    await Promise.all(pumps.map((p) => p.done));
  });

  it('after an idle time allows a burst of at most `burst`, then the rate again', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: MIB, clock, burst: MIB });
    await clock.advance(10_000);
    expect(bucket.available()).toBe(MIB);
    const stop = new AbortController();
    const p = pump(bucket, stop.signal);
    await clock.advance(0);
    expect(p.passed).toBe(MIB); // the burst, immediately
    await clock.advance(2000);
    expect(p.passed).toBe(3 * MIB);
    stop.abort();
    await p.done;
  });

  it('waits longer for one chunk bigger than the burst instead of refusing it', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: 4096, clock });
    let done = false;
    const t = bucket.take(3 * 4096).then(() => (done = true));
    await clock.advance(2999);
    expect(done).toBe(false);
    await clock.advance(1);
    await t;
    expect(done).toBe(true);
  });

  it('rejects with AbortedError on abort and gives the bytes back', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: MIB, clock });
    const ac = new AbortController();
    const t = bucket.take(MIB, ac.signal);
    expect(bucket.available()).toBe(-MIB);
    ac.abort();
    await expect(t).rejects.toBeInstanceOf(AbortedError);
    expect(bucket.available()).toBe(0);
    await expect(bucket.take(1, ac.signal)).rejects.toBeInstanceOf(AbortedError);
  });

  it('refuses a rate that is not positive, and takes a plain number', () => {
    // A tenth of a second's worth by default: idle time before the first byte saves up little.
    expect(new TokenBucket(2048).burst).toBe(205);
    expect(new TokenBucket(10 * MIB).burst).toBe(MIB);
    expect(() => new TokenBucket({ rate: 0 })).toThrow(RangeError);
    expect(createThrottle(undefined)).toBeUndefined();
    expect(createThrottle(4096)?.rate).toBe(4096);
  });
});

describe('throttled bodies', () => {
  it('returns the source itself when there is neither a bucket nor a counter', () => {
    const chunks = [new Uint8Array(3)];
    expect(throttled(chunks, undefined)).toBe(chunks);
    const data = new Uint8Array(10);
    expect(throttled(data, undefined)).toBe(data);
  });

  it('yields the same bytes, counts them, and paces them with the bucket', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: 100 * 1024, clock }); // slices of 10 KiB
    const data = new Uint8Array(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    let counted = 0;
    const body = throttled(data, bucket, undefined, (n) => (counted += n)) as AsyncIterable<Uint8Array>;
    const got: Uint8Array[] = [];
    const reading = (async () => {
      for await (const c of body) got.push(c);
    })();
    await clock.advance(1000);
    expect(counted).toBe(100 * 1024); // one second's worth so far
    await clock.advance(2000);
    await reading;
    expect(got.every((c) => c.byteLength === 10 * 1024)).toBe(true);
    const sent = Buffer.concat(got);
    expect(createHash('md5').update(sent).digest('hex')).toBe(createHash('md5').update(data).digest('hex'));
    expect(counted).toBe(data.byteLength);
  });
});

/**
 * `--throttle`: one token bucket shared by every upload in the process (the classic agent split the rate
 * per thread, with a sign bug; see ua-behavior §1.8). Bytes are charged as a request body hands them to
 * the socket, so no destination knows about throttling.
 *
 * The bucket uses reservations: `take(n)` subtracts n at once (the level may go negative) and waits until
 * the level it left is paid back. Waiters are therefore served in arrival order, one chunk bigger than
 * the burst is fine (it just waits longer), and the long-run rate is exact. The bucket starts empty, so
 * the rate holds from the first byte; idle time refills it up to `burst`.
 */
import { AbortedError } from '../errors.js';
import { type Clock, systemClock } from './rate-window.js';

/** A clock that can also wait; tests pass a fake one. */
export interface TimerClock extends Clock {
  /** Resolves after `ms`; rejects (any error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemTimerClock: TimerClock = {
  now: systemClock.now,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError());
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new AbortedError());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface TokenBucketOptions {
  /** Bytes per second; must be > 0. */
  rate: number;
  /** Most bytes that may pass at once after an idle time; default one second's worth. */
  burst?: number;
  clock?: TimerClock;
}

export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  private readonly clock: TimerClock;
  private level = 0;
  private updatedMs: number;

  constructor(o: TokenBucketOptions) {
    if (!(o.rate > 0) || !Number.isFinite(o.rate))
      throw new RangeError(`throttle rate must be > 0, got ${o.rate}`);
    this.rate = o.rate;
    this.burst = Math.max(1, o.burst ?? o.rate);
    this.clock = o.clock ?? systemTimerClock;
    this.updatedMs = this.clock.now();
  }

  /** Waits until `n` bytes may be sent. Rejects with AbortedError (and gives the bytes back) on abort. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortedError();
    if (n <= 0) return;
    this.refill();
    this.level -= n;
    if (this.level >= 0) return;
    const waitMs = Math.ceil((-this.level * 1000) / this.rate);
    try {
      await this.clock.sleep(waitMs, signal);
    } catch {
      // Give back what was not sent. Later waiters already computed longer waits: they err on the slow side.
      this.refill();
      this.level = Math.min(this.burst, this.level + n);
      throw new AbortedError();
    }
  }

  /** Current level (negative while bytes are reserved ahead of time); for tests and diagnostics. */
  available(): number {
    this.refill();
    return this.level;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedMs;
    if (elapsed > 0) {
      this.level = Math.min(this.burst, this.level + (elapsed * this.rate) / 1000);
      this.updatedMs = now;
    }
  }
}

/** A bucket for `--throttle N`, or undefined (no throttle: the zero-overhead path) when N is undefined. */
export function createThrottle(rate: number | undefined, clock?: TimerClock): TokenBucket | undefined {
  return rate === undefined ? undefined : new TokenBucket({ rate, clock });
}

/** Called with each chunk's length as it is handed on (for part-progress events). */
export type ByteCounter = (bytes: number) => void;

/**
 * Wraps a request body: each chunk waits on the bucket, then is counted, then yielded. Returns the
 * source itself when there is neither a bucket nor a counter, so the unthrottled path costs nothing.
 */
export function throttled(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  bucket: TokenBucket | undefined,
  onBytes?: ByteCounter,
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (bucket === undefined && onBytes === undefined) return chunks;
  return (async function* () {
    for await (const chunk of chunks) {
      if (bucket !== undefined) await bucket.take(chunk.byteLength, signal);
      onBytes?.(chunk.byteLength);
      yield chunk;
    }
  })();
}

/**
 * A part's bytes as a request body. Unthrottled and uncounted: the buffer itself (undici sends it in one
 * go). Otherwise slices of about a tenth of a second's worth (1 KiB..64 KiB, no copies) through
 * `throttled`. The caller must set Content-Length, as an iterable body is otherwise sent chunked.
 */
export function partBody(
  data: Uint8Array,
  bucket: TokenBucket | undefined,
  onBytes?: ByteCounter,
  signal?: AbortSignal,
): Uint8Array | AsyncIterable<Uint8Array> {
  if (bucket === undefined && onBytes === undefined) return data;
  const slice =
    bucket === undefined ? 64 * 1024 : Math.min(64 * 1024, Math.max(1024, Math.floor(bucket.rate / 10)));
  return throttled(slices(data, slice), bucket, onBytes, signal) as AsyncIterable<Uint8Array>;
}

function* slices(data: Uint8Array, size: number): Iterable<Uint8Array> {
  for (let off = 0; off < data.byteLength; off += size)
    yield data.subarray(off, Math.min(off + size, data.byteLength));
}

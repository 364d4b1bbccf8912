/**
 * `--throttle`: one token bucket shared by every upload in the process (the classic agent split the rate
 * per thread, with a sign bug; see ua-behavior §1.8). Bytes are charged as a request body hands them to
 * the socket, so no destination knows about throttling.
 *
 * The bucket uses reservations: `take(n)` subtracts n at once (the level may go negative) and waits until
 * the level it left is paid back. Waiters are therefore served in arrival order, one chunk bigger than
 * the burst is fine (it just waits longer), and the long-run rate is exact. The bucket starts empty, so
 * the rate holds from the first byte; idle time refills it up to `burst`, by default a tenth of a
 * second's worth: a bucket that filled for a second while the run greeted and planned let the first
 * second go at twice the limit, and the rate shown with it.
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
  /** Most bytes that may pass at once after an idle time; default DEFAULT_BURST_SEC's worth. */
  burst?: number;
  clock?: TimerClock;
}

/** Seconds of the rate that idle time may save up (see the top of this file). */
export const DEFAULT_BURST_SEC = 0.1;

function defaultBurst(rate: number): number {
  return Math.max(1, Math.ceil(rate * DEFAULT_BURST_SEC));
}

export class TokenBucket {
  #rate: number;
  #burst: number;
  private readonly clock: TimerClock;
  private level = 0;
  private updatedMs: number;

  /** `new TokenBucket(bytesPerSecond)` or with options. */
  constructor(rateOrOptions: number | TokenBucketOptions) {
    const o = typeof rateOrOptions === 'number' ? { rate: rateOrOptions } : rateOrOptions;
    if (!(o.rate > 0) || !Number.isFinite(o.rate))
      throw new RangeError(`throttle rate must be > 0, got ${o.rate}`);
    this.#rate = o.rate;
    this.#burst = Math.max(1, o.burst ?? defaultBurst(o.rate));
    this.clock = o.clock ?? systemTimerClock;
    this.updatedMs = this.clock.now();
  }

  get rate(): number {
    return this.#rate;
  }

  get burst(): number {
    return this.#burst;
  }

  /**
   * Changes the rate from now on (the daemon's --bwlimit timetable); bytes already reserved are paid
   * back at the old rate up to now, and waiters already sleeping keep the wait they computed.
   */
  setRate(rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`throttle rate must be > 0, got ${rate}`);
    this.refill();
    this.#rate = rate;
    this.#burst = defaultBurst(rate);
    this.level = Math.min(this.level, this.#burst);
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
      this.level = Math.min(this.#burst, this.level + (elapsed * this.#rate) / 1000);
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
 * Wraps a request body so each chunk waits on the bucket, then is counted (`onBytes`), then handed on.
 *
 * - With neither a bucket nor a counter it returns `source` itself: the unthrottled path costs nothing.
 * - A Uint8Array (a whole part) is cut, without copying, into slices of about a tenth of a second's
 *   worth (1 KiB..64 KiB) so the rate is smooth; the caller must then set Content-Length, as an
 *   iterable body is otherwise sent chunked.
 * - An iterable is passed through chunk by chunk.
 * Abort rejects the iteration with AbortedError.
 */
export function throttled(
  source: Uint8Array,
  bucket: TokenBucket | undefined,
  signal?: AbortSignal,
  onBytes?: ByteCounter,
): Uint8Array | AsyncIterable<Uint8Array>;
export function throttled(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  bucket: TokenBucket | undefined,
  signal?: AbortSignal,
  onBytes?: ByteCounter,
): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
export function throttled(
  source: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  bucket: TokenBucket | undefined,
  signal?: AbortSignal,
  onBytes?: ByteCounter,
): Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (bucket === undefined && onBytes === undefined) return source;
  const chunks =
    source instanceof Uint8Array
      ? slices(
          source,
          bucket === undefined
            ? 64 * 1024
            : Math.min(64 * 1024, Math.max(1024, Math.floor(bucket.rate / 10))),
        )
      : source;
  return (async function* () {
    for await (const chunk of chunks) {
      if (bucket !== undefined) await bucket.take(chunk.byteLength, signal);
      onBytes?.(chunk.byteLength);
      yield chunk;
    }
  })();
}

function* slices(data: Uint8Array, size: number): Iterable<Uint8Array> {
  for (let off = 0; off < data.byteLength; off += size)
    yield data.subarray(off, Math.min(off + size, data.byteLength));
}

/**
 * Fixed-size part buffers, reused: allocating a fresh 64 MiB buffer per part costs ~30% of the MD5
 * rate on this class of machine (page faults on first touch), and a capped pool is also a hard
 * memory bound. A buffer is allocated only when none is free and fewer than `max` exist; otherwise
 * `acquire` waits, first come first served, for a `release`.
 */
import { AbortedError } from '../errors.js';

interface Waiter {
  resolve(buf: ArrayBuffer): void;
  reject(err: Error): void;
  cleanup(): void;
}

export class BufferPool {
  readonly size: number;
  readonly max: number;
  readonly #free: ArrayBuffer[] = [];
  readonly #waiters: Waiter[] = [];
  #allocated = 0;

  constructor(o: { size: number; max: number }) {
    if (!(o.size >= 0) || !(o.max >= 1))
      throw new RangeError(`bad buffer pool: size ${o.size}, max ${o.max}`);
    this.size = o.size;
    this.max = Math.floor(o.max);
  }

  /** Buffers that exist now (free or lent out). */
  get allocated(): number {
    return this.#allocated;
  }

  get free(): number {
    return this.#free.length;
  }

  acquire(signal?: AbortSignal): Promise<ArrayBuffer> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const buf = this.#free.pop();
    if (buf) return Promise.resolve(buf);
    if (this.#allocated < this.max) {
      this.#allocated++;
      return Promise.resolve(new ArrayBuffer(this.size));
    }
    return new Promise<ArrayBuffer>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new AbortedError());
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Gives a buffer back. A detached buffer (moved to a worker that never returned it) counts as lost,
   * so a new one may be allocated in its place.
   */
  release(buf: ArrayBuffer): void {
    if (buf.byteLength === 0 && this.size !== 0) {
      this.#allocated--;
      const w = this.#waiters.shift();
      if (w) {
        this.#allocated++;
        w.cleanup();
        w.resolve(new ArrayBuffer(this.size));
      }
      return;
    }
    if (buf.byteLength !== this.size)
      throw new RangeError(
        `buffer of ${buf.byteLength} bytes released to a pool of ${this.size}-byte buffers`,
      );
    const w = this.#waiters.shift();
    if (w) {
      w.cleanup();
      w.resolve(buf);
    } else this.#free.push(buf);
  }

  /** Drops the free buffers (lent ones are still counted until released). */
  clear(): void {
    this.#allocated -= this.#free.length;
    this.#free.length = 0;
  }
}

/**
 * A byte budget bounding the memory held by parts in flight. Waiters are served strictly first come,
 * first served, so a large part is never starved by a stream of small ones. A request larger than
 * the whole budget is admitted alone once nothing else is held, instead of deadlocking.
 */
import { AbortedError } from '../errors.js';

interface Waiter {
  n: number;
  resolve(): void;
  reject(err: unknown): void;
  detach(): void;
}

export class ByteBudget {
  readonly limit: number;
  #held = 0;
  readonly #queue: Waiter[] = [];

  constructor(limit: number) {
    if (!(limit > 0)) throw new RangeError(`byte budget must be positive, got ${limit}`);
    this.limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  /** Number of acquire calls still waiting. */
  get waiting(): number {
    return this.#queue.length;
  }

  acquire(n: number, signal?: AbortSignal): Promise<void> {
    if (!(n >= 0)) return Promise.reject(new RangeError(`cannot acquire ${n} bytes`));
    if (signal?.aborted) return Promise.reject(new AbortedError());
    if (this.#queue.length === 0 && this.#fits(n)) {
      this.#held += n;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#queue.indexOf(w);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new AbortedError());
        this.#drain(); // the removed waiter may have been blocking smaller ones behind it
      };
      const w: Waiter = { n, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(w);
    });
  }

  release(n: number): void {
    if (n > this.#held) throw new RangeError(`releasing ${n} bytes but only ${this.#held} are held`);
    this.#held -= n;
    this.#drain();
  }

  #fits(n: number): boolean {
    return this.#held + n <= this.limit || this.#held === 0;
  }

  #drain(): void {
    while (this.#queue.length > 0 && this.#fits(this.#queue[0].n)) {
      const w = this.#queue.shift()!;
      w.detach();
      this.#held += w.n;
      w.resolve();
    }
  }
}

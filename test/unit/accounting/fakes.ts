/** Fake time and a capturing stream for the accounting tests: no test here waits on real time. */
import type { TimerClock } from '../../../src/accounting/throttle.js';
import type { IntervalTimers } from '../../../src/accounting/plain-progress.js';

interface Sleeper {
  at: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class FakeClock implements TimerClock {
  private sleepers: Sleeper[] = [];

  constructor(public t = 1_700_000_000_000) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('aborted'));
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(new Error('aborted'));
      };
      const s: Sleeper = {
        at: this.t + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      this.sleepers.push(s);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of pending sleeps. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward, waking sleepers in due order and letting woken code run (and sleep again). */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await settle();
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (next === undefined || next.at > target) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await settle();
    }
    this.t = target;
  }
}

/** Lets pending promise callbacks run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export class FakeIntervals implements IntervalTimers {
  private next = 1;
  readonly active = new Map<number, { fn: () => void; ms: number }>();

  setInterval(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.active.set(id, { fn, ms });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.active.delete(handle as number);
  }

  /** Fires every active interval once. */
  fire(): void {
    for (const { fn } of [...this.active.values()]) fn();
  }
}

/** Collects what is written; `isTTY`/`columns` make it look like a terminal when asked. */
export class CaptureStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY = false,
    readonly columns = 160,
  ) {}

  write(chunk: string | Uint8Array, cb?: unknown): boolean {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (typeof cb === 'function') (cb as () => void)();
    return true;
  }

  get text(): string {
    return this.chunks.join('');
  }

  lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }

  /** The text without ANSI escape sequences. */
  get plain(): string {
    // eslint-disable-next-line no-control-regex
    return this.text.replace(/\x1B\[[0-9;?]*[A-Za-z]|\x1B[78]/g, '');
  }
}

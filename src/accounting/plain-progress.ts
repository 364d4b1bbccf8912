/**
 * `--progress` when stderr is not a terminal (cron logs, CI): a classic-like round of lines at the first
 * event, every `intervalMs` (default 10 s, like the classic agent), and once at the end:
 *
 *   <local1>  50.00% complete, <local2> 100.00% complete
 *   1700000000 PID 4242 Transfer speed: average =  12.34 MB/sec  instantaneous =  15.00 MB/sec
 *    (throttled to 3145728 bytes/sec)
 *
 * Unlike the classic agent, which listed every file of the run on every round, a round lists only the
 * files active now or finished since the previous round, at most `maxFiles` of them ("… and N more"),
 * so lines stay bounded with thousands of files. "MB" is 2^20 bytes, as in the classic agent.
 */
import type { EventSink, UaEvent } from './events.js';
import { type Clock, systemClock } from './rate-window.js';
import { MIB, type TransferStats } from './stats.js';

export interface WritableText {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Interval timers, injectable so tests drive rounds without waiting. */
export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemIntervals: IntervalTimers = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref(); // progress must never keep the process alive
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface PlainProgressOptions {
  /** Read-only here: the caller records events into it before this renderer sees them. */
  stats: TransferStats;
  stream?: WritableText;
  intervalMs?: number;
  /** Epoch clock: the speed line prints Unix seconds. */
  clock?: Clock;
  timers?: IntervalTimers;
  pid?: number;
  /** `--throttle` in bytes/s, for the third line. */
  throttle?: number;
  /** Most files named per round. */
  maxFiles?: number;
}

export class PlainProgress {
  readonly sink: EventSink = (e) => this.onEvent(e);
  private readonly stats: TransferStats;
  private readonly stream: WritableText;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly timers: IntervalTimers;
  private readonly pid: number;
  private readonly throttle?: number;
  private readonly maxFiles: number;
  private timer: unknown;
  private started = false;
  private finished = false;
  /** Files that finished since the last round, so their 100% (or failure) is shown once. */
  private finishedSinceRound = new Set<number>();

  constructor(o: PlainProgressOptions) {
    this.stats = o.stats;
    this.stream = o.stream ?? process.stderr;
    this.intervalMs = o.intervalMs ?? 10_000;
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? systemIntervals;
    this.pid = o.pid ?? process.pid;
    this.throttle = o.throttle;
    this.maxFiles = o.maxFiles ?? 10;
  }

  /** Writes a line that is not progress (kept for symmetry with TtyProgress, which must buffer). */
  log(line: string): void {
    this.stream.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Prints the last round (once) and stops the timer. Idempotent. */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    if (this.started) this.round();
  }

  /** Prints one round now. */
  round(): void {
    for (const line of this.roundLines()) this.stream.write(`${line}\n`);
  }

  /** The lines of one round (without newlines); clears the finished-since-last-round set. */
  roundLines(): string[] {
    const now = this.clock.now();
    const lines: string[] = [];
    const shown = new Set<number>(this.finishedSinceRound);
    for (const f of this.stats.activeFiles()) shown.add(f.order);
    this.finishedSinceRound.clear();
    const orders = [...shown].sort((a, b) => a - b);
    if (orders.length > 0) {
      const parts = orders.slice(0, this.maxFiles).map((order) => this.fileText(order));
      if (orders.length > this.maxFiles) parts.push(`… and ${orders.length - this.maxFiles} more`);
      lines.push(parts.join(', '));
    }
    const avg = this.stats.averageRate(now) / MIB;
    const inst = this.stats.instantaneousRate(now) / MIB;
    lines.push(
      `${Math.floor(now / 1000)} PID ${this.pid} Transfer speed: average = ${fixed(avg)} MB/sec  instantaneous = ${fixed(inst)} MB/sec`,
    );
    if (this.throttle !== undefined) lines.push(` (throttled to ${this.throttle} bytes/sec)`);
    return lines;
  }

  private fileText(order: number): string {
    const f = this.stats.file(order);
    const name = f?.localPath ?? `#${order}`;
    const pct = `${fixed(this.stats.fileFraction(order) * 100)}% complete`;
    return f?.outcome === 'failed' ? `${name} ${pct} (failed)` : `${name} ${pct}`;
  }

  private onEvent(e: UaEvent): void {
    if (this.finished) return;
    if (!this.started) {
      this.started = true;
      this.round();
      this.timer = this.timers.setInterval(() => this.round(), this.intervalMs);
    }
    if (e.type === 'file-done') this.finishedSinceRound.add(e.order);
    if (e.type === 'summary') this.stop();
  }
}

/** The classic `%6.2f`. */
function fixed(n: number): string {
  return n.toFixed(2).padStart(6);
}

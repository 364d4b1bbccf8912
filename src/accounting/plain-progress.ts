/**
 * `--progress` when stderr is not a terminal (cron mail, CI logs, `2>>upload.log`): lines that read
 * well in a log, each starting with the local time in ISO 8601 with its offset:
 *
 *   2026-12-02T07:08:09+01:00 start run1/reads_1.fq (1.20 GiB)
 *   2026-12-02T07:08:19+01:00 12/50 files, 1.20 GiB/2.90 GiB (41.4%), 10.0 MiB/s, ETA 2:51
 *   2026-12-02T07:08:20+01:00 done run1/reads_1.fq file-… (1.20 GiB in 2m03s)
 *   2026-12-02T07:08:21+01:00 failed run1/reads_2.fq
 *
 * One summary line every `intervalMs` (default 10 s, the classic agent's period) and one at the end,
 * never longer than SUMMARY_MAX characters whatever the file count; a line per file only when it
 * starts, finishes or fails (why it failed is the `File "…" could not be uploaded.` line).
 *
 * This replaces the classic agent's round (every file's percentage on one line, then a
 * `<epoch> PID n Transfer speed: average = … MB/sec` line), which reached hundreds of characters
 * with 50 files and printed Unix seconds.
 */
import type { EventSink, UaEvent } from './events.js';
import { formatBytes, formatDuration, formatEta, formatRate, isoLocal } from './format.js';
import { type Clock, systemClock } from './rate-window.js';
import type { TransferStats } from './stats.js';

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

/** The longest a summary line gets, timestamp included. */
export const SUMMARY_MAX = 120;

export interface PlainProgressOptions {
  /** Read-only here: the caller records events into it before this renderer sees them. */
  stats: TransferStats;
  stream?: WritableText;
  intervalMs?: number;
  /** Epoch clock: lines print local wall time. */
  clock?: Clock;
  timers?: IntervalTimers;
  /** `--throttle` in bytes/s, shown on the summary line. */
  throttle?: number;
}

export class PlainProgress {
  readonly sink: EventSink = (e) => this.onEvent(e);
  private readonly stats: TransferStats;
  private readonly stream: WritableText;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly timers: IntervalTimers;
  private readonly throttle?: number;
  private timer: unknown;
  private started = false;
  private finished = false;

  constructor(o: PlainProgressOptions) {
    this.stats = o.stats;
    this.stream = o.stream ?? process.stderr;
    this.intervalMs = o.intervalMs ?? 10_000;
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? systemIntervals;
    this.throttle = o.throttle;
  }

  /** Writes a line that is not progress (kept for symmetry with TtyProgress, which must place it). */
  log(line: string): void {
    this.stream.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Prints the last summary line (once) and stops the timer. Idempotent. */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    if (this.started) this.round();
  }

  /** Prints one summary line now. */
  round(): void {
    this.stream.write(`${this.summaryLine()}\n`);
  }

  /** `<time> 12/50 files, 1.20 GiB/2.90 GiB (41.4%), 10.0 MiB/s, ETA 2:51[, 1 failed][, limit …]`. */
  summaryLine(): string {
    const now = this.clock.now();
    const o = this.stats.overall(now);
    let line =
      `${isoLocal(now)} ${o.filesDone}/${o.files} files, ` +
      `${formatBytes(o.doneBytes)}/${formatBytes(o.totalBytes)} (${(o.fraction * 100).toFixed(1)}%), ` +
      `${formatRate(o.rate)}, ETA ${formatEta(o.etaSec)}`;
    if (o.filesFailed > 0) line += `, ${o.filesFailed} failed`;
    const limit = this.throttle === undefined ? '' : `, limit ${formatRate(this.throttle)}`;
    if (line.length + limit.length <= SUMMARY_MAX) line += limit;
    return line.slice(0, SUMMARY_MAX);
  }

  private fileLine(e: UaEvent): string | undefined {
    const t = isoLocal(this.clock.now());
    if (e.type === 'file-start') {
      if (e.doneBytes >= e.size && e.resumed) return undefined; // already closed: its done line says so
      const resume =
        e.resumed && e.size > 0 ? `, resuming at ${((e.doneBytes / e.size) * 100).toFixed(0)}%` : '';
      return `${t} start ${e.localPath} (${formatBytes(e.size)}${resume})`;
    }
    if (e.type === 'file-done') {
      if (e.outcome === 'failed') return `${t} failed ${e.localPath}`;
      if (e.outcome === 'already-closed') return `${t} done ${e.localPath} ${e.fileId} (already uploaded)`;
      const f = this.stats.file(e.order);
      const took = f?.endedMs !== undefined ? ` in ${formatDuration(f.endedMs - f.startedMs)}` : '';
      return `${t} done ${e.localPath} ${e.fileId} (${formatBytes(e.bytes)}${took})`;
    }
    return undefined;
  }

  private onEvent(e: UaEvent): void {
    if (this.finished) return;
    if (!this.started) {
      this.started = true;
      this.timer = this.timers.setInterval(() => this.round(), this.intervalMs);
    }
    const line = this.fileLine(e);
    if (line !== undefined) this.stream.write(`${line}\n`);
    if (e.type === 'summary') this.stop();
  }
}

/**
 * `--progress` on a terminal: cli-progress bars on stderr, an overall bar plus one bar per active file
 * (at most `maxBars`; the rest wait and are counted on the overall bar). A finished file's bar is
 * removed. Lines are built at draw time from TransferStats, and cli-progress redraws at most `fps`
 * times a second and only when a line changed, so events cost nothing but a counter update.
 *
 * No cursor hiding, no line-wrap switching and no SIGINT hook: a crash or Ctrl-C leaves the terminal as
 * it was (cli-progress's `gracefulExit` would swallow the first SIGINT). Call `stop()` at the end; until
 * then cli-progress's redraw timer keeps the process alive.
 */
import cliProgress from 'cli-progress';
import type { EventSink, UaEvent } from './events.js';
import { formatBytes, formatEta, formatRate } from './format.js';
import type { WritableText } from './plain-progress.js';
import { type Clock, systemClock } from './rate-window.js';
import type { TransferStats } from './stats.js';

export interface TtyProgressOptions {
  /** Read-only here: the caller records events into it before this renderer sees them. */
  stats: TransferStats;
  /** Must be a TTY (cli-progress draws nothing otherwise). */
  stream?: WritableText;
  maxBars?: number;
  fps?: number;
  clock?: Clock;
  /** Width of the bar itself, in characters. */
  barWidth?: number;
}

interface Payload {
  line: () => string;
}

export class TtyProgress {
  readonly sink: EventSink = (e) => this.onEvent(e);
  private readonly stats: TransferStats;
  private readonly clock: Clock;
  private readonly maxBars: number;
  private readonly barWidth: number;
  private readonly stream: WritableText;
  private readonly multi: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private readonly bars = new Map<number, cliProgress.SingleBar>();
  /** Active files without a bar yet, in start order. */
  private readonly waiting: number[] = [];
  private stopped = false;

  constructor(o: TtyProgressOptions) {
    this.stats = o.stats;
    this.clock = o.clock ?? systemClock;
    this.maxBars = o.maxBars ?? 8;
    this.barWidth = o.barWidth ?? 20;
    this.stream = o.stream ?? process.stderr;
    this.multi = new cliProgress.MultiBar({
      stream: this.stream as NodeJS.WritableStream,
      fps: o.fps ?? 5,
      // Lines are composed here; cli-progress only positions them and skips unchanged ones.
      format: (_opts: unknown, _params: unknown, payload: Payload) => payload.line(),
      linewrap: true, // truncate to the terminal width instead of switching wrapping off
      hideCursor: false,
      gracefulExit: false,
      clearOnComplete: false,
      autopadding: false,
    } as cliProgress.Options);
  }

  /** Prints a line above the bars (at the next redraw), so it does not tear them. */
  log(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    if (this.stopped || this.overall === undefined) this.stream.write(text);
    else this.multi.log(text);
  }

  /** Redraws now (tests; normally the cli-progress timer does it). */
  render(): void {
    if (!this.stopped && this.overall !== undefined) this.multi.update();
  }

  /** Draws the final state and releases the terminal. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.stop();
  }

  private onEvent(e: UaEvent): void {
    if (this.stopped) return;
    this.overall ??= this.multi.create(1, 0, { line: () => this.overallLine() } satisfies Payload);
    switch (e.type) {
      case 'file-start':
        if (this.bars.size < this.maxBars) this.addBar(e.order);
        else this.waiting.push(e.order);
        return;
      case 'file-done': {
        const bar = this.bars.get(e.order);
        if (bar !== undefined) {
          this.bars.delete(e.order);
          this.multi.remove(bar);
          const next = this.waiting.shift();
          if (next !== undefined) this.addBar(next);
        } else {
          const i = this.waiting.indexOf(e.order);
          if (i >= 0) this.waiting.splice(i, 1);
        }
        return;
      }
      case 'summary':
        this.stop();
        return;
      default:
        return;
    }
  }

  private addBar(order: number): void {
    this.bars.set(order, this.multi.create(1, 0, { line: () => this.fileLine(order) } satisfies Payload));
  }

  private overallLine(): string {
    const now = this.clock.now();
    const o = this.stats.overall(now);
    const more = this.waiting.length > 0 ? `, ${this.waiting.length} more active` : '';
    return (
      `${fit('Total', 28)} ${this.bar(o.fraction)} ${pct(o.fraction)} ` +
      `${formatBytes(o.doneBytes)}/${formatBytes(o.totalBytes)}  ${formatRate(o.rate)}  ETA ${formatEta(o.etaSec)}` +
      `  ${o.filesDone}/${o.files} files${more}`
    );
  }

  private fileLine(order: number): string {
    const f = this.stats.file(order);
    if (f === undefined) return '';
    const now = this.clock.now();
    const fraction = this.stats.fileLiveFraction(order);
    const done = Math.round(fraction * f.size);
    return (
      `${fit(f.localPath, 28)} ${this.bar(fraction)} ${pct(fraction)} ` +
      `${formatBytes(done)}/${formatBytes(f.size)}  ${formatRate(this.stats.fileRate(order, now))}` +
      `  ETA ${formatEta(this.stats.fileEtaSec(order, now))}`
    );
  }

  private bar(fraction: number): string {
    const full = Math.round(fraction * this.barWidth);
    return `[${'='.repeat(full)}${'-'.repeat(this.barWidth - full)}]`;
  }
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1).padStart(5)}%`;
}

/** Pads or shortens a name to `width`, keeping its end (the file name is the informative part). */
function fit(name: string, width: number): string {
  if (name.length <= width) return name.padEnd(width);
  return `…${name.slice(name.length - width + 1)}`;
}

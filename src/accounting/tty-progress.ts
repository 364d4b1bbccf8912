/**
 * `--progress` on a terminal: a block at the bottom of stderr, redrawn in place a few times a second:
 * the overall line, one line per active file (at most `maxBars`, and never more than the screen has
 * rows for), and `+K more` for the active files without one. Messages (`log`) are printed above the
 * block, which then moves down.
 *
 * Drawn here rather than with cli-progress: that library redraws only the bars whose text changed, so
 * after a message or a resize unchanged bars were left at stale rows, and it cuts lines at exactly the
 * width, where terminals differ on wrapping. Every frame here is one write: cursor up to the block's
 * top, each line followed by erase-to-end-of-line, then erase below. Each line is at most width − 1
 * characters (tty-layout.ts), so the terminal never wraps one.
 *
 * On a resize (Node's 'resize' event, which it emits on SIGWINCH after refreshing `columns`) the whole
 * block is redrawn at once. When the terminal got narrower, terminals that reflow (tmux, VTE, iTerm2,
 * kitty, Windows Terminal) have re-wrapped the old lines onto more rows, so the cursor goes up by the
 * rows those lines now take. The listener is removed by `stop()`.
 *
 * No cursor hiding and no SIGINT hook: a crash or Ctrl-C leaves the terminal as it was. The redraw
 * timer is unref'd: progress never keeps the process alive.
 */
import type { EventSink, UaEvent } from './events.js';
import { type IntervalTimers, systemIntervals, type WritableText } from './plain-progress.js';
import { type Clock, systemClock } from './rate-window.js';
import type { TransferStats } from './stats.js';
import { clip, fileLine, moreLine, overallLine } from './tty-layout.js';

export interface TtyStream extends WritableText {
  rows?: number;
  on?(event: 'resize', fn: () => void): unknown;
  off?(event: 'resize', fn: () => void): unknown;
}

export interface TtyProgressOptions {
  /** Read-only here: the caller records events into it before this renderer sees them. */
  stats: TransferStats;
  /** A terminal (its `columns` and `rows` are read at each frame). */
  stream?: TtyStream;
  /** Most file lines (default 8); fewer when the screen is short. */
  maxBars?: number;
  /** Frames per second (default 5). */
  fps?: number;
  clock?: Clock;
  timers?: IntervalTimers;
}

const ESC = '\x1b[';
const ERASE_LINE = `${ESC}K`;
const ERASE_BELOW = `${ESC}J`;

export class TtyProgress {
  readonly sink: EventSink = (e) => this.onEvent(e);
  private readonly stats: TransferStats;
  private readonly clock: Clock;
  private readonly maxBars: number;
  private readonly stream: TtyStream;
  private readonly timers: IntervalTimers;
  private readonly fps: number;
  private timer: unknown;
  /** Active files in the order they started; the first ones get a line. */
  private readonly active: number[] = [];
  /** Messages waiting for the next frame, printed above the block. */
  private readonly pending: string[] = [];
  /** The block as last drawn (rows the cursor goes up over), and the width it was drawn at. */
  private drawn: string[] = [];
  private drawnWidth = 0;
  private started = false;
  private stopped = false;
  private readonly onResize = (): void => this.resize();

  constructor(o: TtyProgressOptions) {
    this.stats = o.stats;
    this.clock = o.clock ?? systemClock;
    this.maxBars = o.maxBars ?? 8;
    this.stream = o.stream ?? process.stderr;
    this.timers = o.timers ?? systemIntervals;
    this.fps = o.fps ?? 5;
  }

  /** Prints a line above the block (at once: messages are rare and should not wait for a frame). */
  log(line: string): void {
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (this.stopped || !this.started) {
      this.stream.write(`${text}\n`);
      return;
    }
    this.pending.push(...text.split('\n'));
    this.render();
  }

  /** Draws a frame now (the timer does it `fps` times a second). */
  render(): void {
    if (this.stopped || !this.started) return;
    this.frame();
  }

  /** Draws the final state, leaves the cursor under it and stops listening. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    if (this.started) this.frame();
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    this.stream.off?.('resize', this.onResize);
  }

  /** The block's lines for the current state at `width` columns (exported for tests through render). */
  lines(width = this.width()): string[] {
    const now = this.clock.now();
    const o = this.stats.overall(now);
    const usable = Math.max(1, width - 1);
    const out = [overallLine(o, usable)];
    const rows = this.stream.rows;
    // Leave a row for the cursor and one for a message, so the block never scrolls off the top.
    const room = rows !== undefined && rows > 0 ? Math.max(0, rows - 3) : this.maxBars + 1;
    let bars = Math.min(this.maxBars, this.active.length, room);
    if (bars < this.active.length && bars === room) bars = Math.max(0, room - 1); // room for "+K more"
    const shown = this.active.slice(0, bars);
    const nameWidth = Math.max(0, ...shown.map((order) => this.stats.file(order)?.localPath.length ?? 0));
    for (const order of shown) {
      const f = this.stats.file(order);
      if (f === undefined) continue;
      const fraction = this.stats.fileLiveFraction(order);
      out.push(
        fileLine(
          {
            name: f.localPath,
            fraction,
            doneBytes: Math.round(fraction * f.size),
            size: f.size,
            rate: this.stats.fileRate(order, now),
            etaSec: this.stats.fileEtaSec(order, now),
          },
          usable,
          nameWidth,
        ),
      );
    }
    if (this.active.length > shown.length) out.push(moreLine(this.active.length - shown.length, usable));
    return out;
  }

  private width(): number {
    const c = this.stream.columns;
    return c !== undefined && c > 0 ? c : 80;
  }

  private onEvent(e: UaEvent): void {
    if (this.stopped) return;
    if (!this.started) this.start();
    if (e.type === 'file-start') this.active.push(e.order);
    else if (e.type === 'file-done') {
      const i = this.active.indexOf(e.order);
      if (i >= 0) this.active.splice(i, 1);
    } else if (e.type === 'summary') this.stop();
  }

  private start(): void {
    this.started = true;
    this.drawnWidth = this.width();
    this.stream.on?.('resize', this.onResize);
    this.timer = this.timers.setInterval(() => this.render(), Math.max(50, Math.round(1000 / this.fps)));
  }

  /** The terminal changed size: redraw everything, from where the old block's top now is. */
  private resize(): void {
    if (this.stopped || !this.started) return;
    const width = this.width();
    if (width < this.drawnWidth) {
      // A reflowing terminal re-wrapped each old line onto ceil(length / width) rows.
      this.drawnRows = this.drawn.reduce((n, l) => n + Math.max(1, Math.ceil(l.length / width)), 0);
    }
    this.frame();
  }

  /** Rows the cursor must go up to reach the block's top; normally one per line drawn. */
  private drawnRows = 0;

  private frame(): void {
    const width = this.width();
    const block = this.lines(width);
    let out = this.drawnRows > 0 ? `${ESC}${this.drawnRows}A\r` : '\r';
    for (const m of this.pending) out += `${m}${ERASE_LINE}\n`;
    this.pending.length = 0;
    for (const l of block) out += `${clip(l, Math.max(1, width - 1))}${ERASE_LINE}\n`;
    out += ERASE_BELOW;
    this.stream.write(out);
    this.drawn = block;
    this.drawnRows = block.length;
    this.drawnWidth = width;
  }
}

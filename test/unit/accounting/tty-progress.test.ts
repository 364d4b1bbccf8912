import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { UaEvent } from '../../../src/accounting/events.js';
import { fanOut } from '../../../src/accounting/events.js';
import { TtyProgress } from '../../../src/accounting/tty-progress.js';
import { MIB, TransferStats } from '../../../src/accounting/stats.js';
import { CaptureStream, FakeClock, FakeIntervals } from './fakes.js';

function fileStart(order: number, localPath: string, size: number, doneBytes = 0): UaEvent {
  return {
    type: 'file-start',
    order,
    localPath,
    remoteName: localPath,
    project: 'project-x',
    fileId: `file-${order}`,
    size,
    resumed: doneBytes > 0,
    doneBytes,
  };
}

describe('TtyProgress', () => {
  function ttySetup(columns: number, maxBars = 2) {
    const clock = new FakeClock();
    const stream = new ResizableStream(columns);
    const stats = new TransferStats({ clock });
    const timers = new FakeIntervals();
    const tty = new TtyProgress({ stats, stream, clock, maxBars, timers });
    return { clock, stream, stats, tty, timers, emit: fanOut(stats.sink, tty.sink) };
  }

  it('draws the overall line, up to maxBars file lines and "+K more", and moves finished files out', () => {
    const { clock, stream, tty, emit } = ttySetup(160);
    try {
      emit({ type: 'run-start', files: 4, totalBytes: 10 * MIB });
      emit(fileStart(0, 'big.bin', 4 * MIB));
      emit(fileStart(1, 'small.bin', 2 * MIB));
      emit(fileStart(2, 'waiting.bin', 2 * MIB));
      emit(fileStart(3, 'later.bin', 2 * MIB));
      clock.t += 1000;
      emit({
        type: 'part-done',
        order: 0,
        fileId: 'file-0',
        index: 1,
        rawBytes: 2 * MIB,
        sentBytes: 2 * MIB,
      });
      tty.render();
      let screen = lastFrame(stream);
      expect(screen[0]).toMatch(
        /^Total +\[=+-+\] +20\.0% +2\.00 MiB\/10\.0 MiB +2\.0 MiB\/s +ETA 0:04 +0\/4 files$/,
      );
      expect(screen[1]).toMatch(/^big\.bin +\[=+-+\] +50\.0% +2\.00 MiB\/4\.00 MiB +2\.0 MiB\/s +ETA 0:01$/);
      expect(screen[2]).toMatch(/^small\.bin /);
      expect(screen[3]).toBe('+2 more');
      expect(screen).toHaveLength(4);
      emit({
        type: 'file-done',
        order: 1,
        localPath: 'small.bin',
        fileId: 'file-1',
        outcome: 'uploaded',
        bytes: 2 * MIB,
      });
      tty.render();
      screen = lastFrame(stream);
      expect(screen[2]).toMatch(/^waiting\.bin /); // promoted into the freed line
      expect(screen.join('\n')).not.toContain('small.bin');
      expect(screen[3]).toBe('+1 more');
    } finally {
      tty.stop();
    }
    tty.stop();
  });

  it('prints messages above the block at once, and redraws the block under them', () => {
    const { stream, tty, emit } = ttySetup(100);
    emit({ type: 'run-start', files: 1, totalBytes: 4 });
    emit(fileStart(0, 'x.bin', 4));
    tty.render();
    stream.chunks = [];
    tty.log('Retrying part 1 of "x.bin" in 1.0s: HTTP 503 SlowDown (attempt 1 failed)');
    // Up over the 2 block lines, the message, then the whole block again.
    expect(
      stream.text.startsWith(
        '\x1b[2A\rRetrying part 1 of "x.bin" in 1.0s: HTTP 503 SlowDown (attempt 1 failed)\x1b[K\n',
      ),
    ).toBe(true);
    expect(lastFrame(stream)).toHaveLength(3);
    tty.stop();
  });

  it('never writes a line reaching the last column, and redraws all of it on a resize (listener gone after stop)', () => {
    const { stream, tty, emit, stats } = ttySetup(120, 8);
    emit({ type: 'run-start', files: 20, totalBytes: 20 * 300 * MIB });
    for (let i = 0; i < 20; i++)
      emit(fileStart(i, `run-2026/lane${i}/sample_${i}_R1_001.fastq.gz`, 300 * MIB));
    tty.render();
    const wide = lastFrame(stream);
    expect(wide).toHaveLength(1 + 8 + 1);
    for (const l of wide) expect(l.length).toBeLessThan(120);
    expect(stream.listenerCount('resize')).toBe(1);
    stream.chunks = [];
    stream.resize(50, 30);
    // The old 10 lines of up to 119 characters now take 3 rows each at 50 columns in a reflowing terminal.
    const rows = wide.reduce((n, l) => n + Math.ceil(l.length / 50), 0);
    expect(stream.text.startsWith(`\x1b[${rows}A\r`)).toBe(true);
    expect(stream.text.endsWith('\x1b[J')).toBe(true);
    const narrow = lastFrame(stream);
    expect(narrow).toHaveLength(10);
    for (const l of narrow) expect(l.length).toBeLessThan(50);
    stream.chunks = [];
    stream.resize(50, 6); // a short screen: fewer file lines, never more rows than it has
    expect(lastFrame(stream)).toEqual([
      expect.stringMatching(/^ +0\.0%/),
      expect.any(String),
      expect.any(String),
      '+18 more',
    ]);
    tty.stop();
    expect(stream.listenerCount('resize')).toBe(0);
    expect(stats.overall().filesActive).toBe(20);
  });
});

/** A terminal-like stream: columns and rows, and the 'resize' event Node emits on SIGWINCH. */
class ResizableStream extends CaptureStream {
  private readonly emitter = new EventEmitter();
  rows = 40;
  cols: number;
  constructor(columns: number) {
    super(true, columns);
    this.cols = columns;
    // CaptureStream's `columns` is a fixed own property; a terminal's changes on resize.
    Object.defineProperty(this, 'columns', { get: () => this.cols });
  }
  on(event: 'resize', fn: () => void): this {
    this.emitter.on(event, fn);
    return this;
  }
  off(event: 'resize', fn: () => void): this {
    this.emitter.off(event, fn);
    return this;
  }
  listenerCount(event: string): number {
    return this.emitter.listenerCount(event);
  }
  resize(columns: number, rows: number): void {
    this.cols = columns;
    this.rows = rows;
    this.emitter.emit('resize');
  }
}

/** The block of the last frame: the lines after the last cursor-up, without escapes. */
function lastFrame(stream: CaptureStream): string[] {
  const text = stream.text;
  const from = Math.max(text.lastIndexOf('\x1b[', text.lastIndexOf('A\r')), 0);
  const frame = text.slice(text.indexOf('\r', from) + 1);
  // eslint-disable-next-line no-control-regex
  const escapes = /\x1B\[[0-9;?]*[A-Za-z]/g;
  return frame
    .replace(escapes, '')
    .split('\n')
    .filter((l) => l !== '');
}

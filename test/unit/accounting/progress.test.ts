import { describe, expect, it } from 'vitest';
import type { UaEvent } from '../../../src/accounting/events.js';
import { fanOut } from '../../../src/accounting/events.js';
import { JsonLines, PlainProgress, TtyProgress, createReporting } from '../../../src/accounting/progress.js';
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

function plainSetup(o: { throttle?: number; maxFiles?: number } = {}) {
  const clock = new FakeClock(1_700_000_000_000);
  const timers = new FakeIntervals();
  const stream = new CaptureStream();
  const stats = new TransferStats({ clock });
  const plain = new PlainProgress({ stats, stream, clock, timers, pid: 4242, ...o });
  const emit = fanOut(stats.sink, plain.sink);
  return { clock, timers, stream, stats, plain, emit };
}

describe('PlainProgress', () => {
  it('prints classic rounds at the first event, on each interval and once at the end', () => {
    const { clock, timers, stream, plain, emit } = plainSetup({ throttle: 3145728 });
    emit({ type: 'run-start', files: 2, totalBytes: 4 * MIB });
    expect(stream.lines()).toEqual([
      '1700000000 PID 4242 Transfer speed: average =   0.00 MB/sec  instantaneous =   0.00 MB/sec',
      ' (throttled to 3145728 bytes/sec)',
    ]);
    expect([...timers.active.values()].map((t) => t.ms)).toEqual([10_000]);
    stream.chunks = [];
    emit(fileStart(0, 'a.bin', 2 * MIB));
    emit(fileStart(1, 'b.bin', 2 * MIB, MIB));
    clock.t += 10_000;
    emit({ type: 'part-done', order: 0, fileId: 'file-0', index: 1, rawBytes: MIB, sentBytes: MIB });
    emit({ type: 'part-done', order: 1, fileId: 'file-1', index: 2, rawBytes: MIB, sentBytes: MIB });
    emit({
      type: 'file-done',
      order: 1,
      localPath: 'b.bin',
      fileId: 'file-1',
      outcome: 'resumed',
      bytes: 2 * MIB,
    });
    timers.fire();
    // 2 MiB in 10 s = 0.2 MB/sec (2^20 bytes); the 5 s window saw both MiB too.
    expect(stream.lines()).toEqual([
      'a.bin  50.00% complete, b.bin 100.00% complete',
      '1700000010 PID 4242 Transfer speed: average =   0.20 MB/sec  instantaneous =   0.40 MB/sec',
      ' (throttled to 3145728 bytes/sec)',
    ]);
    stream.chunks = [];
    timers.fire(); // b.bin was shown finished once; it is not repeated
    expect(stream.lines()[0]).toBe('a.bin  50.00% complete');
    stream.chunks = [];
    emit({
      type: 'file-done',
      order: 0,
      localPath: 'a.bin',
      fileId: null,
      outcome: 'failed',
      error: 'x',
      bytes: 2 * MIB,
    });
    emit({
      type: 'summary',
      ok: 1,
      failed: 1,
      resumed: 1,
      skipped: 0,
      rawBytes: 2 * MIB,
      sentBytes: 2 * MIB,
      retries: 0,
      elapsedMs: 10_000,
      mbPerSec: 0.2,
    });
    expect(stream.lines()[0]).toBe('a.bin  50.00% complete (failed)');
    expect(timers.active.size).toBe(0);
    stream.chunks = [];
    plain.stop(); // idempotent: nothing more
    emit({ type: 'warning', message: 'late' });
    expect(stream.text).toBe('');
  });

  it('names at most maxFiles files per round and counts the rest', () => {
    const { stream, emit, plain } = plainSetup({ maxFiles: 10 });
    for (let i = 0; i < 25; i++) emit(fileStart(i, `f${i}`, 10));
    stream.chunks = [];
    plain.round();
    const files = stream.lines()[0];
    expect(files.split(', ')).toHaveLength(11);
    expect(files).toMatch(/^f0 {3}0\.00% complete, f1 /);
    expect(files.endsWith('f9   0.00% complete, … and 15 more')).toBe(true);
  });
});

describe('JsonLines', () => {
  it('writes one parseable JSON object per event, summary included, without part-progress noise', () => {
    const stream = new CaptureStream();
    const clock = new FakeClock(Date.UTC(2024, 0, 2, 3, 4, 5));
    const json = new JsonLines({ stream, clock });
    const events: UaEvent[] = [
      { type: 'run-start', files: 1, totalBytes: 10 },
      fileStart(0, 'dir/ä b.txt', 10),
      { type: 'part-progress', order: 0, index: 1, sentBytes: 5 },
      { type: 'part-done', order: 0, fileId: 'file-0', index: 1, rawBytes: 10, sentBytes: 7 },
      {
        type: 'file-done',
        order: 0,
        localPath: 'dir/ä b.txt',
        fileId: 'file-0',
        outcome: 'uploaded',
        bytes: 10,
      },
      {
        type: 'summary',
        ok: 1,
        failed: 0,
        resumed: 0,
        skipped: 0,
        rawBytes: 10,
        sentBytes: 7,
        retries: 0,
        elapsedMs: 3,
        mbPerSec: 0,
      },
    ];
    for (const e of events) json.sink(e);
    const lines = stream.text.split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = events.filter((e) => e.type !== 'part-progress');
    expect(parsed).toEqual(expected.map((e) => ({ ...e, time: '2024-01-02T03:04:05.000Z' })));
    expect(lines[0].startsWith('{"type":"run-start","time":')).toBe(true);
  });

  it('scrubs things that look like credentials from free text', () => {
    const stream = new CaptureStream();
    const json = new JsonLines({ stream });
    json.sink({
      type: 'file-done',
      order: 0,
      localPath: 'a',
      fileId: null,
      outcome: 'failed',
      bytes: 1,
      error:
        'PUT https://h/upload/x?expires=9&signature=abcdef123 failed; Authorization: Bearer tok-SECRET-1',
    });
    json.sink({
      type: 'api-retry',
      route: 'file/new',
      attempt: 1,
      delayMs: 1,
      reason: '{"authToken":"tok-SECRET-2"}',
    });
    expect(stream.text).not.toMatch(/SECRET|abcdef123/);
    expect(stream.text).toContain('expires=9&signature=<redacted>');
  });
});

describe('TtyProgress', () => {
  it('draws an overall bar and one bar per active file into a terminal, and removes finished ones', () => {
    const clock = new FakeClock();
    const stream = new CaptureStream(true, 160);
    const stats = new TransferStats({ clock });
    const tty = new TtyProgress({ stats, stream, clock, maxBars: 2 });
    const emit = fanOut(stats.sink, tty.sink);
    try {
      emit({ type: 'run-start', files: 3, totalBytes: 8 * MIB });
      emit(fileStart(0, 'big.bin', 4 * MIB));
      emit(fileStart(1, 'small.bin', 2 * MIB));
      emit(fileStart(2, 'waiting.bin', 2 * MIB));
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
      let screen = stream.plain;
      expect(screen).toMatch(/big\.bin +\[=+-+\] +50\.0% 2\.00 MiB\/4\.00 MiB +2\.0 MiB\/s +ETA 0:01/);
      expect(screen).toContain('small.bin');
      expect(screen).not.toContain('waiting.bin'); // only maxBars file bars
      expect(screen).toMatch(/Total +\[=+-+\] +25\.0% .*0\/3 files, 1 more active/);
      stream.chunks = [];
      emit({
        type: 'file-done',
        order: 1,
        localPath: 'small.bin',
        fileId: 'file-1',
        outcome: 'uploaded',
        bytes: 2 * MIB,
      });
      tty.render();
      screen = stream.plain;
      expect(screen).toContain('waiting.bin'); // promoted into the freed slot
      expect(screen).not.toContain('small.bin');
      tty.log('Uploading file x to file object file-x');
      tty.render();
      expect(stream.plain).toContain('Uploading file x to file object file-x\n');
    } finally {
      tty.stop();
    }
    tty.stop();
  });
});

describe('createReporting', () => {
  it('uses plain lines off a terminal, feeds the stats first, and sends JSON to stdout', () => {
    const stderr = new CaptureStream(false);
    const stdout = new CaptureStream(false);
    const timers = new FakeIntervals();
    const clock = new FakeClock();
    const r = createReporting({ progress: true, json: true, stderr, stdout, timers, clock, throttle: 8192 });
    r.sink({ type: 'run-start', files: 1, totalBytes: 4 });
    r.sink(fileStart(0, 'x.txt', 4));
    r.sink({ type: 'part-done', order: 0, fileId: 'file-0', index: 1, rawBytes: 2, sentBytes: 2 });
    r.log('hello');
    r.stop();
    expect(r.stats.fileFraction(0)).toBe(0.5);
    expect(stderr.text).toContain('x.txt  50.00% complete');
    expect(stderr.text).toContain(' (throttled to 8192 bytes/sec)');
    expect(stderr.text).toContain('hello\n');
    expect(stdout.lines().map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      'run-start',
      'file-start',
      'part-done',
    ]);
  });

  it('uses bars on a terminal and writes nothing for humans to stdout', () => {
    const stderr = new CaptureStream(true);
    const stdout = new CaptureStream(false);
    const r = createReporting({ progress: true, json: false, stderr, stdout, clock: new FakeClock() });
    r.sink({ type: 'run-start', files: 1, totalBytes: 4 });
    r.sink(fileStart(0, 'tty.txt', 4));
    r.stop();
    expect(stderr.plain).toContain('tty.txt');
    expect(stdout.text).toBe('');
  });
});

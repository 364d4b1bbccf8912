import { describe, expect, it } from 'vitest';
import type { UaEvent } from '../../../src/accounting/events.js';
import { fanOut } from '../../../src/accounting/events.js';
import { JsonLines, PlainProgress, createReporting } from '../../../src/accounting/progress.js';
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

function plainSetup(o: { throttle?: number } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 11, 2, 6, 7, 8));
  const timers = new FakeIntervals();
  const stream = new CaptureStream();
  const stats = new TransferStats({ clock });
  const plain = new PlainProgress({ stats, stream, clock, timers, ...o });
  const emit = fanOut(stats.sink, plain.sink);
  return { clock, timers, stream, stats, plain, emit };
}

/** Local ISO time with offset, to the second: what every plain line starts with. */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d /;

const summaryEvent: UaEvent = {
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
};

describe('PlainProgress (cron, issue 14.6)', () => {
  it('prints a summary line per interval and at the end, and file lines only on start, finish and failure', () => {
    const { clock, timers, stream, plain, emit } = plainSetup({ throttle: 3145728 });
    emit({ type: 'run-start', files: 2, totalBytes: 4 * MIB });
    expect(stream.text).toBe('');
    expect([...timers.active.values()].map((t) => t.ms)).toEqual([10_000]);
    emit(fileStart(0, 'a.bin', 2 * MIB));
    emit(fileStart(1, 'b.bin', 2 * MIB, MIB));
    clock.t += 10_000;
    emit({ type: 'part-done', order: 0, fileId: 'file-0', index: 1, rawBytes: MIB, sentBytes: MIB });
    emit({ type: 'part-progress', order: 1, index: 2, sentBytes: MIB / 2 });
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
    const lines = stream.lines();
    for (const l of lines) expect(l).toMatch(ISO);
    expect(lines.map((l) => l.replace(ISO, ''))).toEqual([
      'start a.bin (2.00 MiB)',
      'start b.bin (2.00 MiB, resuming at 50%)',
      'done b.bin file-1 (2.00 MiB in 10.0s)',
      // 3 of 4 MiB; 2 MiB moved in 10 s (no sample in between: read as a steady flow)
      '1/2 files, 3.00 MiB/4.00 MiB (75.0%), 0.2 MiB/s, ETA 0:05, limit 3.0 MiB/s',
    ]);
    stream.chunks = [];
    emit({ type: 'part-progress', order: 0, index: 2, sentBytes: 1000 }); // progress alone prints nothing
    expect(stream.text).toBe('');
    emit({
      type: 'file-done',
      order: 0,
      localPath: 'a.bin',
      fileId: null,
      outcome: 'failed',
      error: 'x',
      bytes: 2 * MIB,
    });
    emit(summaryEvent);
    expect(stream.lines().map((l) => l.replace(ISO, ''))).toEqual([
      'failed a.bin',
      // the failed file's unsent bytes leave the target: all that can be done is done
      '2/2 files, 3.00 MiB/4.00 MiB (100.0%), 0.2 MiB/s, ETA 0:00, 1 failed, limit 3.0 MiB/s',
    ]);
    expect(timers.active.size).toBe(0);
    stream.chunks = [];
    plain.stop(); // idempotent: nothing more
    emit({ type: 'warning', message: 'late' });
    expect(stream.text).toBe('');
  });

  it('keeps the summary line within 120 characters with 50 files, and with the widest numbers', () => {
    const { clock, stream, plain, emit } = plainSetup({ throttle: 1023 * MIB });
    emit({ type: 'run-start', files: 50, totalBytes: 50 * 300 * MIB });
    for (let i = 0; i < 50; i++) emit(fileStart(i, `run-2026-12-01/sample_${i}_R1_001.fastq.gz`, 300 * MIB));
    for (let i = 0; i < 50; i++) {
      clock.t += 100;
      emit({ type: 'part-progress', order: i, index: 1, sentBytes: 40 * MIB });
    }
    stream.chunks = [];
    plain.round();
    const [line] = stream.lines();
    expect(stream.lines()).toHaveLength(1);
    expect(line.length).toBeLessThanOrEqual(120);
    expect(line.replace(ISO, '')).toMatch(
      /^0\/50 files, 1\.95 GiB\/14\.6 GiB \(13\.3%\), [\d.]+ MiB\/s, ETA \d+:\d\d/,
    );
    // A thousand files, hundreds failed, a tebibyte and days to go still fit.
    const wide = plainSetup({ throttle: 1023 * MIB });
    wide.emit({ type: 'run-start', files: 1000, totalBytes: 1023 * 1024 * 1024 * MIB });
    for (let i = 0; i < 999; i++)
      wide.emit({
        type: 'file-done',
        order: i,
        localPath: `f${i}`,
        fileId: null,
        outcome: 'failed',
        bytes: 1,
      });
    wide.emit(fileStart(999, 'slow', 1023 * 1024 * 1024 * MIB));
    wide.clock.t += 1000;
    wide.emit({ type: 'part-progress', order: 999, index: 1, sentBytes: 1024 });
    expect(wide.plain.summaryLine().length).toBeLessThanOrEqual(120);
  });

  it('prints local time with the offset of the zone it runs in', () => {
    const { clock, plain } = plainSetup();
    const t = new Date(clock.t);
    const off = -t.getTimezoneOffset();
    const sign = off < 0 ? '-' : '+';
    const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
    const mm = String(Math.abs(off) % 60).padStart(2, '0');
    const local = new Date(clock.t + off * 60_000).toISOString().slice(0, 19);
    expect(plain.summaryLine().startsWith(`${local}${sign}${hh}:${mm} `)).toBe(true);
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
    expect(stderr.text).toMatch(/ start x\.txt \(4 B\)\n/);
    expect(stderr.text).toMatch(/ 0\/1 files, 2 B\/4 B \(50\.0%\), .*, limit 0\.0 MiB\/s\n/);
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

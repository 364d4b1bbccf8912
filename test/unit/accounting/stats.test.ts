import { describe, expect, it } from 'vitest';
import { RateWindow } from '../../../src/accounting/rate-window.js';
import { MIB, TransferStats } from '../../../src/accounting/stats.js';
import { FakeClock } from './fakes.js';

describe('RateWindow', () => {
  it('measures a steady rate over the last window and drops to 0 when nothing moves', () => {
    const w = new RateWindow(0, 5000);
    let total = 0;
    for (let t = 100; t <= 10_000; t += 100) {
      total += MIB / 10; // 1 MiB/s
      w.add(t, total);
    }
    expect(w.rate(10_000)).toBeCloseTo(MIB, -3);
    // Speed doubles for the last 5 s: the window forgets the slow part.
    for (let t = 10_100; t <= 15_000; t += 100) {
      total += MIB / 5;
      w.add(t, total);
    }
    expect(w.rate(15_000)).toBeCloseTo(2 * MIB, -3);
    expect(w.rate(20_001)).toBe(0);
  });

  it('divides a young window by its age (at least minSpan), not by the full window', () => {
    const w = new RateWindow(0, 5000, 100, 500);
    w.add(1000, 2 * MIB);
    expect(w.rate(1000)).toBe(2 * MIB);
    const burst = new RateWindow(0, 5000, 100, 500);
    burst.add(10, MIB);
    expect(burst.rate(10)).toBe(2 * MIB); // 1 MiB over the 500 ms floor, not over 10 ms
  });

  it('keeps memory bounded under a flood of samples', () => {
    const w = new RateWindow(0, 5000, 100);
    for (let i = 1; i <= 100_000; i++) w.add(i, i * 10); // one sample per ms
    const samples = (w as unknown as { samples: unknown[] }).samples.length;
    expect(samples).toBeLessThanOrEqual(5000 / 100 + 3);
    expect(w.rate(100_000)).toBeCloseTo(10_000, -3);
  });
});

function startRun(clock: FakeClock): TransferStats {
  const s = new TransferStats({ clock });
  s.record({ type: 'run-start', files: 3, totalBytes: 4 * MIB });
  return s;
}

describe('TransferStats', () => {
  it('tracks per-file classic percentages including resumed bytes, and the overall fraction', () => {
    const clock = new FakeClock();
    const s = startRun(clock);
    s.record({
      type: 'file-start',
      order: 0,
      localPath: 'a.bin',
      remoteName: 'a.bin',
      project: 'project-x',
      fileId: 'file-a',
      size: 2 * MIB,
      resumed: true,
      doneBytes: MIB,
    });
    s.record({
      type: 'file-start',
      order: 1,
      localPath: 'b.bin',
      remoteName: 'b.bin',
      project: 'project-x',
      fileId: 'file-b',
      size: 2 * MIB,
      resumed: false,
      doneBytes: 0,
    });
    expect(s.fileFraction(0)).toBe(0.5);
    expect(s.fileFraction(1)).toBe(0);
    clock.t += 1000;
    s.record({ type: 'part-done', order: 1, fileId: 'file-b', index: 1, rawBytes: MIB, sentBytes: MIB / 4 });
    expect(s.fileFraction(1)).toBe(0.5);
    const o = s.overall();
    expect(o.doneBytes).toBe(2 * MIB);
    expect(o.fraction).toBe(0.5);
    expect(o.filesActive).toBe(2);
    expect(s.activeFiles().map((f) => f.localPath)).toEqual(['a.bin', 'b.bin']);
  });

  it('counts wire bytes once when part-progress precedes part-done, and keeps bytes of failed attempts', () => {
    const clock = new FakeClock();
    const s = startRun(clock);
    s.record({
      type: 'file-start',
      order: 0,
      localPath: 'a',
      remoteName: 'a',
      project: 'p',
      fileId: 'file-a',
      size: 3 * MIB,
      resumed: false,
      doneBytes: 0,
    });
    clock.t += 500;
    s.record({ type: 'part-progress', order: 0, index: 1, sentBytes: MIB / 2 });
    s.record({
      type: 'part-retry',
      order: 0,
      fileId: 'file-a',
      index: 1,
      attempt: 1,
      delayMs: 100,
      reason: 'reset',
    });
    clock.t += 500;
    s.record({ type: 'part-progress', order: 0, index: 1, sentBytes: MIB / 2 });
    s.record({ type: 'part-done', order: 0, fileId: 'file-a', index: 1, rawBytes: MIB, sentBytes: MIB });
    s.record({ type: 'part-done', order: 0, fileId: 'file-a', index: 2, rawBytes: MIB, sentBytes: MIB });
    const o = s.overall();
    // 0.5 (failed attempt) + 1 (part 1) + 1 (part 2, no progress events)
    expect(o.wireBytes).toBe(2.5 * MIB);
    expect(o.sentBytes).toBe(2 * MIB);
    expect(s.averageRate()).toBe(2.5 * MIB); // over 1 s since run-start
    expect(s.instantaneousRate()).toBe(2.5 * MIB);
    expect(s.fileFraction(0)).toBeCloseTo(2 / 3);
  });

  it('shows in-flight bytes in the live fraction but never 100% before the file is done', () => {
    const clock = new FakeClock();
    const s = startRun(clock);
    s.record({
      type: 'file-start',
      order: 0,
      localPath: 'a',
      remoteName: 'a',
      project: 'p',
      fileId: 'file-a',
      size: MIB,
      resumed: false,
      doneBytes: 0,
    });
    s.record({ type: 'part-progress', order: 0, index: 1, sentBytes: MIB / 4 });
    expect(s.fileFraction(0)).toBe(0);
    expect(s.fileLiveFraction(0)).toBe(0.25);
    s.record({ type: 'part-done', order: 0, fileId: 'file-a', index: 1, rawBytes: MIB, sentBytes: MIB });
    expect(s.fileLiveFraction(0)).toBe(1);
    clock.t += 2000;
    expect(s.fileEtaSec(0)).toBe(0);
  });

  it('gives the instantaneous rate of the last 5 s while the average covers the whole run', () => {
    const clock = new FakeClock();
    const s = new TransferStats({ clock });
    s.record({ type: 'run-start', files: 1, totalBytes: 100 * MIB });
    s.record({
      type: 'file-start',
      order: 0,
      localPath: 'a',
      remoteName: 'a',
      project: 'p',
      fileId: 'file-a',
      size: 100 * MIB,
      resumed: false,
      doneBytes: 0,
    });
    for (let i = 1; i <= 10; i++) {
      clock.t += 1000;
      // 1 MiB/s for 10 s ...
      s.record({ type: 'part-progress', order: 0, index: 1, sentBytes: MIB });
    }
    for (let i = 1; i <= 10; i++) {
      clock.t += 1000;
      // ... then 3 MiB/s for 10 s
      s.record({ type: 'part-progress', order: 0, index: 1, sentBytes: 3 * MIB });
    }
    expect(s.instantaneousRate() / MIB).toBeCloseTo(3, 5);
    expect(s.averageRate() / MIB).toBeCloseTo(2, 5);
    expect(s.fileRate(0) / MIB).toBeCloseTo(3, 5);
    expect(s.fileEtaSec(0)).toBeCloseTo((100 - 40) / 3, 5);
    expect(s.overall().etaSec).toBeCloseTo(20, 5);
  });

  it("keeps file-start's size when file-done reports other bytes", () => {
    const clock = new FakeClock();
    const s = startRun(clock);
    s.record({
      type: 'file-start',
      order: 0,
      localPath: 'z.gz',
      remoteName: 'z.gz',
      project: 'p',
      fileId: 'file-z',
      size: 2 * MIB,
      resumed: false,
      doneBytes: 0,
    });
    s.record({
      type: 'part-done',
      order: 0,
      fileId: 'file-z',
      index: 1,
      rawBytes: 2 * MIB,
      sentBytes: MIB / 2,
    });
    s.record({
      type: 'file-done',
      order: 0,
      localPath: 'z.gz',
      fileId: 'file-z',
      outcome: 'uploaded',
      bytes: MIB / 2,
    });
    expect(s.file(0)?.size).toBe(2 * MIB);
    expect(s.fileFraction(0)).toBe(1);
    expect(s.overall().doneBytes).toBe(2 * MIB);
  });

  it('summarises outcomes; files that never finished count as failed; the empty file is 100% once its part is done', () => {
    const clock = new FakeClock();
    const s = new TransferStats({ clock });
    s.record({ type: 'run-start', files: 5, totalBytes: 3 * MIB });
    s.record({
      type: 'file-start',
      order: 0,
      localPath: 'empty',
      remoteName: 'empty',
      project: 'p',
      fileId: 'file-e',
      size: 0,
      resumed: false,
      doneBytes: 0,
    });
    expect(s.fileFraction(0)).toBe(0);
    s.record({ type: 'part-done', order: 0, fileId: 'file-e', index: 1, rawBytes: 0, sentBytes: 0 });
    expect(s.fileFraction(0)).toBe(1);
    s.record({
      type: 'file-done',
      order: 0,
      localPath: 'empty',
      fileId: 'file-e',
      outcome: 'uploaded',
      bytes: 0,
    });
    s.record({
      type: 'file-done',
      order: 1,
      localPath: 'old',
      fileId: 'file-o',
      outcome: 'already-closed',
      bytes: MIB,
    });
    expect(s.fileFraction(1)).toBe(1);
    s.record({
      type: 'file-start',
      order: 2,
      localPath: 'r',
      remoteName: 'r',
      project: 'p',
      fileId: 'file-r',
      size: 2 * MIB,
      resumed: true,
      doneBytes: MIB,
    });
    s.record({ type: 'part-done', order: 2, fileId: 'file-r', index: 2, rawBytes: MIB, sentBytes: MIB / 2 });
    s.record({
      type: 'part-retry',
      order: 2,
      fileId: 'file-r',
      index: 2,
      attempt: 1,
      delayMs: 5,
      reason: 'x',
    });
    s.record({ type: 'api-retry', route: 'file-r/close', attempt: 1, delayMs: 5, reason: 'x' });
    s.record({
      type: 'file-done',
      order: 2,
      localPath: 'r',
      fileId: 'file-r',
      outcome: 'resumed',
      bytes: 2 * MIB,
    });
    s.record({
      type: 'file-done',
      order: 3,
      localPath: 'bad',
      fileId: null,
      outcome: 'failed',
      error: 'nope',
      bytes: 5,
    });
    clock.t += 2000;
    expect(s.summary()).toEqual({
      type: 'summary',
      ok: 3,
      failed: 2, // order 3 failed, order 4 never reported
      resumed: 1,
      skipped: 1,
      rawBytes: MIB,
      sentBytes: MIB / 2,
      retries: 2,
      elapsedMs: 2000,
      mbPerSec: 0.25,
    });
    expect(s.overall().fraction).toBe(1); // the failed file's bytes are no longer expected
  });
});

import { describe, expect, it } from 'vitest';
import type { SummaryEvent } from '../../../src/accounting/events.js';
import {
  formatBytes,
  formatDuration,
  formatEta,
  formatRate,
  formatSummary,
} from '../../../src/accounting/format.js';

const GIB = 2 ** 30;

function summary(o: Partial<SummaryEvent>): SummaryEvent {
  return {
    type: 'summary',
    ok: 0,
    failed: 0,
    resumed: 0,
    skipped: 0,
    rawBytes: 0,
    sentBytes: 0,
    retries: 0,
    elapsedMs: 0,
    mbPerSec: 0,
    ...o,
  };
}

describe('units', () => {
  it('formats bytes in binary units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(12.34 * 2 ** 20)).toBe('12.3 MiB');
    expect(formatBytes(9.87 * GIB)).toBe('9.87 GiB');
    expect(formatBytes(118.4 * GIB)).toBe('118 GiB');
    expect(formatBytes(3 * 2 ** 40)).toBe('3.00 TiB');
  });

  it('formats rates, durations and ETAs', () => {
    expect(formatRate(118.94 * 2 ** 20)).toBe('118.9 MiB/s');
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(83_000)).toBe('1m23s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000 + 7000)).toBe('2h05m07s');
    expect(formatEta(undefined)).toBe('--:--');
    expect(formatEta(6.2)).toBe('0:07');
    expect(formatEta(754)).toBe('12:34');
    expect(formatEta(3723)).toBe('1:02:03');
  });
});

describe('formatSummary', () => {
  it('gives the counts, the bytes, the time and the rate on one line', () => {
    const line = formatSummary(
      summary({
        ok: 12,
        failed: 1,
        resumed: 3,
        skipped: 1,
        rawBytes: 9.87 * GIB,
        sentBytes: 9.87 * GIB,
        elapsedMs: 83_000,
        mbPerSec: 118.94,
      }),
    );
    expect(line).toBe(
      'Uploaded 12 files (3 resumed, 1 already complete), 1 failed; 9.87 GiB in 1m23s, 118.9 MiB/s',
    );
  });

  it('mentions compressed bytes and retries only when there are some, and speaks singular', () => {
    expect(formatSummary(summary({ ok: 1, rawBytes: 2048, sentBytes: 2048, elapsedMs: 500 }))).toBe(
      'Uploaded 1 file; 2.00 KiB in 500ms, 0.0 MiB/s',
    );
    expect(
      formatSummary(
        summary({
          ok: 2,
          rawBytes: 4 * 2 ** 20,
          sentBytes: 2 ** 20,
          retries: 1,
          elapsedMs: 1000,
          mbPerSec: 1,
        }),
      ),
    ).toBe('Uploaded 2 files; 4.00 MiB (1.00 MiB sent) in 1.0s, 1.0 MiB/s; 1 retry');
    expect(formatSummary(summary({ failed: 3, retries: 4 }))).toBe(
      'Uploaded 0 files, 3 failed; 0 B in 0ms, 0.0 MiB/s; 4 retries',
    );
  });
});

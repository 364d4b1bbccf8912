import { describe, expect, it } from 'vitest';
import { fileLine, moreLine, overallLine } from '../../../src/accounting/tty-layout.js';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const typical = {
  fraction: 0.414,
  doneBytes: 1.2 * GIB,
  totalBytes: 2.9 * GIB,
  rate: 10 * MIB,
  etaSec: 171,
  filesDone: 12,
  files: 50,
};
// The widest numbers a run shows: an hour to go, a thousand files, failures.
const worst = {
  ...typical,
  doneBytes: 1000 * GIB,
  totalBytes: 1023 * GIB,
  etaSec: 3723,
  filesDone: 1000,
  files: 1000,
  filesFailed: 999,
};
const file = {
  name: 'run1/Sample_S1/sample_S1_L001_R1_001.fastq.gz',
  fraction: 0.42,
  doneBytes: 31.6 * MIB,
  size: 75 * MIB,
  rate: 2.5 * MIB,
  etaSec: 17,
};

describe('terminal layout by width (issue 14.1)', () => {
  for (const cols of [40, 60, 80, 120]) {
    it(`at ${cols} columns no line reaches the last column, whatever the numbers`, () => {
      const w = cols - 1; // what TtyProgress gives: a full-width line would make some terminals wrap
      for (const line of [
        overallLine(typical, w),
        overallLine(worst, w),
        fileLine(file, w),
        fileLine({ ...file, name: 'x'.repeat(300) }, w),
        moreLine(12345, w),
      ]) {
        expect(line.length, line).toBeLessThanOrEqual(w);
        expect(line).not.toContain('\n');
      }
    });
  }

  it('at 80 columns the overall line shows the bytes and total, the rate, the ETA and the file count', () => {
    const line = overallLine(typical, 79);
    expect(line).toContain('1.20 GiB/2.90 GiB');
    expect(line).toContain('10.0 MiB/s');
    expect(line).toContain('ETA 2:51');
    expect(line).toContain('12/50 files');
    expect(line).toMatch(/^Total \[=+-+\] +41\.4%/);
    // Even in the worst case only the label and the bar give way.
    const w = overallLine(worst, 79);
    for (const s of ['1000 GiB/1023 GiB', '10.0 MiB/s', 'ETA 1:02:03', '1000/1000 files', '999 failed'])
      expect(w).toContain(s);
  });

  it('drops fields in a fixed order as the terminal narrows: label, bar, bytes, failures, files, rate, ETA', () => {
    const failing = (w: number) => overallLine({ ...typical, filesFailed: 2 }, w);
    expect(failing(119)).toMatch(
      /^Total +\[=+-+\] +41\.4% +1\.20 GiB\/2\.90 GiB +10\.0 MiB\/s +ETA 2:51 +12\/50 files +2 failed$/,
    );
    expect(failing(59)).toBe(' 41.4%  10.0 MiB/s  ETA 2:51  12/50 files  2 failed');
    expect(failing(45)).toBe(' 41.4%  10.0 MiB/s  ETA 2:51  12/50 files');
    const at = (w: number) => overallLine(typical, w);
    expect(at(59)).toBe(' 41.4% 1.20 GiB/2.90 GiB 10.0 MiB/s ETA 2:51 12/50 files');
    expect(at(39)).toBe(' 41.4% 10.0 MiB/s ETA 2:51 12/50 files');
    expect(at(30)).toBe(' 41.4%  10.0 MiB/s  ETA 2:51');
    expect(at(20)).toBe(' 41.4%  ETA 2:51');
    expect(at(8)).toBe(' 41.4%');
    expect(at(3)).toBe(' 41');
  });

  it('file lines keep the end of the name and give it room before the bar', () => {
    expect(fileLine(file, 119)).toMatch(
      /^run1\/Sample_S1\/sample_S1_L001_R1_001\.fastq\.gz +\[=+-+\] +42\.0% +31\.6 MiB\/75\.0 MiB +2\.5 MiB\/s +ETA 0:17$/,
    );
    expect(fileLine(file, 79)).toBe(
      '…_L001_R1_001.fastq.gz [====------]  42.0% 31.6 MiB/75.0 MiB 2.5 MiB/s ETA 0:17',
    );
    expect(fileLine(file, 59)).toBe('…1_001.fastq.gz  42.0% 31.6 MiB/75.0 MiB 2.5 MiB/s ETA 0:17');
    expect(fileLine(file, 39)).toBe('…001.fastq.gz  42.0% 2.5 MiB/s ETA 0:17');
  });
});

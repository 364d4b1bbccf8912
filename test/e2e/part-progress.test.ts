import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UaEvent } from '../../src/accounting/events.js';
import { TransferStats } from '../../src/accounting/stats.js';
import { defaultOptions } from '../../src/config/options.js';
import { upload } from '../../src/index.js';
import { writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, waitClosed } from '../helpers/remote.js';

const ctx = usePlatformAndTempDir();

async function run(progress: boolean, name: string, throttle?: number) {
  const { tp, tmp } = ctx;
  const path = join(tmp.dir, name);
  writeRandomFile(path, 3 * 1024 * 1024);
  const events: UaEvent[] = [];
  const results = await upload({
    options: {
      ...defaultOptions(),
      projects: [tp.project],
      doNotCompress: true,
      progress,
      throttle,
      compressThreads: 1,
      uploadThreads: 2,
    },
    positionals: [path],
    server: { protocol: 'http', host: tp.platform.host, port: tp.platform.port },
    token: tp.token,
    events: (e) => events.push(e),
    signal: new AbortController().signal,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
  });
  await waitClosed(tp, results[0].fileId!);
  expect((await downloadFile(tp, results[0].fileId!)).equals(readFileSync(path))).toBe(true);
  return events;
}

describe('live progress inside a part (issue 14.1)', () => {
  it('with --progress, part-progress events come as bytes leave, before the part is stored, summing to it', async () => {
    const events = await run(true, 'progress.bin', 2 * 1024 * 1024);
    const progress = events.filter((e) => e.type === 'part-progress');
    const done = events.findIndex((e) => e.type === 'part-done');
    expect(progress.length).toBeGreaterThan(20); // 3 MiB in ≤ 64 KiB steps under the throttle's slices
    expect(events.findIndex((e) => e.type === 'part-progress')).toBeLessThan(done);
    expect(progress.reduce((n, e) => n + (e.type === 'part-progress' ? e.sentBytes : 0), 0)).toBe(
      3 * 1024 * 1024,
    );
    // The statistics move inside the part: half-way through its bytes, the file's live fraction is past 0.
    const stats = new TransferStats();
    let midway = 0;
    for (const e of events) {
      stats.record(e);
      if (e === progress[Math.floor(progress.length / 2)]) midway = stats.fileLiveFraction(0);
    }
    expect(midway).toBeGreaterThan(0);
  });

  it('without --progress the body goes to the socket whole: no part-progress events', async () => {
    const events = await run(false, 'quiet.bin');
    expect(events.filter((e) => e.type === 'part-progress')).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import { TransferStats } from '../../../src/accounting/stats.js';
import { TokenBucket, throttled } from '../../../src/accounting/throttle.js';
import { FakeClock } from './fakes.js';

const MIB = 2 ** 20;

describe('the rates shown under --throttle (issue 14.1)', () => {
  it('the instantaneous and average rates and the ETA follow the throttle from the first second', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: 2 * MIB, clock });
    const stats = new TransferStats({ clock });
    stats.record({ type: 'run-start', files: 1, totalBytes: 20 * MIB });
    stats.record({
      type: 'file-start',
      order: 0,
      localPath: 'a',
      remoteName: 'a',
      project: 'project-p',
      fileId: 'file-a',
      size: 20 * MIB,
      resumed: false,
      doneBytes: 0,
    });
    const body = throttled(new Uint8Array(20 * MIB), bucket, undefined, (n) =>
      stats.record({ type: 'part-progress', order: 0, index: 1, sentBytes: n }),
    );
    const sending = (async () => {
      for await (const chunk of body) void chunk;
    })();
    const seen: Array<{ rate: number; average: number; eta?: number }> = [];
    for (let s = 1; s <= 8; s++) {
      await clock.advance(1000);
      const o = stats.overall();
      seen.push({ rate: o.rate / MIB, average: o.average / MIB, eta: o.etaSec });
    }
    for (const [i, s] of seen.entries()) {
      expect(s.rate).toBeGreaterThan(1.9);
      expect(s.rate).toBeLessThanOrEqual(2.0 * 1.005);
      expect(s.average).toBeGreaterThan(1.9);
      expect(s.average).toBeLessThanOrEqual(2.0 * 1.005);
      // 20 MiB at 2 MiB/s: 10 s in all.
      expect(s.eta).toBeGreaterThan(10 - (i + 1) - 0.5);
      expect(s.eta).toBeLessThan(10 - (i + 1) + 0.5);
    }
    await clock.advance(3000);
    await sending;
  });
});

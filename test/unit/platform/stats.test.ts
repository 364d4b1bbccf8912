import { describe, expect, it } from 'vitest';
import { OTHER_ROUTES, ServerStats } from '../../../src/platform/stats.js';

describe('ServerStats stays bounded for a server that runs for months', () => {
  it('keeps the newest part PUT records only', () => {
    const s = new ServerStats();
    for (let i = 0; i < 120_000; i++) s.recordPut({ fileId: `f${i}`, index: 1, size: 1, ok: true });
    expect(s.partPuts.length).toBeLessThanOrEqual(50_000);
    expect(s.partPuts.at(-1)?.fileId).toBe('f119999');
    // Oldest first, contiguous: a test comparing before/after lengths within a run still works.
    const first = Number(s.partPuts[0].fileId.slice(1));
    expect(s.partPuts.map((p) => p.fileId)).toEqual(
      Array.from({ length: s.partPuts.length }, (_, i) => `f${first + i}`),
    );
  });

  it('counts routes a client makes up under one key once there are many', () => {
    const s = new ServerStats();
    s.countApi('file/new');
    for (let i = 0; i < 5000; i++) s.countApi(`/no/such/route/${i}`);
    s.countApi('file/new');
    expect(s.apiCalls.size).toBeLessThanOrEqual(1001);
    expect(s.apiCalls.get('file/new')).toBe(2);
    expect(s.apiCalls.get(OTHER_ROUTES)).toBeGreaterThan(3000);
  });
});

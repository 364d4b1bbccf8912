/**
 * The engine session in-process, with the memory destination: files fed over time, drain, cancel,
 * the memory bound. A real worker pool reads and hashes every part; bytes are compared at the end.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UaEvent } from '../../../src/accounting/events.js';
import { defaultOptions } from '../../../src/config/options.js';
import { openSession, type EngineOptions } from '../../../src/engine/session.js';
import { expandInputs } from '../../../src/plan/inputs.js';
import { planFile, readHead } from '../../../src/plan/plan.js';
import { MemoryDestination } from '../../../src/transfer/memory/destination.js';
import type { FileResult, ScheduledFile } from '../../../src/transfer/scheduler.js';
import { md5, tempDir, writeRandomFile } from '../../helpers/files.js';
import { buildPartWorker } from '../work/build-worker.js';

const MiB = 1024 * 1024;
const tmp = tempDir('ua-session-');
const server = { protocol: 'http', host: '127.0.0.1', port: 9 };
let worker: ReturnType<typeof buildPartWorker>;
beforeAll(() => {
  worker = buildPartWorker();
});
afterAll(() => {
  worker?.cleanup();
  tmp.cleanup();
});

const options = (o: Partial<EngineOptions> = {}): EngineOptions => ({
  ...defaultOptions(),
  uploadThreads: 4,
  compressThreads: 2,
  stateDir: join(tmp.dir, 'state'),
  ...o,
});

let order = 0;
/** A file of `size` random bytes, planned as the CLI plans it. */
function planned(name: string, size: number): { sf: ScheduledFile; data: Buffer } {
  const path = join(tmp.dir, name);
  const data = writeRandomFile(path, size);
  const o = { ...defaultOptions(), doNotCompress: true, chunkSize: 5 * MiB, projects: ['project-mem'] };
  const [entry] = expandInputs([path], o);
  entry.order = order++;
  return { sf: { plan: planFile(entry, o, readHead(path)), projectId: 'project-mem' }, data };
}

describe('engine session', () => {
  it('takes 2,000 files fed over time, one result each, every stored file byte-exact', async () => {
    const mem = new MemoryDestination();
    const events: UaEvent[] = [];
    const session = await openSession(
      { options: options(), server, token: 'x', destination: mem },
      (e) => events.push(e),
      new AbortController().signal,
    );
    const sources = new Map<number, Buffer>();
    async function* feed(): AsyncGenerator<ScheduledFile> {
      for (let i = 0; i < 2000; i++) {
        const { sf, data } = planned(`many-${i}.bin`, (i * 37) % 5000);
        sources.set(sf.plan.entry.order, data);
        if (i % 200 === 0) await new Promise((r) => setTimeout(r, 20)); // a daemon's pace: files arrive
        yield sf;
      }
    }
    const results: FileResult[] = [];
    await session.upload(feed(), (r) => results.push(r));
    await session.close();
    expect(results).toHaveLength(2000);
    expect(new Set(results.map((r) => r.order)).size).toBe(2000);
    expect(results.filter((r) => r.outcome !== 'uploaded')).toEqual([]);
    expect(events.filter((e) => e.type === 'file-done')).toHaveLength(2000);
    expect(session.filesInFlight).toBe(0);
    for (const r of results) expect(md5(mem.bytesOf(r.fileId!))).toBe(md5(sources.get(r.order)!));
  });

  it('drain(): stops taking files from an endless input; every file taken ends with a result', async () => {
    const mem = new MemoryDestination();
    const session = await openSession(
      { options: options(), server, token: 'x', destination: mem },
      () => undefined,
      new AbortController().signal,
    );
    let pulled = 0;
    async function* endless(): AsyncGenerator<ScheduledFile> {
      for (let i = 0; ; i++) {
        pulled++;
        yield planned(`endless-${i % 100}-${order}.bin`, 1000).sf;
        await new Promise((r) => setImmediate(r));
      }
    }
    const results: FileResult[] = [];
    const running = session.upload(endless(), (r) => {
      results.push(r);
      if (results.length === 50) void session.drain();
    });
    await running;
    await session.close();
    expect(results.length).toBeGreaterThanOrEqual(50);
    expect(results.length).toBe(pulled); // nothing taken was dropped
    expect(pulled).toBeLessThan(50 + 16 + 4 + 2); // stopped within the prepare-ahead window
    expect(results.every((r) => r.outcome === 'uploaded')).toBe(true);
  });

  it('an abort ends upload() promptly; unfinished files fail and stay resumable', async () => {
    const mem = new MemoryDestination();
    const ac = new AbortController();
    const session = await openSession(
      { options: options({ uploadThreads: 1 }), server, token: 'x', destination: mem },
      (e) => {
        if (e.type === 'part-done' && e.index === 2) ac.abort();
      },
      ac.signal,
    );
    const big = planned('cancel.bin', 6 * 5 * MiB);
    const results: FileResult[] = [];
    const t0 = Date.now();
    await session.upload([big.sf, planned('after.bin', 10).sf], (r) => results.push(r));
    await session.close();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(results.map((r) => r.outcome)).toEqual(['failed']);
    expect(results[0].error).toBe('The upload was cancelled');
    expect(session.filesInFlight).toBe(0); // a failed file leaves no bookkeeping behind
    const [open] = [...mem.files.values()];
    expect(open.state).toBe('open');
    // A new session resumes it from the parts that arrived.
    const again = await openSession(
      { options: options(), server, token: 'x', destination: mem },
      () => undefined,
      new AbortController().signal,
    );
    const done: FileResult[] = [];
    await again.upload([big.sf], (r) => done.push(r));
    await again.close();
    expect(done.map((r) => r.outcome)).toEqual(['resumed']);
    expect(md5(mem.bytesOf(done[0].fileId!))).toBe(md5(big.data));
  });

  it('holds the byte budget: parts in flight never exceed it, whatever the file count', async () => {
    const mem = new MemoryDestination();
    const session = await openSession(
      {
        options: options({ uploadThreads: 8 }),
        server,
        token: 'x',
        destination: mem,
        memoryBudget: 12 * MiB,
      },
      () => undefined,
      new AbortController().signal,
    );
    let peak = 0;
    const t = setInterval(() => (peak = Math.max(peak, session.budget.held)), 1);
    const files = Array.from({ length: 40 }, (_, i) => planned(`budget-${i}.bin`, 3 * MiB + i));
    const results: FileResult[] = [];
    await session.upload(
      files.map((f) => f.sf),
      (r) => results.push(r),
    );
    clearInterval(t);
    await session.close();
    expect(results.filter((r) => r.outcome === 'uploaded')).toHaveLength(40);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(12 * MiB);
    expect(session.budget.held).toBe(0);
  });
});

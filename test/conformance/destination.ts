/**
 * The one suite every destination must pass (rclone's fstests, for uploads): run through a real
 * engine session (worker pool, part reads, checks), against memory, ua-platform, S3 (s3rver) and
 * Azure (azurite). Each case reads the stored bytes back and compares them with the source.
 * A destination declares what it can do (Destination.capabilities); optional cases follow them.
 */
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventSink, UaEvent } from '../../src/accounting/events.js';
import { defaultOptions } from '../../src/config/options.js';
import type { EngineOptions, Session } from '../../src/engine/session.js';
import { expandInputs } from '../../src/plan/inputs.js';
import { planFile, readHead } from '../../src/plan/plan.js';
import type { Destination } from '../../src/transfer/destination.js';
import type { FileResult, ScheduledFile } from '../../src/transfer/scheduler.js';
import { md5, tempDir, writeRandomFile, writeTextFile } from '../helpers/files.js';

const MiB = 1024 * 1024;

export interface Backend {
  projectId: string;
  /** A session whose files go to the destination under test. */
  session(options: EngineOptions, sink: EventSink, signal: AbortSignal): Promise<Session>;
  /** The destination files of `projectId` go to (for its capabilities and RemoteFile.abort). */
  destination(session: Session): Promise<Destination>;
  /** The stored bytes of a closed file, exactly. */
  readBack(fileId: string): Promise<Buffer>;
  /** Makes the next `n` part uploads fail once each with a transient error, when the backend can. */
  injectPartFailures?(n: number): void;
  stop(): Promise<void>;
}

export function destinationConformance(name: string, start: () => Promise<Backend>): void {
  describe(`Destination conformance: ${name}`, () => {
    let b: Backend;
    const tmp = tempDir('ua-conformance-');
    const stateDir = join(tmp.dir, 'state');
    let order = 0;
    beforeAll(async () => {
      b = await start();
    });
    afterAll(async () => {
      await b?.stop();
      tmp.cleanup();
    });

    const options = (o: Partial<EngineOptions> = {}): EngineOptions => ({
      ...defaultOptions(),
      uploadThreads: 2,
      compressThreads: 2,
      waitOnClose: true,
      stateDir,
      ...o,
    });

    /** Plans `path` as the CLI would (5 MiB parts), for `compress` or not. */
    const plan = (path: string, compress: boolean): ScheduledFile => {
      const o = {
        ...defaultOptions(),
        chunkSize: 5 * MiB,
        doNotCompress: !compress,
        projects: [b.projectId],
      };
      const [entry] = expandInputs([path], o);
      entry.order = order++;
      return { plan: planFile(entry, o, readHead(entry.absPath)), projectId: b.projectId };
    };

    /** One session over `files`; the results and the events it emitted. */
    async function run(files: ScheduledFile[], o: Partial<EngineOptions> = {}, stopAfterParts?: number) {
      const events: UaEvent[] = [];
      const results: FileResult[] = [];
      const ac = new AbortController();
      const sink: EventSink = (e) => {
        events.push(e);
        if (
          stopAfterParts !== undefined &&
          events.filter((x) => x.type === 'part-done').length >= stopAfterParts
        )
          ac.abort();
      };
      const session = await b.session(options(o), sink, ac.signal);
      try {
        await session.upload(files, (r) => results.push(r));
      } finally {
        await session.close();
      }
      results.sort((x, y) => x.order - y.order); // they arrive as files end
      return { results, events, parts: events.filter((e) => e.type === 'part-done').length };
    }

    it('declares sane capabilities', async () => {
      const session = await b.session(options(), () => undefined, new AbortController().signal);
      try {
        const c = (await b.destination(session)).capabilities;
        expect(c.minPartSize).toBeLessThanOrEqual(5 * MiB);
        expect(c.maxPartSize).toBeGreaterThanOrEqual(5 * MiB);
        expect(c.maxParts).toBeGreaterThanOrEqual(10_000);
        expect(['md5', 'crc32', 'none']).toContain(c.partDigest);
      } finally {
        await session.close();
      }
    });

    it('stores a multi-part file, an empty file and a compressed file byte-exact', async () => {
      const big = join(tmp.dir, 'multi.bin');
      const bigData = writeRandomFile(big, 3 * 5 * MiB + 4321);
      const empty = join(tmp.dir, 'empty.bin');
      writeRandomFile(empty, 0);
      const text = join(tmp.dir, 'reads.fastq');
      const textData = writeTextFile(text, 6 * MiB + 17);
      const { results } = await run([plan(big, false), plan(empty, false), plan(text, true)]);
      expect(results.map((r) => [r.localPath, r.outcome])).toEqual([
        [big, 'uploaded'],
        [empty, 'uploaded'],
        [text, 'uploaded'],
      ]);
      expect(md5(await b.readBack(results[0].fileId!))).toBe(md5(bigData));
      expect((await b.readBack(results[1].fileId!)).length).toBe(0);
      expect(md5(gunzipSync(await b.readBack(results[2].fileId!)))).toBe(md5(textData));
    });

    it('resumes an interrupted upload: a second session sends only what is missing, byte-exact', async () => {
      const path = join(tmp.dir, 'resume.bin');
      const data = writeRandomFile(path, 6 * 5 * MiB + 99);
      const first = await run([plan(path, false)], { uploadThreads: 1 }, 2);
      expect(first.results.map((r) => r.outcome)).toEqual(['failed']);
      const again = await run([plan(path, false)], { uploadThreads: 1 });
      expect(again.results.map((r) => r.outcome)).toEqual(['resumed']);
      expect(again.parts).toBeLessThanOrEqual(7 - 2);
      expect(md5(await b.readBack(again.results[0].fileId!))).toBe(md5(data));
      // A third run finds it closed and sends nothing.
      const third = await run([plan(path, false)]);
      expect([third.results[0].outcome, third.parts]).toEqual(['already-closed', 0]);
    });

    it('retries a part that fails once', async (ctx) => {
      if (!b.injectPartFailures) return ctx.skip();
      const path = join(tmp.dir, 'retry.bin');
      const data = writeRandomFile(path, 2 * 5 * MiB + 1);
      b.injectPartFailures(1);
      const { results } = await run([plan(path, false)], { tries: 3 });
      expect(results.map((r) => r.outcome)).toEqual(['uploaded']);
      expect(md5(await b.readBack(results[0].fileId!))).toBe(md5(data));
    });

    it('aborts an unfinished upload when it can', async (ctx) => {
      const session = await b.session(options(), () => undefined, new AbortController().signal);
      try {
        const d = await b.destination(session);
        if (!d.capabilities.abort) return ctx.skip();
        const path = join(tmp.dir, 'aborted.bin');
        writeRandomFile(path, 1000);
        const prepared = await d.prepare(plan(path, false).plan, b.projectId, new AbortController().signal);
        expect(prepared.kind).toBe('upload');
        if (prepared.kind !== 'upload') return;
        await prepared.file.abort!(new AbortController().signal);
        // Gone: a new prepare does not resume it.
        const again = await d.prepare(plan(path, false).plan, b.projectId, new AbortController().signal);
        expect(again.kind === 'upload' && again.resumed).toBe(false);
      } finally {
        await session.close();
      }
    });
  });
}

import type { EventSink } from '../accounting/events.js';
import { AbortScope } from '../common/abort-scope.js';
import { AbortedError, isAbort, UaError } from '../errors.js';
import type { FilePlan } from '../plan/plan.js';
import type { PartSpec } from '../plan/parts.js';
import type { ByteBudget } from '../read/budget.js';
import { LocalSource } from '../read/source.js';
import type { SentPartRecords } from '../state/journal.js';
import type { PartPool, PartResult } from '../work/pool.js';
import { BufferCache } from './buffer-cache.js';
import { partCost, partJob } from './part-job.js';
import type { Destination, DonePart, Prepared, RemoteFile } from './destination.js';
import { prepareAhead } from './prepare-ahead.js';
import { sourceParts, verifyParts } from './verify.js';

/** A part whose bytes are already in memory (stdin): the reader filled `buffer[0, length)`. */
export interface BufferedPart {
  index: number;
  buffer: ArrayBuffer;
  length: number;
  last: boolean;
  /** Gives the buffer back to whoever lent it (and its bytes back to the budget). */
  release(): void;
}

export interface ScheduledFile {
  plan: FilePlan;
  projectId: string;
  /** For stdin: parts arrive as they are read; for files, `plan.parts` is used. */
  bufferedParts?: AsyncIterable<BufferedPart>;
}

export type Outcome = 'uploaded' | 'resumed' | 'already-closed' | 'failed';

export interface FileResult {
  order: number;
  localPath: string;
  fileId: string | null;
  outcome: Outcome;
  error?: string;
  rawBytes: number;
  sentBytes: number;
}

export interface SchedulerOptions {
  destination: Destination;
  pool: PartPool;
  /** Bounds the bytes of parts in flight (read, hashed/compressed, being sent): the memory bound. */
  budget: ByteBudget;
  /** Concurrent part uploads (--upload-threads). */
  uploadThreads: number;
  /** Files whose resume lookup / creation may run ahead of the uploads. Default 16. */
  prepareAhead?: number;
  compressLevel: number;
  /** Non-last compressed parts are padded up to this (the platform's minimum part size). */
  minPartSize: number;
  waitOnClose: boolean;
  /** After close, re-describe and compare every part's size and MD5 with the local source's (verify.ts). */
  verify: boolean;
  events: EventSink;
  signal: AbortSignal;
  /** First poll interval while waiting on close, ms. Default 200, growing to 5 s. */
  closePollMs?: number;
  /** Each file's result, once, as it ends (the file-done event carries the same). */
  onResult?(result: FileResult): void;
  /** False once no more files should be taken from the input (the session drains). Default: always. */
  taking?(): boolean;
  /**
   * Where the source MD5 of each compressed part sent is kept, so that a rerun can check a resumed
   * compressed part with one MD5 pass instead of compressing it again. Optional: without it a resumed
   * compressed part is compressed again and compared.
   */
  records?: SentPartRecords;
}

interface FileState {
  sf: ScheduledFile;
  prepared?: Prepared & { kind: 'upload' };
  /** The file's one open descriptor (not for stdin); closed in finish(). */
  source?: LocalSource;
  inFlight: number;
  queued: boolean;
  failed?: string;
  sent: Map<number, DonePart>;
  rawBytes: number;
  sentBytes: number;
  settle(): void;
  done: Promise<void>;
}

interface WorkItem {
  fs: FileState;
  spec?: PartSpec;
  buffered?: BufferedPart;
  /** The part an earlier run left on the destination: re-read and compared before it is skipped. */
  check?: DonePart;
}

/**
 * Uploads files through one pipeline as they come (an array, or a stream fed over days): preparation
 * runs ahead (bounded, prepare-ahead.ts), parts flow in file order to `uploadThreads` loops, each
 * loop hashes/compresses its part in the worker pool and sends it. A file completes when its last
 * part lands; one failed file never stops the others. Results go to `onResult` and the events as
 * each file ends; nothing is kept per file once it has ended, so memory stays flat however many
 * files pass.
 */
export async function runUploads(
  files: AsyncIterable<ScheduledFile> | Iterable<ScheduledFile>,
  o: SchedulerOptions,
): Promise<void> {
  const buffers = new BufferCache();
  const finishing = new Set<Promise<void>>();
  // Each part, prepare and close listens on a child of the run signal (abort-scope.ts).
  const scope = new AbortScope(o.signal);
  const started = prepareAhead(
    files,
    (sf: ScheduledFile) => scope.run((signal) => o.destination.prepare(sf.plan, sf.projectId, signal)),
    { ahead: Math.max(1, o.prepareAhead ?? 16), taking: o.taking ?? (() => true), signal: o.signal },
  );

  const record = (fs: FileState, outcome: Outcome, fileId: string | null, error?: string) => {
    const e = fs.sf.plan.entry;
    o.onResult?.({
      order: e.order,
      localPath: e.localPath,
      fileId,
      outcome,
      error,
      rawBytes: fs.rawBytes,
      sentBytes: fs.sentBytes,
    });
    o.events({
      type: 'file-done',
      order: e.order,
      localPath: e.localPath,
      fileId,
      outcome,
      error,
      bytes: e.stdin ? fs.rawBytes : e.size,
    });
  };

  /** The file's state once its preparation settled; undefined when it ended there (failed or already closed). */
  async function begin(sf: ScheduledFile, preparing: Promise<Prepared>): Promise<FileState | undefined> {
    let settle!: () => void;
    const fs: FileState = {
      sf,
      inFlight: 0,
      queued: true,
      sent: new Map(),
      rawBytes: 0,
      sentBytes: 0,
      settle: () => settle(),
      done: new Promise<void>((r) => (settle = r)),
    };
    let prepared: Prepared;
    try {
      prepared = await preparing;
    } catch (err) {
      record(fs, 'failed', null, message(err));
      return undefined;
    }
    const e = sf.plan.entry;
    if (prepared.kind === 'already-closed') {
      o.events({
        type: 'file-start',
        order: e.order,
        localPath: e.localPath,
        remoteName: prepared.remoteName,
        project: sf.projectId,
        fileId: prepared.fileId,
        size: e.size,
        resumed: true,
        doneBytes: e.size,
      });
      record(fs, 'already-closed', prepared.fileId);
      return undefined;
    }
    fs.prepared = prepared;
    const doneBytes = sf.plan.parts
      .filter((p) => prepared.doneParts.has(p.index))
      .reduce((n, p) => n + p.length, 0);
    fs.rawBytes = doneBytes;
    o.events({
      type: 'file-start',
      order: e.order,
      localPath: e.localPath,
      remoteName: prepared.remoteName,
      project: sf.projectId,
      fileId: prepared.file.fileId,
      size: e.size,
      resumed: prepared.resumed,
      doneBytes,
    });
    const finished: Promise<void> = fs.done.then(() => finish(fs)).finally(() => finishing.delete(finished));
    finishing.add(finished);
    if (!sf.bufferedParts) {
      try {
        fs.source = LocalSource.open(e);
      } catch (err) {
        fs.failed = message(err);
      }
    }
    return fs;
  }

  /** A file's parts as work items, in order; stdin's as they are read. */
  async function* partsOf(fs: FileState): AsyncGenerator<WorkItem> {
    const prepared = fs.prepared!;
    if (fs.sf.bufferedParts) {
      for await (const bp of fs.sf.bufferedParts) {
        if (fs.failed || o.signal.aborted) {
          bp.release();
          continue;
        }
        fs.inFlight++;
        yield { fs, buffered: bp };
      }
      return;
    }
    for (const spec of fs.sf.plan.parts) {
      // Resume verifies before it trusts: a part an earlier run sent is skipped only once its
      // local bytes are shown to be what the destination holds (unless the destination checks
      // resumed parts itself: direct mode's whole-object MD5 re-reads and compares them).
      const check = prepared.doneParts.get(spec.index);
      if (check && prepared.checksDoneParts) continue;
      if (fs.failed || o.signal.aborted) break;
      fs.inFlight++;
      yield { fs, spec, check };
    }
  }

  async function* work(): AsyncGenerator<WorkItem> {
    for await (const { file: sf, prepared } of started) {
      const fs = await begin(sf, prepared);
      if (!fs) continue;
      yield* partsOf(fs);
      fs.queued = false;
      if (fs.inFlight === 0) fs.settle();
    }
  }

  const items = work();
  const loop = async () => {
    for (;;) {
      const next = await items.next();
      if (next.done) return;
      const { fs } = next.value;
      try {
        if (!fs.failed) await scope.run((signal) => sendPart(next.value, signal));
      } catch (err) {
        fs.failed ??= message(err);
      } finally {
        if (--fs.inFlight === 0 && !fs.queued) fs.settle();
      }
    }
  };

  async function sendPart({ fs, spec, buffered, check }: WorkItem, signal: AbortSignal): Promise<void> {
    const plan = fs.sf.plan;
    const remote = fs.prepared!.file;
    const part = spec ?? {
      index: buffered!.index,
      offset: 0,
      length: buffered!.length,
      last: buffered!.last,
    };
    const { index, length } = part;
    const cost = partCost(plan, length);
    if (!buffered) await o.budget.acquire(cost, signal);
    let buffer = buffered?.buffer ?? buffers.get(length, plan.chunkSize);
    // The source MD5 of a compressed part is kept so that a rerun can check it cheaply (state/journal.ts).
    const record = plan.compress && !buffered ? o.records : undefined;
    const job = () => ({
      ...partJob(plan, part, buffer, o, fs.source),
      digest: remote.partDigest,
      ...(record ? { rawMd5: true } : {}),
    });
    try {
      let r: PartResult | undefined;
      if (check) {
        const c = await checkResumed(fs, part, check, buffer, signal);
        buffer = c.buffer;
        if (c.same) {
          fs.sent.set(index, check);
          return;
        }
        r = c.result;
        o.events({
          type: 'warning',
          message: `part ${index} of "${plan.entry.localPath}" on the destination is not this file's content (${check.size} bytes, md5 ${check.md5}); sending it again`,
        });
      }
      r ??= await o.pool.run(job(), signal);
      buffer = r.buffer;
      await remote.uploadPart({ index, data: r.data, size: r.size, md5: r.md5, crc32: r.crc32 }, signal);
      if (record && r.rawMd5)
        record.recordSentPart(remote.fileId, index, { size: r.size, md5: r.md5, rawMd5: r.rawMd5 });
      fs.sent.set(index, { size: r.size, md5: r.md5 });
      if (!check) fs.rawBytes += length;
      fs.sentBytes += r.size;
      o.events({
        type: 'part-done',
        order: plan.entry.order,
        fileId: remote.fileId,
        index,
        rawBytes: length,
        sentBytes: r.size,
        ...(check ? { resent: true } : {}),
      });
    } finally {
      if (buffered) {
        buffered.buffer = buffer;
        buffered.release();
      } else {
        buffers.put(buffer);
        o.budget.release(cost);
      }
    }
  }

  /**
   * Whether the local bytes of `part` are the part `done` an earlier run left on the destination.
   * Uncompressed: their MD5. Compressed: the source MD5 recorded when this machine sent the part (one
   * MD5 pass), else the part compressed again and compared (gzip is deterministic for one level).
   * `result`, when given, holds the bytes to send if they differ.
   */
  async function checkResumed(
    fs: FileState,
    part: Pick<PartSpec, 'index' | 'offset' | 'length' | 'last'>,
    done: DonePart,
    buffer: ArrayBuffer,
    signal: AbortSignal,
  ): Promise<{ same: boolean; buffer: ArrayBuffer; result?: PartResult }> {
    const plan = fs.sf.plan;
    const fileId = fs.prepared!.file.fileId;
    const base = partJob(plan, part, buffer, o, fs.source);
    const rec = plan.compress ? o.records?.sentPart(fileId, part.index) : undefined;
    if (rec && rec.md5 === done.md5 && rec.size === done.size) {
      const r = await o.pool.run({ ...base, compress: false, digest: 'md5' }, signal);
      return { same: r.md5 === rec.rawMd5, buffer: r.buffer };
    }
    const r = await o.pool.run(
      { ...base, digest: 'md5', ...(plan.compress && o.records ? { rawMd5: true } : {}) },
      signal,
    );
    return { same: r.md5 === done.md5 && r.size === done.size, buffer: r.buffer, result: r };
  }

  async function finish(fs: FileState): Promise<void> {
    const remote: RemoteFile = fs.prepared!.file;
    if (fs.failed || o.signal.aborted) {
      fs.source?.close();
      record(fs, 'failed', null, fs.failed ?? new AbortedError().message);
      return;
    }
    try {
      // Never close an object whose bytes are not proven to be one version of one file.
      try {
        fs.source?.check();
      } finally {
        fs.source?.close();
      }
      await scope.run(async (signal) => {
        await remote.complete(signal);
        o.records?.forgetSentParts(remote.fileId);
        if (o.waitOnClose || o.verify) await waitClosed(remote.fileId, fs, signal);
      });
      record(fs, fs.prepared!.resumed ? 'resumed' : 'uploaded', remote.fileId);
    } catch (err) {
      record(fs, 'failed', null, message(err));
    }
  }

  async function waitClosed(fileId: string, fs: FileState, signal: AbortSignal): Promise<void> {
    let delay = o.closePollMs ?? 200;
    const source = o.verify ? await sourceParts(fs.sf.plan, fs.sent, { ...o, buffers, signal }) : undefined;
    for (;;) {
      const d = await fs.prepared!.file.describe(signal);
      if (source) verifyParts(fileId, source, d.parts);
      if (d.state === 'closed' || !o.waitOnClose) return;
      if (d.state !== 'closing')
        throw new UaError('UA_ERR_CLOSE', `file ${fileId} is ${d.state} after close`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(5000, delay * 1.5);
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, o.uploadThreads) }, loop));
  } finally {
    while (finishing.size > 0) await Promise.all([...finishing]);
    scope.close();
    buffers.clear();
  }
}

function message(err: unknown): string {
  if (isAbort(err)) return new AbortedError().message;
  return err instanceof Error ? err.message : String(err);
}

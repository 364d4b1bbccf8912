import { AbortScope } from '../common/abort-scope.js';
import { AbortedError, isAbort, UaError } from '../errors.js';
import { openSource } from '../read/source.js';
import { BufferCache } from './buffer-cache.js';
import type { Destination, Prepared, RemoteFile } from './destination.js';
import { prepareAhead, type Started } from './prepare-ahead.js';
import { PartSender, type PartSenderOptions } from './send-part.js';
import type { FileState, ScheduledFile, WorkItem } from './work-item.js';
import { sourceParts, verifyParts } from './verify.js';

export type { BufferedPart, ScheduledFile } from './work-item.js';

export type Outcome = 'uploaded' | 'resumed' | 'already-closed' | 'failed';

export interface FileResult {
  order: number;
  localPath: string;
  fileId: string | null;
  outcome: Outcome;
  error?: string;
  /** The failure's stable code (e.g. UA_ERR_CONNECTION: the platform could not be reached). */
  code?: string;
  rawBytes: number;
  sentBytes: number;
}

export interface SchedulerOptions extends PartSenderOptions {
  destination: Destination;
  /** Concurrent part uploads (--upload-threads). */
  uploadThreads: number;
  /** Files whose resume lookup / creation may run ahead of the uploads. Default 16. */
  prepareAhead?: number;
  waitOnClose: boolean;
  /** After close, re-describe and compare every part's size and MD5 with the local source's (verify.ts). */
  verify: boolean;
  signal: AbortSignal;
  /** First poll interval while waiting on close, ms. Default 200, growing to 5 s. */
  closePollMs?: number;
  /** Each file's result, once, as it ends (the file-done event carries the same). */
  onResult?(result: FileResult): void;
  /** False once no more files should be taken from the input (the session drains). Default: always. */
  taking?(): boolean;
}

/**
 * Uploads files through one pipeline as they come (an array, or a stream fed over days): preparation
 * runs ahead (bounded, prepare-ahead.ts), parts flow in file order to `uploadThreads` loops, each
 * loop hashes/compresses its part in the worker pool and sends it (send-part.ts). A file completes
 * when its last part lands; one failed file never stops the others. Results go to `onResult` and the
 * events as each file ends; nothing is kept per file once it has ended, so memory stays flat however
 * many files pass.
 */
export function runUploads(
  files: AsyncIterable<ScheduledFile> | Iterable<ScheduledFile>,
  o: SchedulerOptions,
): Promise<void> {
  return new UploadRun(o).run(files);
}

/** One run of the pipeline, in named steps: prepare ahead → begin → parts → send → finish → result. */
class UploadRun {
  readonly #o: SchedulerOptions;
  readonly #buffers = new BufferCache();
  readonly #sender: PartSender;
  /** Files whose parts are all handed out but that have not ended yet. */
  readonly #finishing = new Set<Promise<void>>();
  // Each part, prepare and close listens on a child of the run signal (abort-scope.ts).
  readonly #scope: AbortScope;

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#scope = new AbortScope(o.signal);
    this.#sender = new PartSender(o, this.#buffers);
  }

  async run(files: AsyncIterable<ScheduledFile> | Iterable<ScheduledFile>): Promise<void> {
    const o = this.#o;
    const started = prepareAhead(
      files,
      (sf: ScheduledFile) =>
        this.#scope.run((signal) => o.destination.prepare(sf.plan, sf.projectId, signal)),
      { ahead: Math.max(1, o.prepareAhead ?? 16), taking: o.taking ?? (() => true), signal: o.signal },
    );
    const items = this.#work(started);
    try {
      await Promise.all(Array.from({ length: Math.max(1, o.uploadThreads) }, () => this.#loop(items)));
    } finally {
      while (this.#finishing.size > 0) await Promise.all([...this.#finishing]);
      this.#scope.close();
      this.#buffers.clear();
    }
  }

  /** Every part of every file, in order, as the files' preparations settle. */
  async *#work(started: AsyncIterable<Started<ScheduledFile, Prepared>>): AsyncGenerator<WorkItem> {
    for await (const { file: sf, prepared } of started) {
      const fs = await this.#begin(sf, prepared);
      if (!fs) continue;
      yield* this.#partsOf(fs);
      fs.queued = false;
      if (fs.inFlight === 0) fs.settle();
    }
  }

  /** One upload thread: takes the next part, sends it; a failure fails its file only. */
  async #loop(items: AsyncGenerator<WorkItem>): Promise<void> {
    for (;;) {
      const next = await items.next();
      if (next.done) return;
      const { fs } = next.value;
      try {
        if (!fs.failed) await this.#scope.run((signal) => this.#sender.send(next.value, signal));
      } catch (err) {
        fs.failedCode ??= fs.failed ? fs.failedCode : codeOf(err);
        fs.failed ??= message(err);
      } finally {
        if (--fs.inFlight === 0 && !fs.queued) fs.settle();
      }
    }
  }

  #record(fs: FileState, outcome: Outcome, fileId: string | null, error?: string, code?: string): void {
    const o = this.#o;
    const e = fs.sf.plan.entry;
    o.onResult?.({
      order: e.order,
      localPath: e.localPath,
      fileId,
      outcome,
      error,
      ...(code ? { code } : {}),
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
  }

  /** The file's state once its preparation settled; undefined when it ended there (failed or already closed). */
  async #begin(sf: ScheduledFile, preparing: Promise<Prepared>): Promise<FileState | undefined> {
    const o = this.#o;
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
      this.#record(fs, 'failed', null, message(err), codeOf(err));
      return undefined;
    }
    const e = sf.plan.entry;
    const plan = sf.plan;
    const started = (fileId: string, resumed: boolean, doneBytes: number, partsDone: number) =>
      o.events({
        type: 'file-start',
        order: e.order,
        localPath: e.localPath,
        remoteName: prepared.remoteName,
        project: sf.projectId,
        fileId,
        size: e.size,
        resumed,
        doneBytes,
        plan: {
          ...(e.stdin ? {} : { parts: plan.parts.length }),
          partsDone,
          chunkSize: plan.chunkSize,
          compress: plan.compress,
          media: plan.media,
        },
      });
    if (prepared.kind === 'already-closed') {
      started(prepared.fileId, true, e.size, plan.parts.length);
      this.#record(fs, 'already-closed', prepared.fileId);
      return undefined;
    }
    fs.prepared = prepared;
    const onServer = sf.plan.parts.filter((p) => prepared.doneParts.has(p.index));
    const doneBytes = onServer.reduce((n, p) => n + p.length, 0);
    fs.rawBytes = doneBytes;
    started(prepared.file.fileId, prepared.resumed, doneBytes, onServer.length);
    const finished: Promise<void> = fs.done
      .then(() => this.#finish(fs))
      .finally(() => this.#finishing.delete(finished));
    this.#finishing.add(finished);
    if (!sf.bufferedParts) {
      try {
        fs.source = openSource(e);
      } catch (err) {
        fs.failed = message(err);
      }
    }
    return fs;
  }

  /** A file's parts as work items, in order; stdin's as they are read. */
  async *#partsOf(fs: FileState): AsyncGenerator<WorkItem> {
    const o = this.#o;
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

  async #finish(fs: FileState): Promise<void> {
    const o = this.#o;
    const remote: RemoteFile = fs.prepared!.file;
    if (fs.failed || o.signal.aborted) {
      fs.source?.close();
      this.#record(fs, 'failed', null, fs.failed ?? new AbortedError().message, fs.failedCode);
      return;
    }
    try {
      // Never close an object whose bytes are not proven to be one version of one file.
      try {
        fs.source?.check();
      } finally {
        fs.source?.close();
      }
      await this.#scope.run(async (signal) => {
        await remote.complete(signal);
        // Only compressed parts are recorded: an uncompressed file costs no journal write here.
        if (fs.sf.plan.compress) o.records?.forgetSentParts(remote.fileId);
        if (o.waitOnClose || o.verify) await this.#waitClosed(remote.fileId, fs, signal);
      });
      this.#record(fs, fs.prepared!.resumed ? 'resumed' : 'uploaded', remote.fileId);
    } catch (err) {
      this.#record(fs, 'failed', null, message(err), codeOf(err));
    }
  }

  async #waitClosed(fileId: string, fs: FileState, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    let delay = o.closePollMs ?? 200;
    const source = o.verify
      ? await sourceParts(fs.sf.plan, fs.sent, { ...o, buffers: this.#buffers, signal })
      : undefined;
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
}

function codeOf(err: unknown): string | undefined {
  return err instanceof UaError ? err.code : undefined;
}

function message(err: unknown): string {
  if (isAbort(err)) return new AbortedError().message;
  return err instanceof Error ? err.message : String(err);
}

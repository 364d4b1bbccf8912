/**
 * Feeding settled files to the engine session and recording each result in one transaction.
 *
 * The session's upload() runs for the daemon's life over a channel this feeder pushes to; at most
 * `window` files are in flight, so memory is bounded however many files are queued (the queue is
 * the database). A file's version (size, mtime, inode) is fixed when it is handed over: the engine
 * checks it at close (never closing bytes of another version), and the result is compared with the
 * row again, so a change at any moment leads to a re-upload, never to a stale object left live.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOptions, type UaOptions } from '../../config/options.js';
import type { Session } from '../../engine/session.js';
import { canonicalPath } from '../../plan/signature.js';
import { planFile, readHead } from '../../plan/plan.js';
import type { UploadEntry } from '../../plan/inputs.js';
import type { FileResult, ScheduledFile } from '../../transfer/scheduler.js';
import type { DaemonStore, FileRow, RunRow, Version } from '../state/store.js';
import { oneLine } from '../ops/log.js';
import { runFolder } from './platform-steps.js';

/** An async iterable the session pulls from; push() hands it a file, end() finishes it. */
export class Channel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake?: () => void;
  #ended = false;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}

export interface FeederOptions {
  store: DaemonStore;
  session: Session;
  project: string;
  folder: string;
  window: number;
  compress: boolean;
  failAfter: number;
  retryBaseMs: number;
  now(): number;
  /** A file reached `failAfter` attempts (reported once; it keeps being retried). */
  onFileFailed(run: RunRow, row: FileRow): void;
  /** Files uploaded only once nothing else of their run is pending (completion markers). */
  isLast(path: string): boolean;
  /** A file ended (uploaded or not): the daemon may feed more and check its run. */
  onSettled(run: number): void;
  signal: AbortSignal;
}

interface InFlight {
  row: number;
  run: number;
  version: Version;
  abs: string;
}

/** Delay before attempt `n + 1` of something that failed `n` times: base · 2^(n-1), at most 1 h. */
export function backoff(base: number, attempts: number): number {
  return Math.min(3_600_000, base * 2 ** Math.max(0, attempts - 1));
}

export class UploadFeeder {
  readonly #o: FeederOptions;
  readonly #channel = new Channel<ScheduledFile>();
  readonly #inFlight = new Map<number, InFlight>(); // by engine order
  readonly #rows = new Set<number>();
  readonly #options: UaOptions;
  #order = 0;
  readonly done: Promise<void>;

  constructor(o: FeederOptions) {
    this.#o = o;
    this.#options = {
      ...defaultOptions(),
      doNotCompress: !o.compress,
      folders: [o.folder],
    };
    this.done = o.session.upload(this.#channel, (r) => this.#result(r));
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Hands due files to the session until the window is full. */
  feed(): void {
    const room = this.#o.window - this.#inFlight.size;
    if (room <= 0 || this.#o.signal.aborted) return;
    for (const row of this.#o.store.due(this.#o.now(), room, this.#rows)) {
      if (this.#o.isLast(row.path) && this.#o.store.hasPendingOthers(row.run, (p) => this.#o.isLast(p)))
        continue;
      this.#start(row);
    }
  }

  /** No more files; resolves when the session has the results of those in flight. */
  end(): Promise<void> {
    this.#channel.end();
    return this.done;
  }

  #start(row: FileRow): void {
    const run = this.#o.store.run(row.run)!;
    const abs = join(run.dir, row.path);
    const version: Version = { size: row.size, mtimeMs: row.mtime_ms, dev: row.dev, ino: row.ino };
    const slash = row.path.lastIndexOf('/');
    const base = runFolder(this.#o.folder, run);
    const entry: UploadEntry = {
      order: this.#order++,
      localPath: abs,
      absPath: abs,
      canonicalPath: canonicalPath(abs),
      size: row.size,
      mtimeMs: row.mtime_ms,
      dev: row.dev,
      ino: row.ino,
      ctimeMs: row.ctime_ms,
      projectSpec: this.#o.project,
      folder: slash < 0 ? base : `${base}/${row.path.slice(0, slash)}`,
      name: slash < 0 ? row.path : row.path.slice(slash + 1),
      source: 'file',
      argIndex: 0,
    };
    let sf: ScheduledFile;
    try {
      const options = { ...this.#options, properties: { run_id: run.run_id, run_folder: run.name } };
      sf = { plan: planFile(entry, options, readHead(abs)), projectId: this.#o.project };
    } catch {
      // Gone or unreadable since the scan: the next scan sees what it is now.
      this.#o.store.restartSettle(row.id, this.#o.now());
      return;
    }
    this.#o.store.markUploading(row.id, sf.plan.signature);
    this.#inFlight.set(entry.order, { row: row.id, run: row.run, version, abs });
    this.#rows.add(row.id);
    this.#channel.push(sf);
  }

  #result(r: FileResult): void {
    const f = this.#inFlight.get(r.order);
    if (!f) return;
    this.#inFlight.delete(r.order);
    this.#rows.delete(f.row);
    const o = this.#o;
    const now = o.now();
    if (r.outcome !== 'failed' && r.fileId) {
      o.store.uploaded(f.row, f.version, r.fileId, o.project, now);
    } else if (o.signal.aborted) {
      o.store.requeue(f.row);
    } else {
      const changed = !sameFile(f.abs, f.version);
      const row = o.store.uploadFailed(
        f.row,
        oneLine(r.error ?? 'failed'),
        changed,
        (n) => now + backoff(o.retryBaseMs, n),
      );
      if (changed) {
        // The object of the version that changed under the upload (open, or closed by a crash window).
        o.store.addStale(f.run, row.path, o.project, null, row.signature);
      } else if (row.attempts >= o.failAfter && !row.failed_reported) {
        o.store.markFileFailedReported(f.row);
        o.onFileFailed(o.store.run(f.run)!, row);
      }
    }
    o.onSettled(f.run);
  }
}

function sameFile(abs: string, v: Version): boolean {
  try {
    const st = statSync(abs);
    return st.size === v.size && st.mtimeMs === v.mtimeMs && st.dev === v.dev && st.ino === v.ino;
  } catch {
    return false;
  }
}

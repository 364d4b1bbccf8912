/**
 * Feeding claimed work to the engine session and recording each result in one transaction.
 *
 * The session's upload() runs for the daemon's life over a channel this feeder pushes to; at most
 * `window` units are in flight, so memory is bounded however many are queued (the queue is the
 * database). A unit is a file (--layout files, FileUnits here) or a tar batch (tar-units.ts): the
 * feeder claims, plans and records through the unit kind, and owns the rest — the window, one feed
 * at a time, and results written until the database takes them (never dropped).
 *
 * A file's version (size, mtime, inode) is fixed when it is handed over: the engine checks it at
 * close (never closing bytes of another version), and the result is compared with the row again,
 * so a change at any moment leads to a re-upload, never to a stale object left live.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOptions, type UaOptions } from '../../config/options.js';
import type { Session } from '../../engine/session.js';
import { canonicalPath } from '../../plan/signature.js';
import { planFile, readHead } from '../../plan/plan.js';
import type { UploadEntry } from '../../plan/inputs.js';
import type { FileResult, ScheduledFile } from '../../transfer/scheduler.js';
import { versionOf, type DaemonStore, type FileRow, type RunRow, type Version } from '../state/store.js';
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

/** One kind of upload unit: how it is claimed, planned for the engine, and recorded. */
export interface UnitKind<U extends { run: number }> {
  /** Which table's rows the units are (their leases are renewed by id while in flight). */
  readonly table: 'files' | 'tars';
  /** The unit's row id in that table. */
  id(u: U): number;
  claim(now: number, room: number): Promise<U[]>;
  /** The unit as one engine upload; undefined when it cannot go now (the kind has put it back). */
  plan(u: U, order: number): Promise<ScheduledFile | undefined>;
  /**
   * Records the engine's result for `u` (with `aborted`: the daemon is stopping). A unit that failed
   * because this host cannot reach the platform is handed back to any host, no attempt counted.
   */
  record(u: U, r: FileResult, aborted: boolean): Promise<void>;
}

export interface FeederOptions {
  session: Session;
  window: number;
  now(): number;
  signal: AbortSignal;
  /** Writing a result to the database failed (it is retried until it succeeds). */
  onWriteFailed?(err: Error): void;
  /** A unit ended (uploaded or not): the daemon may feed more and check its run. */
  onSettled(run: number): void;
  /** This host cannot reach the platform: it claims nothing for `ms` (other hosts take the work). */
  onUnreachable?(ms: number, error: string): void;
  retryBaseMs: number;
}

/** The platform could not be reached from this host (a connection error, after the engine's retries). */
export const unreachable = (r: FileResult): boolean =>
  r.outcome === 'failed' && r.code === 'UA_ERR_CONNECTION';

/** Delay before attempt `n + 1` of something that failed `n` times: base · 2^(n-1), at most 1 h. */
export function backoff(base: number, attempts: number): number {
  return Math.min(3_600_000, base * 2 ** Math.max(0, attempts - 1));
}

export class UploadFeeder<U extends { run: number }> {
  readonly #o: FeederOptions;
  readonly #kind: UnitKind<U>;
  readonly #channel = new Channel<ScheduledFile>();
  readonly #inFlight = new Map<number, U>(); // by engine order
  /** Results being written (a database that is away is retried until it is back). */
  readonly #writing = new Set<Promise<void>>();
  #feeding?: Promise<void>;
  #again = false;
  #ended = false;
  #order = 0;
  /** Consecutive results that could not reach the platform, and when this host claims again. */
  #unreachable = 0;
  #pausedUntil = 0;
  readonly done: Promise<void>;

  constructor(o: FeederOptions, kind: UnitKind<U>) {
    this.#o = o;
    this.#kind = kind;
    this.done = o.session.upload(this.#channel, (r) => this.#result(r));
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Row ids of the units in flight (their claims' leases are renewed by the heartbeat). */
  live(): { files: number[]; tars: number[] } {
    const ids = [...this.#inFlight.values()].map((u) => this.#kind.id(u));
    return this.#kind.table === 'files' ? { files: ids, tars: [] } : { files: [], tars: ids };
  }

  /**
   * Claims due units and hands them to the session until the window is full. One feed runs at a
   * time; a call while one runs makes it go round once more.
   */
  feed(): Promise<void> {
    if (this.#feeding) {
      this.#again = true;
      return this.#feeding;
    }
    this.#feeding = (async () => {
      try {
        do {
          this.#again = false;
          await this.#feedOnce();
        } while (this.#again);
      } finally {
        this.#feeding = undefined;
      }
    })();
    return this.#feeding;
  }

  async #feedOnce(): Promise<void> {
    const room = this.#o.window - this.#inFlight.size;
    if (room <= 0 || this.#o.signal.aborted || this.#ended || this.#o.now() < this.#pausedUntil) return;
    for (const u of await this.#kind.claim(this.#o.now(), room)) {
      const order = this.#order++;
      const sf = await this.#kind.plan(u, order);
      if (!sf) continue;
      this.#inFlight.set(order, u);
      this.#channel.push(sf);
    }
  }

  /** No more units; resolves when the session has the results of those in flight, and they are written. */
  async end(): Promise<void> {
    this.#ended = true;
    await this.#feeding;
    this.#channel.end();
    await this.done;
    while (this.#writing.size > 0) await Promise.allSettled([...this.#writing]);
  }

  /** A result is written to the database, retried while the database is away (never dropped). */
  #result(r: FileResult): void {
    const u = this.#inFlight.get(r.order);
    if (!u) return;
    // A host cut off from the platform stops claiming, with backoff, instead of failing every file
    // it takes (each failure would also delay that file for the hosts that can reach it).
    if (unreachable(r)) {
      this.#unreachable++;
      const ms = Math.min(300_000, backoff(this.#o.retryBaseMs, this.#unreachable));
      this.#pausedUntil = this.#o.now() + ms;
      if (this.#unreachable === 1 || this.#unreachable % 10 === 0) this.#o.onUnreachable?.(ms, r.error ?? '');
    } else if (r.outcome !== 'failed') this.#unreachable = 0;
    const w = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#kind.record(u, r, this.#o.signal.aborted);
          break;
        } catch (err) {
          if (attempt === 1 || attempt % 20 === 0) this.#o.onWriteFailed?.(err as Error);
          await new Promise((res) => setTimeout(res, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))));
        }
      }
      this.#inFlight.delete(r.order);
      this.#o.onSettled(u.run);
    })();
    this.#writing.add(w);
    void w.finally(() => this.#writing.delete(w));
  }
}

export interface FileUnitOptions {
  store: DaemonStore;
  project: string;
  folder: string;
  compress: boolean;
  failAfter: number;
  retryBaseMs: number;
  now(): number;
  /** A file reached `failAfter` attempts (reported once; it keeps being retried). */
  onFileFailed(run: RunRow, row: FileRow): Promise<void>;
  /** Files uploaded only once nothing else of their run is pending (completion markers). */
  isLast(path: string): boolean;
}

/** A file being uploaded: its row, the claim it holds and the version handed to the engine. */
interface FileUnit {
  row: number;
  claim: number;
  run: number;
  version: Version;
  abs: string;
  claimed: FileRow;
  runRow: RunRow;
}

/** --layout files: each file is one remote file at <folder>/<run>/<path>. */
export class FileUnits implements UnitKind<FileUnit> {
  readonly table = 'files' as const;
  readonly #o: FileUnitOptions;
  readonly #options: UaOptions;

  constructor(o: FileUnitOptions) {
    this.#o = o;
    this.#options = { ...defaultOptions(), doNotCompress: !o.compress, folders: [o.folder] };
  }

  id(u: FileUnit): number {
    return u.row;
  }

  async claim(now: number, room: number): Promise<FileUnit[]> {
    const rows = await this.#o.store.claim(now, room, (p) => this.#o.isLast(p));
    const runs = new Map<number, RunRow>();
    const out: FileUnit[] = [];
    for (const row of rows) {
      if (!runs.has(row.run)) runs.set(row.run, (await this.#o.store.run(row.run))!);
      const runRow = runs.get(row.run)!;
      out.push({
        row: row.id,
        claim: row.claim,
        run: row.run,
        abs: join(runRow.dir, row.path),
        version: versionOf({ size: row.size, mtimeMs: row.mtime_ms, ino: row.ino }),
        claimed: row,
        runRow,
      });
    }
    return out;
  }

  async plan(u: FileUnit, order: number): Promise<ScheduledFile | undefined> {
    const { claimed: row, runRow: run } = u;
    // This host's view of the file: its device number (another host's differs) and ctime go to the
    // engine's identity check; a size, mtime or inode unlike the row's is a change the scan will see.
    let local: { dev: number; ctimeMs: number };
    try {
      const st = statSync(u.abs);
      if (st.size !== row.size || st.mtimeMs !== row.mtime_ms || st.ino !== row.ino)
        throw new Error('changed');
      local = { dev: st.dev, ctimeMs: st.ctimeMs };
    } catch {
      await this.#o.store.restartSettle(row.id, this.#o.now());
      return undefined;
    }
    const slash = row.path.lastIndexOf('/');
    const base = runFolder(this.#o.folder, run);
    const entry: UploadEntry = {
      order,
      localPath: u.abs,
      absPath: u.abs,
      canonicalPath: canonicalPath(u.abs),
      size: row.size,
      mtimeMs: row.mtime_ms,
      dev: local.dev,
      ino: row.ino,
      ctimeMs: local.ctimeMs,
      projectSpec: this.#o.project,
      folder: slash < 0 ? base : `${base}/${row.path.slice(0, slash)}`,
      name: slash < 0 ? row.path : row.path.slice(slash + 1),
      source: 'file',
      argIndex: 0,
    };
    let sf: ScheduledFile;
    try {
      const options = { ...this.#options, properties: { run_id: run.run_id, run_folder: run.name } };
      sf = { plan: planFile(entry, options, readHead(u.abs)), projectId: this.#o.project };
    } catch {
      // Gone or unreadable since the scan: the next scan sees what it is now.
      await this.#o.store.restartSettle(row.id, this.#o.now());
      return undefined;
    }
    await this.#o.store.setSignature(row.id, row.claim, sf.plan.signature);
    return sf;
  }

  async record(f: FileUnit, r: FileResult, aborted: boolean): Promise<void> {
    const o = this.#o;
    const now = o.now();
    if (r.outcome !== 'failed' && r.fileId) {
      await o.store.uploaded(f.row, f.version, r.fileId, o.project, now);
    } else if (aborted) {
      await o.store.requeue(f.row, f.claim);
    } else if (unreachable(r)) {
      await o.store.requeue(f.row, f.claim, oneLine(r.error ?? 'unreachable'));
    } else {
      const changed = !sameFile(f.abs, f.version);
      const row = await o.store.uploadFailed(
        f.row,
        f.claim,
        oneLine(r.error ?? 'failed'),
        changed,
        (n) => now + backoff(o.retryBaseMs, n),
      );
      if (changed) {
        // The object of the version that changed under the upload (open, or closed by a crash window).
        await o.store.addStale(f.run, row.path, o.project, null, row.signature);
      } else if (row.attempts >= o.failAfter && !row.failed_reported && row.claim === f.claim) {
        await o.store.markFileFailedReported(f.row);
        await o.onFileFailed((await o.store.run(f.run))!, row);
      }
    }
  }
}

export function sameFile(abs: string, v: Version): boolean {
  try {
    const st = statSync(abs);
    return st.size === v.size && st.mtimeMs === v.mtimeMs && st.ino === v.ino;
  } catch {
    return false;
  }
}

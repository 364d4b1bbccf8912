/**
 * Every state change of the daemon, each one transaction (schema.ts says what the tables hold). The
 * daemon's steps call these; nothing else writes the database.
 */
import type Database from 'better-sqlite3';
import type { Stats } from 'node:fs';
import type { Db } from './db.js';
import { StoreBase } from './store-base.js';

export type { OutboxRow, StaleRow } from './store-base.js';

export type RunPhase = 'active' | 'finishing' | 'complete';
export type FileState = 'settling' | 'ready' | 'uploading' | 'uploaded' | 'gone';

export interface RunRow {
  id: number;
  dir: string;
  root: string;
  name: string;
  profile: string;
  run_id: string;
  discovered_at: number;
  started_at: number;
  marker: string | null;
  phase: RunPhase;
  sentinel_nonce: string | null;
  sentinel_id: string | null;
  workflow_nonce: string | null;
  job_id: string | null;
  hook_state: string | null;
  step_attempts: number;
  next_step_at: number;
  last_error: string | null;
  stalled_reported: number;
  failed_reported: number;
  last_change_at: number;
  completed_at: number | null;
}

export interface FileRow {
  id: number;
  run: number;
  path: string;
  size: number;
  mtime_ms: number;
  dev: number;
  ino: number;
  ctime_ms: number;
  seen_at: number;
  state: FileState;
  attempts: number;
  next_try_at: number;
  last_error: string | null;
  failed_reported: number;
  file_id: string | null;
  signature: string | null;
}

/** The version of a file an upload was started for (compared again when its result comes). */
export interface Version {
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

const sameVersion = (r: Pick<FileRow, 'size' | 'mtime_ms' | 'dev' | 'ino'>, v: Version): boolean =>
  r.size === v.size && r.mtime_ms === v.mtimeMs && r.dev === v.dev && r.ino === v.ino;

export function versionOf(st: Stats): Version {
  return { size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino };
}

export class DaemonStore extends StoreBase {
  readonly #q: Record<string, Database.Statement>;

  constructor(db: Db) {
    super(db);
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      runByDir: p('SELECT * FROM runs WHERE dir = ?'),
      runById: p('SELECT * FROM runs WHERE id = ?'),
      insertRun:
        p(`INSERT INTO runs (dir, root, name, profile, run_id, discovered_at, started_at, last_change_at)
        VALUES (@dir, @root, @name, @profile, @runId, @now, @startedAt, @now)`),
      fileByPath: p('SELECT * FROM files WHERE run = ? AND path = ?'),
      fileById: p('SELECT * FROM files WHERE id = ?'),
      insertFile: p(`INSERT INTO files (run, path, size, mtime_ms, dev, ino, ctime_ms, seen_at, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'settling')`),
      setVersion: p(`UPDATE files SET size = ?, mtime_ms = ?, dev = ?, ino = ?, ctime_ms = ?, seen_at = ?,
        state = ?, file_id = ?, signature = ?, attempts = 0, next_try_at = 0, failed_reported = 0 WHERE id = ?`),
      setState: p('UPDATE files SET state = ? WHERE id = ?'),
      touchRun: p('UPDATE runs SET last_change_at = ? WHERE id = ?'),
      addStale: p(
        `INSERT INTO stale_objects (run, path, project, file_id, signature) VALUES (?, ?, ?, ?, ?)`,
      ),
      addThroughput: p(`INSERT INTO throughput (run, minute, bytes, files) VALUES (?, ?, ?, 1)
        ON CONFLICT (run, minute) DO UPDATE SET bytes = bytes + excluded.bytes, files = files + 1`),
      event: p('INSERT INTO events (run, at, level, kind, message) VALUES (?, ?, ?, ?, ?)'),
      outbox: p('INSERT OR IGNORE INTO outbox (key, body, created_at) VALUES (?, ?, ?)'),
    };
  }

  // ---- runs ----

  /** The run for `dir`, inserted the first time it is seen. */
  upsertRun(r: {
    dir: string;
    root: string;
    name: string;
    profile: string;
    runId: string;
    startedAt: number;
    now: number;
  }): { run: RunRow; created: boolean } {
    const have = this.#q.runByDir.get(r.dir) as RunRow | undefined;
    if (have) return { run: have, created: false };
    this.#q.insertRun.run(r);
    this.event(null, 'info', 'run-discovered', `run ${r.name} discovered (${r.profile})`, r.now);
    return { run: this.#q.runByDir.get(r.dir) as RunRow, created: true };
  }

  run(id: number): RunRow | undefined {
    return this.#q.runById.get(id) as RunRow | undefined;
  }

  runByName(name: string): RunRow | undefined {
    return this.p('SELECT * FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1').get(name) as
      RunRow | undefined;
  }

  runs(phase?: RunPhase): RunRow[] {
    return (
      phase
        ? this.p('SELECT * FROM runs WHERE phase = ? ORDER BY id').all(phase)
        : this.p('SELECT * FROM runs ORDER BY id').all()
    ) as RunRow[];
  }

  updateRun(id: number, patch: Partial<Omit<RunRow, 'id'>>): void {
    const keys = Object.keys(patch);
    if (keys.length === 0) return;
    const sql = `UPDATE runs SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`;
    this.p(sql).run({ ...patch, id });
  }

  /** A step of a finishing run failed: retried at `nextAt`. */
  runStepFailed(id: number, error: string, nextAt: number): void {
    this.p(
      'UPDATE runs SET step_attempts = step_attempts + 1, next_step_at = ?, last_error = ? WHERE id = ?',
    ).run(nextAt, error, id);
  }

  // ---- files ----

  /**
   * A file as the scan sees it. A new version of a file already uploaded puts its old object on the
   * stale list at once (removed before the new one is uploaded: never two live copies of a path).
   * Returns true when anything changed.
   */
  observe(run: RunRow, path: string, st: Stats, project: string, now: number): boolean {
    const row = this.#q.fileByPath.get(run.id, path) as FileRow | undefined;
    const v = versionOf(st);
    if (!row) {
      this.#q.insertFile.run(run.id, path, v.size, v.mtimeMs, v.dev, v.ino, st.ctimeMs, now);
      this.#q.touchRun.run(now, run.id);
      return true;
    }
    if (sameVersion(row, v)) {
      if (row.state !== 'gone') return false;
      this.#q.setState.run(row.file_id ? 'uploaded' : 'settling', row.id);
      return true;
    }
    this.db.transaction(() => {
      // An upload in flight keeps its state: its result compares the version it sent with this one.
      const state: FileState = row.state === 'uploading' ? 'uploading' : 'settling';
      if (row.state === 'uploaded' || (row.state === 'gone' && row.file_id))
        this.#q.addStale.run(run.id, path, project, row.file_id, row.signature);
      const keep = row.state === 'uploading';
      this.#q.setVersion.run(
        v.size,
        v.mtimeMs,
        v.dev,
        v.ino,
        st.ctimeMs,
        now,
        state,
        keep ? row.file_id : null,
        keep ? row.signature : null,
        row.id,
      );
      this.#q.touchRun.run(now, run.id);
    })();
    return true;
  }

  /** Files of `run` not present on disk any more (`exists` says); an uploaded one's object goes stale. */
  markGone(run: RunRow, exists: (path: string) => boolean, project: string, now: number): number {
    let n = 0;
    const rows = this.p(`SELECT * FROM files WHERE run = ? AND state != 'gone'`).all(run.id) as FileRow[];
    for (const row of rows) {
      if (exists(row.path)) continue;
      this.db.transaction(() => {
        if (row.state === 'uploaded')
          this.#q.addStale.run(run.id, row.path, project, row.file_id, row.signature);
        this.p(`UPDATE files SET state = 'gone', file_id = NULL, signature = NULL WHERE id = ?`).run(row.id);
        this.#q.touchRun.run(now, run.id);
      })();
      n++;
    }
    return n;
  }

  /** Rows unchanged since `before`, oldest first: candidates to settle. */
  settlingSince(before: number, limit: number): FileRow[] {
    return this.p(`SELECT * FROM files WHERE state = 'settling' AND seen_at <= ? ORDER BY id LIMIT ?`).all(
      before,
      limit,
    ) as FileRow[];
  }

  /** Settled: queued for upload. */
  markReady(id: number): void {
    this.p(`UPDATE files SET state = 'ready' WHERE id = ? AND state = 'settling'`).run(id);
  }

  /** Still open for writing: counts as changed now. */
  restartSettle(id: number, now: number): void {
    this.p('UPDATE files SET seen_at = ? WHERE id = ?').run(now, id);
  }

  /** Ready files whose next try is due, runs in discovery order, files in the order they were found. */
  due(now: number, limit: number, except: ReadonlySet<number>): FileRow[] {
    const rows = this.p(
      `SELECT f.* FROM files f JOIN runs r ON r.id = f.run
        WHERE f.state = 'ready' AND f.next_try_at <= ? AND r.phase = 'active' ORDER BY f.next_try_at, f.id LIMIT ?`,
    ).all(now, limit + except.size) as FileRow[];
    return rows.filter((r) => !except.has(r.id)).slice(0, limit);
  }

  markUploading(id: number, signature: string | undefined): void {
    this.p(`UPDATE files SET state = 'uploading', signature = ? WHERE id = ?`).run(signature ?? null, id);
  }

  /**
   * An upload of version `v` closed as `fileId`. If the file changed meanwhile, that object is
   * already stale: it goes on the stale list and the row waits for its new version to settle.
   */
  uploaded(id: number, v: Version, fileId: string, project: string, now: number): void {
    this.db.transaction(() => {
      const row = this.#q.fileById.get(id) as FileRow;
      if (!sameVersion(row, v) || row.state === 'gone') {
        this.#q.addStale.run(row.run, row.path, project, fileId, row.signature);
        if (row.state === 'uploading') this.#q.setState.run('settling', id);
        return;
      }
      this.p(
        `UPDATE files SET state = 'uploaded', file_id = ?, uploaded_size = size, uploaded_mtime_ms = mtime_ms,
          uploaded_at = ?, last_error = NULL WHERE id = ?`,
      ).run(fileId, now, id);
      this.#q.addThroughput.run(row.run, Math.floor(now / 60_000), row.size);
      this.#q.touchRun.run(now, row.run);
    })();
  }

  /**
   * The upload failed. `changed` = the file changed under it: not the file's fault, no attempt is
   * counted and it settles again. Otherwise it is due again at `nextTryAt(attempts so far)`.
   * Returns the row as it is now.
   */
  uploadFailed(
    id: number,
    error: string,
    changed: boolean,
    nextTryAt: (attempts: number) => number,
  ): FileRow {
    return this.db.transaction(() => {
      const row = this.#q.fileById.get(id) as FileRow;
      if (changed) {
        this.p(`UPDATE files SET state = 'settling' WHERE id = ? AND state = 'uploading'`).run(id);
      } else {
        const attempts = row.attempts + 1;
        this.p(
          `UPDATE files SET state = CASE state WHEN 'uploading' THEN 'ready' ELSE state END,
            attempts = ?, next_try_at = ?, last_error = ? WHERE id = ?`,
        ).run(attempts, nextTryAt(attempts), error, id);
      }
      return this.#q.fileById.get(id) as FileRow;
    })();
  }

  /** Stopping: an upload in flight is due again at the next start, no attempt counted. */
  requeue(id: number): void {
    this.p(`UPDATE files SET state = 'ready' WHERE id = ? AND state = 'uploading'`).run(id);
  }

  markFileFailedReported(id: number): void {
    this.p('UPDATE files SET failed_reported = 1 WHERE id = ?').run(id);
  }

  /** After a crash: uploads that were in flight are simply due again (resume finds their parts). */
  requeueUploading(): number {
    return this.p(`UPDATE files SET state = 'ready' WHERE state = 'uploading'`).run().changes;
  }

  counts(run: number): Record<FileState, number> {
    const out: Record<FileState, number> = { settling: 0, ready: 0, uploading: 0, uploaded: 0, gone: 0 };
    const rows = this.p('SELECT state, COUNT(*) AS n FROM files WHERE run = ? GROUP BY state').all(
      run,
    ) as Array<{ state: FileState; n: number }>;
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /** True while a file of `run` is settling, due or in flight (an index lookup, cheap per result). */
  hasPendingFiles(run: number): boolean {
    return (
      this.p(`SELECT 1 FROM files WHERE run = ? AND state IN ('settling', 'ready', 'uploading') LIMIT 1`).get(
        run,
      ) !== undefined
    );
  }

  /** True while a file of `run` other than those `isLast` picks is settling, due or in flight. */
  hasPendingOthers(run: number, isLast: (path: string) => boolean): boolean {
    const rows = this.p(
      `SELECT path FROM files WHERE run = ? AND state IN ('settling', 'ready', 'uploading') LIMIT 16`,
    ).all(run) as Array<{ path: string }>;
    return rows.some((r) => !isLast(r.path));
  }

  liveFileCount(run: number): number {
    return (
      this.p(`SELECT COUNT(*) AS n FROM files WHERE run = ? AND state != 'gone'`).get(run) as {
        n: number;
      }
    ).n;
  }

  /** Uploaded files of a run, in path order (the sentinel's list). */
  uploadedFiles(run: number): Array<{ path: string; file_id: string; size: number }> {
    return this.p(
      `SELECT path, file_id, size FROM files WHERE run = ? AND state = 'uploaded' ORDER BY path`,
    ).all(run) as Array<{ path: string; file_id: string; size: number }>;
  }
}

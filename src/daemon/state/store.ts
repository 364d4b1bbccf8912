/**
 * Every state change of the daemon's runs and files, each one transaction (schema.ts says what the
 * tables hold), the same for one host on SQLite and a fleet on PostgreSQL. The daemon's steps call
 * these; nothing else writes the database.
 *
 * Exactly once across hosts comes from conditional transitions, never from timing: a file is
 * claimed by `UPDATE … WHERE state = 'ready'` (one host wins each row), a result is recorded only
 * if the row is still the version that was uploaded, a failure only by the claim that failed, and a
 * run's finishing steps are run by the one host that holds its `owner` lease.
 */
import type { Stats } from 'node:fs';
import { marks, type Sql } from './sql.js';
import { skipLocked, StoreBase, type StoreOptions } from './store-base.js';
import { dissolveBatch } from './tars.js';

export type { HostRow, OutboxRow, StaleRow, StoreOptions } from './store-base.js';

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
  owner: string | null;
  owner_until: number;
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
  claimed_by: string | null;
  claim: number;
  /** --layout tar: the batch this file is in (its `file_id` is then the batch's object). */
  tar: number | null;
}

/** The version of a file an upload was started for (compared again when its result comes). */
export interface Version {
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Size, mtime and inode: not the device number, which differs between hosts mounting one share
 * (each NFS client numbers its mounts), so two hosts see one version, not a change per scan.
 */
const sameVersion = (r: Pick<FileRow, 'size' | 'mtime_ms' | 'ino'>, v: Version): boolean =>
  r.size === v.size && r.mtime_ms === v.mtimeMs && r.ino === v.ino;

export function versionOf(st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): Version {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

export interface Observed {
  rel: string;
  st: Pick<Stats, 'size' | 'mtimeMs' | 'dev' | 'ino' | 'ctimeMs'>;
}

export class DaemonStore extends StoreBase {
  constructor(q: Sql, o: StoreOptions & { throughput?: DaemonStore['throughputBuffer'] }) {
    super(q, o);
  }

  /** The store inside one transaction: every call of `fn` on `s` commits or rolls back together. */
  tx<T>(fn: (s: DaemonStore) => Promise<T>): Promise<T> {
    return this.q.tx((t) =>
      fn(new DaemonStore(t, { host: this.host, leaseMs: this.leaseMs, throughput: this.throughputBuffer })),
    );
  }

  // ---- runs ----

  /** The run for `dir`, inserted the first time any host sees it. */
  async upsertRun(r: {
    dir: string;
    root: string;
    name: string;
    profile: string;
    runId: string;
    startedAt: number;
    now: number;
  }): Promise<{ run: RunRow; created: boolean }> {
    const created =
      (await this.q.run(
        `INSERT INTO runs (dir, root, name, profile, run_id, discovered_at, started_at, last_change_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dir) DO NOTHING`,
        [r.dir, r.root, r.name, r.profile, r.runId, r.now, r.startedAt, r.now],
      )) === 1;
    const run = (await this.q.get<RunRow>('SELECT * FROM runs WHERE dir = ?', [r.dir]))!;
    if (created)
      await this.event(run.id, 'info', 'run-discovered', `run ${r.name} discovered (${r.profile})`, r.now);
    return { run, created };
  }

  /** This host can read `run`'s folder: it may claim its files. */
  async seesRun(run: number): Promise<void> {
    await this.q.run('INSERT INTO run_hosts (run, host) VALUES (?, ?) ON CONFLICT (run, host) DO NOTHING', [
      run,
      this.host,
    ]);
  }

  run(id: number): Promise<RunRow | undefined> {
    return this.q.get<RunRow>('SELECT * FROM runs WHERE id = ?', [id]);
  }

  runByName(name: string): Promise<RunRow | undefined> {
    return this.q.get<RunRow>('SELECT * FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1', [name]);
  }

  runs(phase?: RunPhase): Promise<RunRow[]> {
    return phase
      ? this.q.all<RunRow>('SELECT * FROM runs WHERE phase = ? ORDER BY id', [phase])
      : this.q.all<RunRow>('SELECT * FROM runs ORDER BY id');
  }

  /** Runs this host sees, in one phase. */
  myRuns(phase: RunPhase): Promise<RunRow[]> {
    return this.q.all<RunRow>(
      `SELECT r.* FROM runs r JOIN run_hosts h ON h.run = r.id AND h.host = ? WHERE r.phase = ? ORDER BY r.id`,
      [this.host, phase],
    );
  }

  async updateRun(id: number, patch: Partial<Omit<RunRow, 'id'>>): Promise<void> {
    const keys = Object.keys(patch) as Array<keyof typeof patch>;
    if (keys.length === 0) return;
    await this.q.run(`UPDATE runs SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, [
      ...keys.map((k) => patch[k]),
      id,
    ]);
  }

  /** All files uploaded and the run complete on disk: active → finishing, by one host. */
  async startFinishing(id: number): Promise<boolean> {
    return (
      (await this.q.run(
        `UPDATE runs SET phase = 'finishing', next_step_at = 0 WHERE id = ? AND phase = 'active'`,
        [id],
      )) === 1
    );
  }

  /**
   * Takes (or keeps) the run's finishing steps for this host for a lease. False while another live
   * host holds them: one owner runs the sentinel, the launch and the hook.
   */
  async ownRunSteps(id: number, now: number): Promise<boolean> {
    return (
      (await this.q.run(
        `UPDATE runs SET owner = ?, owner_until = ? WHERE id = ? AND phase = 'finishing'
           AND (owner IS NULL OR owner = ? OR owner_until < ?)`,
        [this.host, now + this.leaseMs, id, this.host, now],
      )) === 1
    );
  }

  /** Stores `nonce` unless the run has one (from an earlier attempt, on any host); returns the run's. */
  async nonceOnce(id: number, column: 'sentinel_nonce' | 'workflow_nonce', nonce: string): Promise<string> {
    await this.q.run(`UPDATE runs SET ${column} = ? WHERE id = ? AND ${column} IS NULL`, [nonce, id]);
    return (await this.q.get<Record<string, string>>(`SELECT ${column} AS n FROM runs WHERE id = ?`, [id]))!
      .n;
  }

  /**
   * A step of a finishing run failed: retried at `nextAt`, by whichever host takes it then (the
   * owner lets go, so a host that cannot reach the platform does not keep the run to itself).
   */
  async runStepFailed(id: number, error: string, nextAt: number): Promise<void> {
    await this.q.run(
      'UPDATE runs SET step_attempts = step_attempts + 1, next_step_at = ?, last_error = ?, owner = NULL WHERE id = ?',
      [nextAt, error, id],
    );
  }

  // ---- files ----

  /**
   * Files as the scan sees them, a batch at a time (one query for the batch, one insert for its new
   * files: a 100,000-file run is a few hundred statements per scan, not 100,000 round trips to a
   * database server). A new version of a file already uploaded puts its old object on the stale
   * list at once (removed before the new one is uploaded: never two live copies of a path).
   * Returns how many rows changed.
   */
  async observe(run: RunRow, batch: readonly Observed[], project: string, now: number): Promise<number> {
    if (batch.length === 0) return 0;
    const have = new Map<string, FileRow>();
    for (const r of await this.q.all<FileRow>(
      `SELECT * FROM files WHERE run = ? AND path IN (${marks(batch.length)})`,
      [run.id, ...batch.map((b) => b.rel)],
    ))
      have.set(r.path, r);
    const fresh: Observed[] = [];
    let changed = 0;
    for (const b of batch) {
      const row = have.get(b.rel);
      if (!row) fresh.push(b);
      else if (sameVersion(row, versionOf(b.st))) {
        if (row.state !== 'gone') continue;
        await this.q.run(`UPDATE files SET state = ? WHERE id = ? AND state = 'gone'`, [
          row.file_id ? 'uploaded' : 'settling',
          row.id,
        ]);
        changed++;
      } else {
        await this.#newVersion(run, row, b, project, now);
        changed++;
      }
    }
    if (fresh.length > 0) {
      await this.q.run(
        `INSERT INTO files (run, path, size, mtime_ms, dev, ino, ctime_ms, seen_at, state)
         VALUES ${fresh.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, 'settling')").join(', ')}
         ON CONFLICT (run, path) DO NOTHING`,
        fresh.flatMap((b) => [run.id, b.rel, b.st.size, b.st.mtimeMs, b.st.dev, b.st.ino, b.st.ctimeMs, now]),
      );
      changed += fresh.length;
    }
    if (changed > 0) await this.q.run('UPDATE runs SET last_change_at = ? WHERE id = ?', [now, run.id]);
    return changed;
  }

  async #newVersion(run: RunRow, seen: FileRow, b: Observed, project: string, now: number): Promise<void> {
    await this.q.tx(async (t) => {
      const row = (await t.get<FileRow>('SELECT * FROM files WHERE id = ?', [seen.id]))!;
      if (sameVersion(row, versionOf(b.st))) return; // another host recorded it first
      // An upload in flight keeps its state: its result compares the version it sent with this one.
      // A tar batch's member leaves its batch instead: the batch (if still to upload) is made again
      // without it, and the new version goes in a later batch. An uploaded batch stays: it holds
      // other files too, so the tar set then has both versions, the later batch the newer one.
      const keep = row.state === 'uploading' && row.tar === null;
      if (row.tar !== null) await this.#leaveBatch(row.tar, t);
      else if (row.state === 'uploaded' || (row.state === 'gone' && row.file_id))
        await this.addStale(run.id, row.path, project, row.file_id, row.signature, t);
      await t.run(
        `UPDATE files SET size = ?, mtime_ms = ?, dev = ?, ino = ?, ctime_ms = ?, seen_at = ?, state = ?,
           file_id = ?, signature = ?, attempts = 0, next_try_at = 0, failed_reported = 0, tar = NULL WHERE id = ?`,
        [
          b.st.size,
          b.st.mtimeMs,
          b.st.dev,
          b.st.ino,
          b.st.ctimeMs,
          now,
          keep ? 'uploading' : 'settling',
          keep ? row.file_id : null,
          keep ? row.signature : null,
          row.id,
        ],
      );
    });
  }

  /** A member of batch `tar` changed or went away: a batch not uploaded yet is dissolved. */
  async #leaveBatch(tar: number, t: Sql): Promise<void> {
    const b = await t.get<{ id: number; run: number; state: string; signature: string | null }>(
      'SELECT id, run, state, signature FROM tars WHERE id = ?',
      [tar],
    );
    if (b && b.state !== 'uploaded') await dissolveBatch(this, t, b);
  }

  /** Files of `run` not present on disk any more (`exists` says); an uploaded one's object goes stale. */
  async markGone(
    run: RunRow,
    exists: (path: string) => boolean,
    project: string,
    now: number,
  ): Promise<number> {
    let n = 0;
    let after = 0;
    for (;;) {
      const rows = await this.q.all<FileRow>(
        `SELECT * FROM files WHERE run = ? AND state != 'gone' AND id > ? ORDER BY id LIMIT 1000`,
        [run.id, after],
      );
      if (rows.length === 0) return n;
      after = rows[rows.length - 1].id;
      for (const row of rows) {
        if (exists(row.path)) continue;
        await this.q.tx(async (t) => {
          if (row.tar !== null) await this.#leaveBatch(row.tar, t);
          else if (row.state === 'uploaded')
            await this.addStale(run.id, row.path, project, row.file_id, row.signature, t);
          await t.run(
            `UPDATE files SET state = 'gone', file_id = NULL, signature = NULL, tar = NULL WHERE id = ?`,
            [row.id],
          );
          await t.run('UPDATE runs SET last_change_at = ? WHERE id = ?', [now, run.id]);
        });
        n++;
      }
    }
  }

  /** Rows of runs this host sees, unchanged since `before`, oldest first: candidates to settle. */
  settlingSince(before: number, limit: number, afterId = 0): Promise<FileRow[]> {
    return this.q.all<FileRow>(
      `SELECT f.* FROM files f JOIN run_hosts h ON h.run = f.run AND h.host = ?
        WHERE f.state = 'settling' AND f.seen_at <= ? AND f.id > ? ORDER BY f.id LIMIT ?`,
      [this.host, before, afterId, limit],
    );
  }

  /** Settled: queued for upload. */
  async markReady(ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      await this.q.run(
        `UPDATE files SET state = 'ready' WHERE id IN (${marks(part.length)}) AND state = 'settling'`,
        [...part],
      );
    }
  }

  /** Still open for writing, or not readable now: counts as changed now. */
  async restartSettle(id: number, now: number): Promise<void> {
    await this.q.run(
      `UPDATE files SET seen_at = ?, state = CASE state WHEN 'uploading' THEN 'settling' ELSE state END,
         claimed_by = NULL WHERE id = ?`,
      [now, id],
    );
  }

  /**
   * Claims up to `limit` ready files of runs this host sees, due now: runs in discovery order, files
   * in the order they were found. The rows are selected and locked in one statement that skips rows
   * another host is claiming at that moment (SKIP LOCKED), so hosts claiming together each get
   * their own files rather than queueing on the same ones; the UPDATE re-checks `state`. A
   * completion marker (`isLast`) is held back while other files of its run are pending.
   */
  claim(now: number, limit: number, isLast?: (path: string) => boolean): Promise<FileRow[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.q.tx(async (t) => {
      const candidates = await t.all<FileRow>(
        `SELECT f.* FROM files f JOIN runs r ON r.id = f.run JOIN run_hosts h ON h.run = f.run AND h.host = ?
          WHERE f.state = 'ready' AND f.next_try_at <= ? AND r.phase = 'active'
          ORDER BY f.next_try_at, f.id LIMIT ?${skipLocked(t, 'f')}`,
        [this.host, now, limit * 2],
      );
      const pick: FileRow[] = [];
      for (const c of candidates) {
        if (pick.length >= limit) break;
        if (isLast?.(c.path) && (await this.hasPendingOthers(c.run, isLast, t))) continue;
        pick.push(c);
      }
      if (pick.length === 0) return [];
      return t.all<FileRow>(
        `UPDATE files SET state = 'uploading', claimed_by = ?, claim = claim + 1, lease_until = ?
          WHERE id IN (${marks(pick.length)}) AND state = 'ready' RETURNING *`,
        [this.host, now + this.leaseMs, ...pick.map((p) => p.id)],
      );
    });
  }

  async setSignature(id: number, claim: number, signature: string | undefined): Promise<void> {
    await this.q.run('UPDATE files SET signature = ? WHERE id = ? AND claim = ?', [
      signature ?? null,
      id,
      claim,
    ]);
  }

  /**
   * An upload of version `v` closed as `fileId`. The first result for the current version is kept,
   * whoever's claim it came from (a host whose lease lapsed may finish first; its object is as good).
   * Anything else is stale: a result for an older version, or a second object for a path that
   * already has one (two hosts after a lapsed lease), so a path never keeps two live copies.
   * Returns whether this result is the file's object.
   */
  async uploaded(id: number, v: Version, fileId: string, project: string, now: number): Promise<boolean> {
    let counted: FileRow | undefined;
    const mine = await this.q.tx(async (t) => {
      const row = (await t.get<FileRow>('SELECT * FROM files WHERE id = ?', [id]))!;
      if (row.state === 'uploaded' && row.file_id === fileId) return true; // recorded already
      if (!sameVersion(row, v) || row.state === 'gone' || row.state === 'uploaded') {
        await this.addStale(row.run, row.path, project, fileId, null, t);
        if (row.state === 'uploading' && row.claimed_by === this.host && !sameVersion(row, v))
          await t.run(`UPDATE files SET state = 'settling', claimed_by = NULL WHERE id = ?`, [id]);
        return false;
      }
      await t.run(
        `UPDATE files SET state = 'uploaded', file_id = ?, uploaded_size = size, uploaded_mtime_ms = mtime_ms,
           uploaded_at = ?, last_error = NULL, claimed_by = ? WHERE id = ?`,
        [fileId, now, this.host, id],
      );
      counted = row;
      return true;
    });
    if (counted) this.countThroughput(counted.run, counted.size, 1, now);
    return mine;
  }

  /**
   * Claim `claim` of the file failed. `changed` = the file changed under it: not the file's fault,
   * no attempt is counted and it settles again. Otherwise it is due again at `nextTryAt(attempts so
   * far)`, for any host. A claim that is no longer the file's (its lease lapsed and another host took
   * it) changes nothing. Returns the row as it is now.
   */
  uploadFailed(
    id: number,
    claim: number,
    error: string,
    changed: boolean,
    nextTryAt: (attempts: number) => number,
  ): Promise<FileRow> {
    return this.q.tx(async (t) => {
      const row = (await t.get<FileRow>('SELECT * FROM files WHERE id = ?', [id]))!;
      const mine = row.state === 'uploading' && row.claim === claim && row.claimed_by === this.host;
      if (mine && changed) {
        await t.run(`UPDATE files SET state = 'settling', claimed_by = NULL WHERE id = ?`, [id]);
      } else if (mine) {
        const attempts = row.attempts + 1;
        await t.run(
          `UPDATE files SET state = 'ready', claimed_by = NULL, attempts = ?, next_try_at = ?, last_error = ? WHERE id = ?`,
          [attempts, nextTryAt(attempts), error, id],
        );
      }
      return (await t.get<FileRow>('SELECT * FROM files WHERE id = ?', [id]))!;
    });
  }

  /** Stopping: an upload in flight is due again (here at the next start, or on another host), no attempt counted. */
  async requeue(id: number, claim: number, error?: string): Promise<void> {
    await this.q.run(
      `UPDATE files SET state = 'ready', claimed_by = NULL, last_error = COALESCE(?, last_error)
        WHERE id = ? AND state = 'uploading' AND claim = ?`,
      [error ?? null, id, claim],
    );
  }

  async markFileFailedReported(id: number): Promise<void> {
    await this.q.run('UPDATE files SET failed_reported = 1 WHERE id = ?', [id]);
  }

  /** At start: this host's uploads in flight when it died are due again (resume finds their parts). */
  requeueMine(): Promise<number> {
    return this.q.run(
      `UPDATE files SET state = 'ready', claimed_by = NULL WHERE state = 'uploading' AND claimed_by = ?`,
      [this.host],
    );
  }

  /**
   * Claims whose lease lapsed (their host died, or lost the database for longer than the lease):
   * due again for any host, which resumes them from the parts on the platform. Runs' finishing steps
   * likewise lose their owner. Returns how many files.
   */
  async expireLeases(now: number): Promise<number> {
    const n = await this.q.run(
      `UPDATE files SET state = 'ready', claimed_by = NULL WHERE state = 'uploading' AND tar IS NULL AND lease_until < ?`,
      [now],
    );
    await this.q.run(
      `UPDATE tars SET state = 'ready', claimed_by = NULL WHERE state = 'uploading' AND lease_until < ?`,
      [now],
    );
    await this.q.run(`UPDATE runs SET owner = NULL WHERE owner IS NOT NULL AND owner_until < ?`, [now]);
    return n;
  }

  async counts(run: number): Promise<Record<FileState, number>> {
    const out: Record<FileState, number> = { settling: 0, ready: 0, uploading: 0, uploaded: 0, gone: 0 };
    const rows = await this.q.all<{ state: FileState; n: number }>(
      'SELECT state, COUNT(*) AS n FROM files WHERE run = ? GROUP BY state',
      [run],
    );
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /** True while a file of `run` is settling, due or in flight (an index lookup, cheap per result). */
  async hasPendingFiles(run: number): Promise<boolean> {
    return (
      (await this.q.get(
        `SELECT 1 AS x FROM files WHERE run = ? AND state IN ('settling', 'ready', 'uploading') LIMIT 1`,
        [run],
      )) !== undefined
    );
  }

  /** True while a file of `run` other than those `isLast` picks is settling, due or in flight. */
  async hasPendingOthers(run: number, isLast: (path: string) => boolean, q: Sql = this.q): Promise<boolean> {
    const rows = await q.all<{ path: string }>(
      `SELECT path FROM files WHERE run = ? AND state IN ('settling', 'ready', 'uploading') LIMIT 16`,
      [run],
    );
    return rows.some((r) => !isLast(r.path));
  }

  async liveFileCount(run: number): Promise<number> {
    return (await this.q.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM files WHERE run = ? AND state != 'gone'`,
      [run],
    ))!.n;
  }

  /** Uploaded files of a run, in path order (the sentinel's list). */
  uploadedFiles(run: number): Promise<Array<{ path: string; file_id: string; size: number }>> {
    return this.q.all(
      `SELECT path, file_id, size FROM files WHERE run = ? AND state = 'uploaded' ORDER BY path`,
      [run],
    );
  }
}

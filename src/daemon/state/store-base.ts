/**
 * What every part of the daemon's store shares: the database (state/sql.ts: SQLite or PostgreSQL)
 * and the tables beside runs and files: hosts, stale objects to remove, the webhook outbox, events,
 * meta, and the work-left count of --once. state/store.ts adds runs, files and claims on top.
 *
 * Work several hosts could pick at once (a stale object to remove, a webhook to deliver) is claimed
 * by moving its `next_try_at` past a lease in the same statement that selects it, so one host takes
 * each row for that long; a host that dies leaves the row due again when the lease ends.
 */
import { marks, type Sql } from './sql.js';

export interface StaleRow {
  id: number;
  run: number;
  path: string;
  project: string;
  file_id: string | null;
  signature: string | null;
  attempts: number;
}

export interface OutboxRow {
  id: number;
  key: string;
  body: string;
  attempts: number;
}

export interface HostRow {
  id: string;
  pid: number | null;
  version: string | null;
  started_at: number;
  last_seen: number;
  uploaded: number;
  bytes: number;
  state: string;
}

export interface StoreOptions {
  /** This daemon's name in the queue (--host-id; the host name by default). */
  host: string;
  /** How long a claim lives without a heartbeat before another host may take the work. */
  leaseMs: number;
}

/** Row locks for the selecting half of a claim: hosts skip rows another host is claiming. */
export const skipLocked = (q: Sql, of: string): string =>
  q.dialect === 'postgres' ? ` FOR UPDATE OF ${of} SKIP LOCKED` : '';

export class StoreBase {
  readonly q: Sql;
  readonly host: string;
  readonly leaseMs: number;
  /**
   * Bytes and files uploaded per run and minute, added up here and written with the heartbeat:
   * one row per run and minute updated by every result made it the hottest row of the queue (each
   * result's transaction waited for the one before; measured 9.5 ms of database time per file with
   * 2,000 small files on PostgreSQL). A crash loses at most one heartbeat's worth of rate display.
   */
  readonly #throughput: Map<string, { run: number; minute: number; bytes: number; files: number }>;

  constructor(q: Sql, o: StoreOptions & { throughput?: StoreBase['throughputBuffer'] }) {
    this.q = q;
    this.host = o.host;
    this.leaseMs = o.leaseMs;
    this.#throughput = o.throughput ?? new Map();
  }

  /** Shared by the store's transaction views, so what they count is flushed with the store's. */
  get throughputBuffer(): Map<string, { run: number; minute: number; bytes: number; files: number }> {
    return this.#throughput;
  }

  countThroughput(run: number, bytes: number, files: number, now: number): void {
    const minute = Math.floor(now / 60_000);
    const key = `${run}:${minute}`;
    const e = this.#throughput.get(key) ?? { run, minute, bytes: 0, files: 0 };
    e.bytes += bytes;
    e.files += files;
    this.#throughput.set(key, e);
  }

  /** Writes what countThroughput added up (kept for the next try if the database is away). */
  async flushThroughput(): Promise<void> {
    for (const [key, e] of [...this.#throughput]) {
      this.#throughput.delete(key);
      try {
        await this.q.run(
          `INSERT INTO throughput (run, minute, bytes, files) VALUES (?, ?, ?, ?)
           ON CONFLICT (run, minute) DO UPDATE SET bytes = throughput.bytes + excluded.bytes,
             files = throughput.files + excluded.files`,
          [e.run, e.minute, e.bytes, e.files],
        );
      } catch (err) {
        const now = this.#throughput.get(key);
        if (now) {
          now.bytes += e.bytes;
          now.files += e.files;
        } else this.#throughput.set(key, e);
        throw err;
      }
    }
  }

  // ---- hosts ----

  async hostStarted(pid: number, version: string, now: number): Promise<void> {
    await this.q.run(
      `INSERT INTO hosts (id, pid, version, started_at, last_seen, state) VALUES (?, ?, ?, ?, ?, 'running')
       ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, version = excluded.version,
         started_at = excluded.started_at, last_seen = excluded.last_seen, state = 'running'`,
      [this.host, pid, version, now, now],
    );
  }

  /**
   * The heartbeat: the claims this host is working on live on, and the host is seen. Only the
   * claims it names: one this host took but lost track of (a claim whose planning failed while the
   * database went away) lapses after the lease and is due again, instead of being kept alive
   * forever. Statements, not one transaction, claims first: a result's transaction locks its file
   * row and then the host row, so a heartbeat holding the host row while waiting for file rows
   * deadlocked with it (measured: one deadlock a second with two hosts on PostgreSQL).
   */
  async heartbeat(now: number, live: { files: number[]; tars: number[]; runs: number[] }): Promise<void> {
    const until = now + this.leaseMs;
    const renew = async (table: string, cond: string, ids: number[]) => {
      if (ids.length > 0)
        await this.q.run(
          `UPDATE ${table} SET ${table === 'runs' ? 'owner_until' : 'lease_until'} = ? WHERE ${cond} AND id IN (${marks(ids.length)})`,
          [until, this.host, ...ids],
        );
    };
    await renew('files', `claimed_by = ? AND state = 'uploading'`, live.files);
    await renew('tars', `claimed_by = ? AND state = 'uploading'`, live.tars);
    await renew('runs', `owner = ? AND phase = 'finishing'`, live.runs);
    await this.q.run(`UPDATE hosts SET last_seen = ?, state = 'running' WHERE id = ?`, [now, this.host]);
    await this.flushThroughput();
  }

  async hostStopped(now: number): Promise<void> {
    await this.flushThroughput();
    await this.q.run(`UPDATE hosts SET last_seen = ?, state = 'stopped' WHERE id = ?`, [now, this.host]);
  }

  // ---- stale objects ----

  /** A remote object that is not (or no longer) the current version of `path`: to be removed. */
  async addStale(
    run: number,
    path: string,
    project: string,
    fileId: string | null,
    signature: string | null,
    q: Sql = this.q,
  ): Promise<void> {
    if (fileId || signature)
      await q.run(
        'INSERT INTO stale_objects (run, path, project, file_id, signature) VALUES (?, ?, ?, ?, ?)',
        [run, path, project, fileId, signature],
      );
  }

  /** Stale objects due now, each claimed by this host for a lease. */
  claimStale(now: number, limit: number): Promise<StaleRow[]> {
    return this.q.tx(async (t) => {
      const rows = await t.all<StaleRow>(
        `SELECT s.* FROM stale_objects s WHERE s.next_try_at <= ? ORDER BY s.id LIMIT ?${skipLocked(t, 's')}`,
        [now, limit],
      );
      if (rows.length > 0)
        await t.run(`UPDATE stale_objects SET next_try_at = ? WHERE id IN (${marks(rows.length)})`, [
          now + this.leaseMs,
          ...rows.map((r) => r.id),
        ]);
      return rows;
    });
  }

  async staleCount(run: number): Promise<number> {
    return (await this.q.get<{ n: number }>('SELECT COUNT(*) AS n FROM stale_objects WHERE run = ?', [run]))!
      .n;
  }

  async staleRemoved(id: number): Promise<void> {
    await this.q.run('DELETE FROM stale_objects WHERE id = ?', [id]);
  }

  async staleFailed(id: number, error: string, nextTryAt: number): Promise<void> {
    await this.q.run(
      'UPDATE stale_objects SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?',
      [nextTryAt, error, id],
    );
  }

  /**
   * Work left for --once: files not yet uploaded in active runs (but those already reported failing),
   * runs finishing, stale objects, webhooks not tried yet. What is left resumes at the next start.
   */
  async pendingWork(failAfter: number): Promise<number> {
    const n = async (sql: string, p: unknown[] = []) => (await this.q.get<{ n: number }>(sql, p))!.n;
    return (
      (await n(
        `SELECT COUNT(*) AS n FROM files f JOIN runs r ON r.id = f.run
          WHERE r.phase = 'active' AND f.state IN ('settling', 'ready', 'uploading') AND f.attempts < ?`,
        [failAfter],
      )) +
      (await n(`SELECT COUNT(*) AS n FROM runs WHERE phase = 'finishing'`)) +
      (await n('SELECT COUNT(*) AS n FROM stale_objects')) +
      (await n('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND attempts = 0'))
    );
  }

  // ---- outbox, events, meta ----

  /** A webhook delivery, once per key (a repeated step enqueues nothing new). */
  async enqueue(key: string, body: unknown, now: number, q: Sql = this.q): Promise<void> {
    await q.run('INSERT INTO outbox (key, body, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING', [
      key,
      JSON.stringify(body),
      now,
    ]);
  }

  /** Deliveries due now, each claimed by this host for a lease. */
  claimOutbox(now: number, limit: number): Promise<OutboxRow[]> {
    return this.q.tx(async (t) => {
      const rows = await t.all<OutboxRow>(
        `SELECT o.id, o.key, o.body, o.attempts FROM outbox o
          WHERE o.delivered_at IS NULL AND o.next_try_at <= ? ORDER BY o.id LIMIT ?${skipLocked(t, 'o')}`,
        [now, limit],
      );
      if (rows.length > 0)
        await t.run(`UPDATE outbox SET next_try_at = ? WHERE id IN (${marks(rows.length)})`, [
          now + this.leaseMs,
          ...rows.map((r) => r.id),
        ]);
      return rows;
    });
  }

  async delivered(id: number, now: number): Promise<void> {
    await this.q.run('UPDATE outbox SET delivered_at = ?, last_error = NULL WHERE id = ?', [now, id]);
  }

  async deliveryFailed(id: number, error: string, nextTryAt: number): Promise<void> {
    await this.q.run(
      'UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?',
      [nextTryAt, error, id],
    );
  }

  async event(
    run: number | null,
    level: 'info' | 'warn' | 'error',
    kind: string,
    message: string,
    now: number,
    q: Sql = this.q,
  ): Promise<void> {
    await q.run('INSERT INTO events (run, at, level, kind, message) VALUES (?, ?, ?, ?, ?)', [
      run,
      now,
      level,
      kind,
      message,
    ]);
  }

  /** Keeps the last `keepEvents` events, a day of throughput and a week of delivered webhooks. */
  async prune(now: number, keepEvents = 20_000): Promise<void> {
    await this.q.tx(async (t) => {
      await t.run('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?', [keepEvents]);
      await t.run('DELETE FROM throughput WHERE minute < ?', [Math.floor((now - 86_400_000) / 60_000)]);
      await t.run('DELETE FROM outbox WHERE delivered_at < ?', [now - 7 * 86_400_000]);
    });
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.q.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.q.run(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }
}

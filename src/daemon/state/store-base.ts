/**
 * What every part of the daemon's store shares: the database, statements prepared once, and the
 * tables beside runs and files: stale objects to remove, the webhook outbox, events, meta, and the
 * work-left count of --once. state/store.ts adds runs and files on top.
 */
import type Database from 'better-sqlite3';
import type { Db } from './db.js';

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

export class StoreBase {
  readonly db: Db;
  /**
   * Statements prepared once and kept: preparing per call left each one's native memory to the
   * garbage collector, which does not see it (peak RSS grew with the file count).
   */
  readonly #cache = new Map<string, Database.Statement>();

  constructor(db: Db) {
    this.db = db;
  }

  protected p(sql: string): Database.Statement {
    let st = this.#cache.get(sql);
    if (!st) this.#cache.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  // ---- stale objects ----

  /** A remote object that is not (or no longer) the current version of `path`: to be removed. */
  addStale(
    run: number,
    path: string,
    project: string,
    fileId: string | null,
    signature: string | null,
  ): void {
    if (fileId || signature)
      this.p(`INSERT INTO stale_objects (run, path, project, file_id, signature) VALUES (?, ?, ?, ?, ?)`).run(
        run,
        path,
        project,
        fileId,
        signature,
      );
  }

  pendingStale(now: number, limit: number, run?: number): StaleRow[] {
    return (
      run === undefined
        ? this.p('SELECT * FROM stale_objects WHERE next_try_at <= ? ORDER BY id LIMIT ?').all(now, limit)
        : this.p('SELECT * FROM stale_objects WHERE run = ? ORDER BY id LIMIT ?').all(run, limit)
    ) as StaleRow[];
  }

  staleCount(run: number): number {
    return (this.p('SELECT COUNT(*) AS n FROM stale_objects WHERE run = ?').get(run) as { n: number }).n;
  }

  staleRemoved(id: number): void {
    this.p('DELETE FROM stale_objects WHERE id = ?').run(id);
  }

  staleFailed(id: number, error: string, nextTryAt: number): void {
    this.p(
      'UPDATE stale_objects SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?',
    ).run(nextTryAt, error, id);
  }

  /**
   * Work left for --once: files not yet uploaded in active runs (but those already reported failing),
   * runs finishing, stale objects, webhooks not tried yet. What is left resumes at the next start.
   */
  pendingWork(failAfter: number): number {
    const n = (sql: string) => (this.p(sql).get() as { n: number }).n;
    return (
      n(`SELECT COUNT(*) AS n FROM files f JOIN runs r ON r.id = f.run
          WHERE r.phase = 'active' AND f.state IN ('settling', 'ready', 'uploading') AND f.attempts < ${Number(failAfter)}`) +
      n(`SELECT COUNT(*) AS n FROM runs WHERE phase = 'finishing'`) +
      n('SELECT COUNT(*) AS n FROM stale_objects') +
      n('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND attempts = 0')
    );
  }

  // ---- outbox, events, meta ----

  /** A webhook delivery, once per key (a repeated step enqueues nothing new). */
  enqueue(key: string, body: unknown, now: number): void {
    this.p('INSERT OR IGNORE INTO outbox (key, body, created_at) VALUES (?, ?, ?)').run(
      key,
      JSON.stringify(body),
      now,
    );
  }

  pendingOutbox(now: number, limit: number): OutboxRow[] {
    return this.p(
      'SELECT id, key, body, attempts FROM outbox WHERE delivered_at IS NULL AND next_try_at <= ? ORDER BY id LIMIT ?',
    ).all(now, limit) as OutboxRow[];
  }

  delivered(id: number, now: number): void {
    this.p('UPDATE outbox SET delivered_at = ?, last_error = NULL WHERE id = ?').run(now, id);
  }

  deliveryFailed(id: number, error: string, nextTryAt: number): void {
    this.p('UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?').run(
      nextTryAt,
      error,
      id,
    );
  }

  event(
    run: number | null,
    level: 'info' | 'warn' | 'error',
    kind: string,
    message: string,
    now: number,
  ): void {
    this.p('INSERT INTO events (run, at, level, kind, message) VALUES (?, ?, ?, ?, ?)').run(
      run,
      now,
      level,
      kind,
      message,
    );
  }

  /** Keeps the last `keepEvents` events, a day of throughput and a week of delivered webhooks. */
  prune(now: number, keepEvents = 20_000): void {
    this.db.transaction(() => {
      this.p('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?').run(keepEvents);
      this.p('DELETE FROM throughput WHERE minute < ?').run(Math.floor((now - 86_400_000) / 60_000));
      this.p('DELETE FROM outbox WHERE delivered_at < ?').run(now - 7 * 86_400_000);
    })();
  }

  getMeta(key: string): string | undefined {
    return (this.p('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.p(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }
}

/**
 * The one interface the daemon's store talks to: a few async calls over SQL written once, run by
 * the embedded SQLite (one host, the default) or by PostgreSQL (state/pg.ts: a fleet of hosts).
 *
 * The SQL is the subset both engines run the same: `?` placeholders (rewritten to `$n` for
 * PostgreSQL), `INSERT … ON CONFLICT … DO NOTHING/UPDATE`, `UPDATE … RETURNING`, integers for
 * booleans, milliseconds since the epoch for times. Where the two must differ (row locks, the
 * schema's types) the store asks `dialect`.
 */
import type Database from 'better-sqlite3';

export type Dialect = 'sqlite' | 'postgres';

/** `?, ?, ?` for an `IN (…)` list of `n` values. */
export const marks = (n: number): string => new Array<string>(n).fill('?').join(', ');

export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). Inside
   * it, use only the `q` it is given.
   */
  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Statements run and the time spent waiting for them (the queue's cost, for the benchmark). */
  readonly stats?: SqlStats;
}

export interface SqlStats {
  statements: number;
  ms: number;
}

/**
 * better-sqlite3 behind the async interface. Its calls are synchronous, so a transaction that awaits
 * between statements could let another caller's statement into it (and lose that statement with a
 * rollback): statements from outside wait while a transaction is open, and transactions run one at
 * a time. Statements are prepared once and kept (preparing per call left native memory the garbage
 * collector does not see: peak RSS grew with the file count).
 */
export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  readonly stats: SqlStats = { statements: 0, ms: 0 };
  readonly #cache = new Map<string, Database.Statement>();
  #tx: Promise<unknown> = Promise.resolve();
  #inTx = false;
  readonly #inner: Sql;

  constructor(db: Database.Database) {
    this.db = db;
    this.#inner = {
      dialect: 'sqlite',
      all: async (s, p) => this.#all(s, p),
      get: async (s, p) => this.#get(s, p),
      run: async (s, p) => this.#run(s, p),
      tx: (fn) => fn(this.#inner), // nested: part of the open transaction
      close: async () => {},
    };
  }

  #st(sql: string): Database.Statement {
    let st = this.#cache.get(sql);
    if (!st) this.#cache.set(sql, (st = this.db.prepare(sql)));
    return st;
  }
  #timed<T>(f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      this.stats.statements++;
      this.stats.ms += performance.now() - t0;
    }
  }
  #all<T>(sql: string, params: readonly unknown[] = []): T[] {
    return this.#timed(() => this.#st(sql).all(...params) as T[]);
  }
  #get<T>(sql: string, params: readonly unknown[] = []): T | undefined {
    return this.#timed(() => this.#st(sql).get(...params) as T | undefined);
  }
  #run(sql: string, params: readonly unknown[] = []): number {
    return this.#timed(() => this.#st(sql).run(...params).changes);
  }

  async all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    // The check and the statement run in one turn: no transaction can begin between them.
    while (this.#inTx) await this.#tx.catch(() => {});
    return this.#all<T>(sql, params);
  }
  async get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    // The check and the statement run in one turn: no transaction can begin between them.
    while (this.#inTx) await this.#tx.catch(() => {});
    return this.#get<T>(sql, params);
  }
  async run(sql: string, params?: readonly unknown[]): Promise<number> {
    // The check and the statement run in one turn: no transaction can begin between them.
    while (this.#inTx) await this.#tx.catch(() => {});
    return this.#run(sql, params);
  }

  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T> {
    const next = this.#tx
      .catch(() => {})
      .then(async () => {
        this.#inTx = true;
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn(this.#inner);
          this.db.exec('COMMIT');
          return out;
        } catch (err) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw err;
        } finally {
          this.#inTx = false;
        }
      });
    this.#tx = next;
    return next;
  }

  async close(): Promise<void> {
    await this.#tx.catch(() => {});
    if (this.db.open) this.db.close();
  }
}

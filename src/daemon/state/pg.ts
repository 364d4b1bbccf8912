/**
 * PostgreSQL behind the store's Sql interface (fleet mode: `--queue postgres://…`), over node-postgres.
 *
 * - READ COMMITTED, the default: every state change the store makes is a conditional UPDATE (…
 *   WHERE state = 'ready', … WHERE claim = ?), which PostgreSQL re-checks against the row's latest
 *   version after waiting for a concurrent writer, so two hosts can never both win one transition.
 * - BIGINT and NUMERIC (COUNT, SUM) come back as JavaScript numbers: every value the daemon keeps
 *   (bytes, milliseconds, counts) is far below 2^53.
 * - A dropped connection (the database restarted) fails the statements in flight; the pool opens a
 *   new one for the next, and the daemon retries the step that failed.
 */
import pg from 'pg';
import type { Sql, SqlStats } from './sql.js';

pg.types.setTypeParser(20, (v) => Number(v)); // int8
pg.types.setTypeParser(1700, (v) => Number(v)); // numeric

const positional = new Map<string, string>();

/** `?` → `$1, $2 …` (the store's SQL never has a `?` inside a literal). */
function toPg(sql: string): string {
  let out = positional.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (positional.size < 2000) positional.set(sql, out);
  }
  return out;
}

/** The URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function over(c: Queryable, tx: Sql['tx'], stats: SqlStats): Sql {
  const query = async (s: string, p: readonly unknown[] = []) => {
    const t0 = performance.now();
    try {
      return await c.query(toPg(s), p as unknown[]);
    } finally {
      stats.statements++;
      stats.ms += performance.now() - t0;
    }
  };
  return {
    dialect: 'postgres',
    all: async <T>(s: string, p?: readonly unknown[]) => (await query(s, p)).rows as T[],
    get: async <T>(s: string, p?: readonly unknown[]) => (await query(s, p)).rows[0] as T | undefined,
    run: async (s: string, p?: readonly unknown[]) => (await query(s, p)).rowCount ?? 0,
    tx,
    close: async () => {},
    stats,
  };
}

export class PgSql implements Sql {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly stats: SqlStats = { statements: 0, ms: 0 };
  readonly #q: Sql;

  constructor(url: string, opts: { max?: number; applicationName?: string } = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 8,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: opts.applicationName ?? 'ua daemon',
    });
    // An idle connection closed by the server (a restart) is an 'error' event: without a listener
    // it would end the process. The next query opens a new connection.
    this.pool.on('error', () => {});
    // And every client, idle or checked out, keeps a listener for its life: a server shutting down
    // sends its notice as an 'error' event to connections at any moment (the query in flight, if
    // any, fails on its own and the store retries it).
    this.pool.on('connect', (client) => client.on('error', () => {}));
    this.#q = over(this.pool, (fn) => this.tx(fn), this.stats);
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.#q.all<T>(sql, params);
  }
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.#q.get<T>(sql, params);
  }
  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.#q.run(sql, params);
  }

  async tx<T>(fn: (q: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    const inner: Sql = over(client, (f) => f(inner), this.stats);
    try {
      await inner.run('BEGIN');
      const out = await fn(inner);
      await inner.run('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

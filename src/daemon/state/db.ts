/**
 * Opening the daemon's database: the state dir (0700) and file (0600), WAL, migrations, and the
 * one-daemon-per-state-dir lock.
 *
 * synchronous=NORMAL: in WAL mode a commit survives a process crash (kill -9) but the last commits
 * may roll back on power loss. That is safe here because every step the daemon repeats after a
 * rollback is idempotent on the platform side (files found again by signature, the sentinel by
 * name and nonce, the launch by nonce and property), and it saves an fsync per file (measured at
 * ~2 ms on this machine's disk).
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DaemonError } from '../../errors.js';
import { PgSql, redactUrl } from './pg.js';
import { MIGRATIONS, PG_MIGRATIONS } from './schema.js';
import { SqliteSql, type Sql } from './sql.js';

export type Db = Database.Database;

/** `--state-dir` default: $XDG_STATE_HOME/ua, ~/.local/state/ua, or /var/lib/ua for root. */
export function defaultDaemonStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'ua');
  if (process.getuid?.() === 0) return '/var/lib/ua';
  return join(homedir(), '.local', 'state', 'ua');
}

export const DB_FILE = 'daemon.db';
const LOCK_FILE = 'daemon.lock';

function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (err) {
    throw new DaemonError(
      'UA_ERR_STATE_DIR',
      `Cannot use the state dir "${dir}": ${(err as Error).message}. Pass --state-dir DIR (a directory this user can write).`,
      { cause: err },
    );
  }
}

function pragmas(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length)
    throw new DaemonError(
      'UA_ERR_STATE_DIR',
      `The state database was written by a newer ua (schema ${version}, this ua knows ${MIGRATIONS.length}); upgrade ua or use another --state-dir.`,
    );
  db.transaction(() => {
    for (let i = version; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** The database for writing (the daemon itself). */
export function openDaemonDb(dir: string): Db {
  ensurePrivateDir(dir);
  const path = join(dir, DB_FILE);
  const db = new Database(path);
  chmodSync(path, 0o600);
  pragmas(db);
  migrate(db);
  return db;
}

/** The database for reading (`ua daemon status`), while the daemon may be writing it. */
export function openDaemonDbReadOnly(dir: string): Db | undefined {
  const path = join(dir, DB_FILE);
  try {
    statSync(path);
  } catch {
    return undefined;
  }
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Holds an exclusive SQLite lock on `daemon.lock` for the daemon's life. The OS releases it when the
 * process dies, even by kill -9, so there is no stale PID file to clean up after a crash.
 */
export class StateDirLock {
  readonly #db: Db;
  private constructor(db: Db) {
    this.#db = db;
  }

  static acquire(dir: string): StateDirLock {
    ensurePrivateDir(dir);
    const path = join(dir, LOCK_FILE);
    const db = new Database(path);
    try {
      chmodSync(path, 0o600);
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      throw new DaemonError(
        'UA_ERR_DAEMON_RUNNING',
        `Another ua daemon is using the state dir "${dir}"; stop it first, or give this one its own --state-dir.`,
        { cause: err },
      );
    }
    return new StateDirLock(db);
  }

  release(): void {
    if (!this.#db.open) return;
    try {
      this.#db.exec('ROLLBACK');
    } finally {
      this.#db.close();
    }
  }
}

/**
 * The fleet's queue: a PostgreSQL database, migrated to this ua's schema under an advisory lock
 * (hosts starting together migrate once; a host of an older ua refuses a newer schema).
 */
export async function openPgQueue(url: string, host: string): Promise<Sql> {
  const q = new PgSql(url, { applicationName: `ua daemon ${host}`.slice(0, 63) });
  try {
    await q.tx(async (t) => {
      await t.run(`SELECT pg_advisory_xact_lock(hashtext('ua daemon schema'))`);
      await t.run('CREATE TABLE IF NOT EXISTS ua_schema (version INTEGER NOT NULL)');
      const row = await t.get<{ version: number }>('SELECT version FROM ua_schema');
      const version = row?.version ?? 0;
      if (version > PG_MIGRATIONS.length)
        throw new DaemonError(
          'UA_ERR_STATE_DIR',
          `The queue ${redactUrl(url)} was written by a newer ua (schema ${version}, this ua knows ${PG_MIGRATIONS.length}); upgrade ua on this host.`,
        );
      for (let i = version; i < PG_MIGRATIONS.length; i++) await t.run(PG_MIGRATIONS[i]);
      if (!row) await t.run('INSERT INTO ua_schema (version) VALUES (?)', [PG_MIGRATIONS.length]);
      else await t.run('UPDATE ua_schema SET version = ?', [PG_MIGRATIONS.length]);
    });
  } catch (err) {
    await q.close().catch(() => {});
    if (err instanceof DaemonError) throw err;
    throw new DaemonError(
      'UA_ERR_QUEUE',
      `Cannot use the queue ${redactUrl(url)}: ${(err as Error).message}. Check --queue (postgres://user@host/db) and that the server accepts this host.`,
      { cause: err },
    );
  }
  return q;
}

/** The queue a daemon uses: PostgreSQL with --queue, else SQLite in the state dir. */
export async function openQueue(o: { stateDir: string; queue?: string; hostId: string }): Promise<Sql> {
  return o.queue ? openPgQueue(o.queue, o.hostId) : new SqliteSql(openDaemonDb(o.stateDir));
}

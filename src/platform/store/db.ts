import { createHash } from 'node:crypto';
import { chmodSync, closeSync, fdatasync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GroupSync } from '../group-sync.js';
import { keyObjectsPerCopy } from './copies.js';
import { DRIVES_SCHEMA } from './drives.js';
import { EXECUTABLES_SCHEMA } from './executables.js';
import { EXECUTIONS_SCHEMA } from './executions.js';
import { FILES_SCHEMA } from './files.js';
import { INLINE_BLOBS_SCHEMA } from './inline-blobs.js';

export type Db = Database.Database;

/**
 * Core schema migrations, applied in order; `PRAGMA user_version` records how many have run.
 * Never edit a shipped step: append a new one.
 */
const CORE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,            -- user-<handle lowercased>
    handle TEXT NOT NULL,
    created INTEGER NOT NULL
  );
  CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    bill_to TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',          -- JSON array of strings
    properties TEXT NOT NULL DEFAULT '{}',    -- JSON object string → string
    protected INTEGER NOT NULL DEFAULT 0,
    restricted INTEGER NOT NULL DEFAULT 0,
    external_upload_restricted INTEGER NOT NULL DEFAULT 0,
    default_symlink TEXT                      -- JSON or NULL
  );
  CREATE INDEX projects_name ON projects(name);
  CREATE TABLE members (
    project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    PRIMARY KEY (project, user)
  );
  CREATE INDEX members_user ON members(user);
  -- The root folder '/' is implicit and never stored.
  CREATE TABLE folders (
    project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    PRIMARY KEY (project, path)
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,                -- sha256 hex of the token; the token itself is never stored
    prefix TEXT NOT NULL,                     -- first few characters, for display only
    created INTEGER NOT NULL,
    expires INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0,
    scope TEXT                                -- JSON {"projects": {...}} or NULL for full access
  );
  CREATE TABLE nonces (
    user TEXT NOT NULL,
    route TEXT NOT NULL,
    nonce TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (user, route, nonce)
  );
  -- Schema pieces owned by other modules (the files half), applied once per distinct text.
  CREATE TABLE schema_parts (
    name TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL
  );
  `,
];

/** Schema parts contributed by other modules; each must be re-runnable (CREATE … IF NOT EXISTS). */
const EXTRA_SCHEMAS: ReadonlyArray<{ name: string; sql: string }> = [
  { name: 'files', sql: FILES_SCHEMA },
  { name: 'drives', sql: DRIVES_SCHEMA },
  // After 'files': applets and workflows share its object_properties index.
  { name: 'executables', sql: EXECUTABLES_SCHEMA },
  { name: 'executions', sql: EXECUTIONS_SCHEMA },
  { name: 'inline-blobs', sql: INLINE_BLOBS_SCHEMA },
];

export interface OpenDbOptions {
  /**
   * Group commit, for the server: commits do not fsync (`synchronous = NORMAL`); instead a route
   * awaits `syncWal(db)` before it acknowledges a write, and one fdatasync of the WAL, off the
   * event loop, covers every commit made before it started. Without it (admin CLI) every commit
   * is synced by SQLite itself (`synchronous = FULL`).
   */
  groupCommit?: boolean;
}

/** Opens (creating if needed) `<dataDir>/platform.db` and brings its schema up to date. */
export function openDb(dataDir: string, opts: OpenDbOptions = {}): Db {
  // The DB holds drive credentials: owner-only (SQLite gives -wal/-shm the DB file's mode).
  const file = join(dataDir, 'platform.db');
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const db = new Database(file);
  cachePreparedStatements(db);
  // WAL + busy_timeout: the admin CLI opens the same file while `serve` runs.
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  if (opts.groupCommit) {
    db.pragma('synchronous = NORMAL');
    const wal = new WalSync(`${file}-wal`, db);
    walSyncs.set(db, wal);
    const close = db.close.bind(db);
    db.close = () => {
      wal.close();
      return close();
    };
  } else {
    db.pragma('synchronous = FULL');
  }
  return db;
}

/**
 * Why syncing the WAL file ourselves is as durable as `synchronous = FULL`: in WAL mode a commit
 * only appends its frames to `platform.db-wal`; FULL adds an fsync of that file per commit,
 * NORMAL leaves it to checkpoints (which sync the WAL before copying it and the database file
 * after). An fdatasync of the WAL on any descriptor flushes every frame written so far, so once
 * it returns, each commit made before it started is on disk and crash recovery replays it. A
 * checkpoint that runs in between has already synced those frames into the database file, and a
 * WAL restarted afterwards is the same inode. Only the acknowledgement waits, not the event loop.
 */
class WalSync {
  #fd: number | undefined;
  #closed = false;
  readonly #group = new GroupSync(() => this.#syncOnce());

  constructor(
    private readonly path: string,
    private readonly db: Db,
  ) {}

  sync(): Promise<void> {
    return this.#group.sync();
  }

  async #syncOnce(): Promise<void> {
    if (this.#closed || !this.db.open) return; // close() checkpoints and syncs the database itself
    if (this.#fd === undefined) {
      try {
        this.#fd = openSync(this.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: nothing pending
        throw err;
      }
    }
    const fd = this.#fd;
    await new Promise<void>((resolve, reject) =>
      fdatasync(fd, (err) => (err && !this.#closed ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

const walSyncs = new WeakMap<Db, WalSync>();

/**
 * Resolves once every commit made so far on `db` is on disk. With group commit (openDb option)
 * this is one shared fdatasync of the WAL; otherwise SQLite already synced each commit.
 */
export function syncWal(db: Db): Promise<void> {
  return walSyncs.get(db)?.sync() ?? Promise.resolve();
}

/** How many distinct SQL texts keep their prepared statement (find builds its SQL per filter set). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Makes `db.prepare` return a cached statement for SQL it has seen before, instead of compiling
 * it again (preparing was the largest single cost per request). Every store function keeps
 * calling `db.prepare(sql)` and gets the same object back. A statement that is still being
 * iterated (`busy`) is not handed out twice: that call gets a fresh, uncached one. Least recently
 * used texts are dropped past STATEMENT_CACHE_SIZE. Nothing here sets a statement's mode
 * (pluck/raw/expand/safeIntegers); a caller that did would change it for every later user.
 */
function cachePreparedStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) {
      cache.delete(sql); // re-insert: Map order is the recency order
      cache.set(sql, hit);
      return hit;
    }
    const fresh = prepare(sql);
    if (hit) return fresh;
    cache.set(sql, fresh);
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return fresh;
  }) as Db['prepare'];
}

function migrate(db: Db): void {
  tx(db, () => {
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < CORE_MIGRATIONS.length; v++) db.exec(CORE_MIGRATIONS[v]);
    if (version < CORE_MIGRATIONS.length) db.pragma(`user_version = ${CORE_MIGRATIONS.length}`);
    // Extra schemas may appear (or grow) after a DB was created, so they are tracked by content
    // hash rather than by version number: a new or changed text is run again.
    for (const { name, sql } of EXTRA_SCHEMAS) {
      if (sql.trim() === '') continue;
      const hash = createHash('sha256').update(sql).digest('hex');
      const row = db.prepare('SELECT sha256 FROM schema_parts WHERE name = ?').get(name) as
        { sha256: string } | undefined;
      if (row?.sha256 === hash) continue;
      db.exec(sql);
      db.prepare('INSERT OR REPLACE INTO schema_parts (name, sha256) VALUES (?, ?)').run(name, hash);
    }
    // After every part: a table a part has just created gets the per-copy key of a cloned object.
    keyObjectsPerCopy(db);
  });
}

/** Runs fn in one transaction (a savepoint when already inside one); fn must be synchronous. */
export function tx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** Whether a table exists; lets core code use optional tables owned by other modules. */
export function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

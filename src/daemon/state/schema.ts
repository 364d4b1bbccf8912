/**
 * The daemon's durable state: one SQLite database (WAL) under --state-dir. Every state change is one
 * transaction, so a kill -9 at any instant leaves either the old or the new state, never half of one
 * (dx-streaming-upload rewrote a JSON file in place). Migrations are numbered; `user_version` records
 * how many have run, so an older database is upgraded in place when a newer daemon opens it.
 *
 * runs          one row per run folder: its phase (active → finishing → complete) and the IDs and
 *               nonces of the steps that must happen once (sentinel, workflow launch, on-complete).
 * files         one row per path inside a run: the version last seen (size, mtime, inode), since
 *               when it has been unchanged, and the version uploaded (its file ID and signature).
 * stale_objects remote objects of versions that have been replaced or deleted locally: removed from
 *               the project (at least once; removing twice is harmless), so a path never has two live copies.
 * outbox        webhook deliveries, retried with backoff until the receiver answers 2xx, never dropped.
 * events        what an operator reads in `status` (bounded: old rows are pruned).
 * meta          daemon-wide values: the project it uploads to, the limits status shows.
 * throughput    bytes uploaded per minute and run, for rates and ETAs (pruned after a day).
 * hosts         (2) every daemon that has used this queue: its heartbeat, files and bytes uploaded.
 * run_hosts     (2) which hosts see which run folder: a host claims only files it can read.
 *
 * Migration 2 is fleet mode's: a file being uploaded is claimed by one host (`claimed_by`) under a
 * lease (`lease_until`, kept alive by that host's heartbeats) with a fencing number (`claim`,
 * raised by every claim, so a host whose lease lapsed can tell its result is no longer wanted), and
 * a run's once-only steps have one owner at a time (`owner`, `owner_until`).
 *
 * tars          (3) --layout tar: one row per batch of a run (`run.<RUNID>.lane.all_NNN.tar`), claimed
 *               and leased like a file; its members are the files rows whose `tar` names it.
 *
 * The same schema exists for PostgreSQL (PG_MIGRATIONS), in its types; both lists grow together.
 */
const FLEET_COLUMNS = `
ALTER TABLE files ADD COLUMN claimed_by TEXT;
ALTER TABLE files ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN owner_until INTEGER NOT NULL DEFAULT 0;
`;

const FLEET_TABLES = `
CREATE INDEX files_by_claim ON files (claimed_by, state);
CREATE TABLE hosts (
  id TEXT PRIMARY KEY,
  pid INTEGER,
  version TEXT,
  started_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  uploaded INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE run_hosts (
  run INTEGER NOT NULL,
  host TEXT NOT NULL,
  PRIMARY KEY (run, host)
);
`;

const TARS = `
CREATE TABLE tars (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('ready', 'uploading', 'uploaded')),
  size INTEGER NOT NULL,
  files INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_try_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  failed_reported INTEGER NOT NULL DEFAULT 0,
  file_id TEXT,
  signature TEXT,
  claimed_by TEXT,
  claim INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER NOT NULL DEFAULT 0,
  uploaded_at INTEGER,
  UNIQUE (run, seq)
);
CREATE INDEX tars_by_state ON tars (state, next_try_at);
ALTER TABLE files ADD COLUMN tar INTEGER;
CREATE INDEX files_by_tar ON files (tar);
`;

export const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  dir TEXT NOT NULL UNIQUE,
  root TEXT NOT NULL,
  name TEXT NOT NULL,
  profile TEXT NOT NULL,
  run_id TEXT NOT NULL,
  discovered_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  marker TEXT,
  phase TEXT NOT NULL DEFAULT 'active' CHECK (phase IN ('active', 'finishing', 'complete')),
  sentinel_nonce TEXT,
  sentinel_id TEXT,
  workflow_nonce TEXT,
  job_id TEXT,
  hook_state TEXT,
  step_attempts INTEGER NOT NULL DEFAULT 0,
  next_step_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  stalled_reported INTEGER NOT NULL DEFAULT 0,
  failed_reported INTEGER NOT NULL DEFAULT 0,
  last_change_at INTEGER NOT NULL,
  completed_at INTEGER
);
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL REFERENCES runs (id),
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  dev INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  ctime_ms REAL NOT NULL,
  seen_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('settling', 'ready', 'uploading', 'uploaded', 'gone')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_try_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  failed_reported INTEGER NOT NULL DEFAULT 0,
  file_id TEXT,
  signature TEXT,
  uploaded_size INTEGER,
  uploaded_mtime_ms REAL,
  uploaded_at INTEGER,
  UNIQUE (run, path)
);
CREATE INDEX files_by_state ON files (state, next_try_at);
CREATE INDEX files_by_run_state ON files (run, state);
CREATE TABLE stale_objects (
  id INTEGER PRIMARY KEY,
  run INTEGER NOT NULL,
  path TEXT NOT NULL,
  project TEXT NOT NULL,
  file_id TEXT,
  signature TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_try_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_try_at INTEGER NOT NULL DEFAULT 0,
  delivered_at INTEGER,
  last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (delivered_at, next_try_at);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run INTEGER,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run, id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE throughput (
  run INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  files INTEGER NOT NULL,
  PRIMARY KEY (run, minute)
) WITHOUT ROWID;
`,
  FLEET_COLUMNS + FLEET_TABLES,
  TARS,
];

/** The same tables in PostgreSQL's types (BIGINT for bytes and milliseconds, identity keys). */
export const PG_MIGRATIONS: readonly string[] = [
  MIGRATIONS[0]
    .replace(/id INTEGER PRIMARY KEY/g, 'id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/ INTEGER/g, ' BIGINT')
    .replace(/ REAL/g, ' DOUBLE PRECISION')
    .replace(') WITHOUT ROWID;', ');'),
  (FLEET_COLUMNS + FLEET_TABLES).replace(/ INTEGER/g, ' BIGINT'),
  TARS.replace('id INTEGER PRIMARY KEY', 'id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY').replace(
    / INTEGER/g,
    ' BIGINT',
  ),
];

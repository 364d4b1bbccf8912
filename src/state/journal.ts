/**
 * The resume journal: a small SQLite database (WAL) in the user's state dir recording,
 * per local file (classic signature) and destination object, the cloud upload in progress (S3
 * multipart upload ID, or the Azure block-ID prefix) and every part the cloud acknowledged (size,
 * MD5 or S3 CRC32 of the bytes sent, ETag). A part is written only after the cloud answered 2xx, so after a kill -9
 * the journal never claims a part the cloud lacks; it may miss one that landed (that part is re-sent).
 * For platform uploads it keeps the source MD5 of each compressed part sent (`SentPart`), so that a
 * rerun can check a resumed compressed part without compressing it again.
 *
 * The database and its WAL/SHM files are 0600 in a 0700 directory: they hold upload IDs and paths,
 * never credentials. Entries are removed when their file is registered, and entries untouched for
 * longer than `staleAfterMs` (default 7 days: Azure discards uncommitted blocks after a week) are
 * dropped when the journal opens.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface JournalKey {
  /** The classic file signature (size, mtime, compress, chunk size, canonical path). */
  signature: string;
  /** Which object: e.g. `s3 http://host:port bucket/key` or `azure https://acct.blob… container/blob`. */
  destination: string;
}

export interface JournalUpload {
  /** S3 multipart upload ID, or the Azure block-ID prefix. */
  uploadId: string;
  createdMs: number;
  parts: Map<number, JournalPart>;
  /** Set once the cloud made the object whole: its MD5 (only the registration may be missing). */
  completedMd5?: string;
}

export interface JournalPart {
  size: number;
  /** Hex MD5 of the bytes sent; '' when the part was sent with another check (or none). */
  md5: string;
  /** S3 CRC32 checksum (base64, as S3 takes it) of a part of a multipart upload created with CRC32. */
  crc32?: string;
  /** S3 ETag (quoted, as S3 returns it) or the Azure block ID. */
  etag: string;
}

/**
 * What this machine sent of a compressed part of an open platform file: the sent bytes' size and MD5
 * (what the platform's describe shows) and the MD5 of the source bytes they were compressed from. A
 * rerun that finds the same size and MD5 on the platform checks the local bytes with one MD5 pass
 * instead of compressing them again.
 */
export interface SentPart {
  size: number;
  md5: string;
  rawMd5: string;
}

/** Records of compressed parts sent, by platform file ID and part index (the scheduler's `records`). */
export interface SentPartRecords {
  sentPart(fileId: string, index: number): SentPart | undefined;
  recordSentPart(fileId: string, index: number, part: SentPart): void;
  /** After the file closed. */
  forgetSentParts(fileId: string): void;
}

export const DEFAULT_STALE_MS = 7 * 24 * 3600 * 1000;

/**
 * `--state-dir`, else `UA_STATE_DIR`, else `$XDG_CACHE_HOME/ua`, else `~/.cache/ua`: the user's cache
 * dir, since a lost journal costs only a re-send of the parts it knew about.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, explicit?: string): string {
  if (explicit) return explicit;
  if (env.UA_STATE_DIR) return env.UA_STATE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'ua');
  return join(homedir(), '.cache', 'ua');
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS uploads (
  signature   TEXT NOT NULL,
  destination TEXT NOT NULL,
  upload_id   TEXT NOT NULL,
  completed_md5 TEXT,
  created_ms  INTEGER NOT NULL,
  touched_ms  INTEGER NOT NULL,
  PRIMARY KEY (signature, destination)
);
CREATE TABLE IF NOT EXISTS parts (
  signature   TEXT NOT NULL,
  destination TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  size        INTEGER NOT NULL,
  md5         TEXT NOT NULL,
  etag        TEXT NOT NULL,
  PRIMARY KEY (signature, destination, idx)
);
CREATE TABLE IF NOT EXISTS sent_parts (
  file_id     TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  size        INTEGER NOT NULL,
  md5         TEXT NOT NULL,
  raw_md5     TEXT NOT NULL,
  touched_ms  INTEGER NOT NULL,
  PRIMARY KEY (file_id, idx)
);
`;

/** A journal opened for a run, or why it could not be (a run without one keeps going without resume state). */
export interface OpenedJournal {
  dir: string;
  journal?: Journal;
  error?: Error;
}

/** Opens the journal in `dir`; never throws. */
export function openJournal(dir: string): OpenedJournal {
  try {
    return { dir, journal: new Journal(dir) };
  } catch (err) {
    return { dir, error: err as Error };
  }
}

export class Journal implements SentPartRecords {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(dir: string, o: { staleAfterMs?: number; now?: () => number } = {}) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'direct-uploads.sqlite');
    // Created 0600 before SQLite opens it; SQLite gives the -wal/-shm files the database file's mode.
    closeSync(openSync(this.path, 'a', 0o600));
    this.#db = new Database(this.path);
    this.#db.pragma('journal_mode = WAL');
    // A lost last write only re-sends a part: NORMAL keeps each part's record cheap.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    // Journals written before parts carried a CRC32 lack the column.
    const cols = this.#db.prepare('PRAGMA table_info(parts)').all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === 'crc32')) this.#db.exec('ALTER TABLE parts ADD COLUMN crc32 TEXT');
    for (const f of [this.path, `${this.path}-wal`, `${this.path}-shm`])
      if (existsSync(f)) chmodSync(f, 0o600);
    this.#now = o.now ?? Date.now;
    this.pruneStale(o.staleAfterMs ?? DEFAULT_STALE_MS);
  }

  /** The upload recorded for this key, with its acknowledged parts; undefined when none. */
  get(key: JournalKey): JournalUpload | undefined {
    const row = this.#db
      .prepare(
        'SELECT upload_id, created_ms, completed_md5 FROM uploads WHERE signature = ? AND destination = ?',
      )
      .get(key.signature, key.destination) as
      { upload_id: string; created_ms: number; completed_md5: string | null } | undefined;
    if (!row) return undefined;
    const parts = new Map<number, JournalPart>();
    const rows = this.#db
      .prepare(
        'SELECT idx, size, md5, crc32, etag FROM parts WHERE signature = ? AND destination = ? ORDER BY idx',
      )
      .all(key.signature, key.destination) as Array<{
      idx: number;
      size: number;
      md5: string;
      crc32: string | null;
      etag: string;
    }>;
    for (const r of rows)
      parts.set(r.idx, { size: r.size, md5: r.md5, ...(r.crc32 ? { crc32: r.crc32 } : {}), etag: r.etag });
    return {
      uploadId: row.upload_id,
      createdMs: row.created_ms,
      parts,
      ...(row.completed_md5 ? { completedMd5: row.completed_md5 } : {}),
    };
  }

  /** Starts (or restarts) the record of an upload: any earlier parts for the key are forgotten. */
  begin(key: JournalKey, uploadId: string): void {
    const now = this.#now();
    this.#db.transaction(() => {
      this.#deleteParts(key);
      this.#db
        .prepare(
          `INSERT INTO uploads (signature, destination, upload_id, created_ms, touched_ms) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (signature, destination) DO UPDATE SET upload_id = excluded.upload_id,
             created_ms = excluded.created_ms, touched_ms = excluded.touched_ms, completed_md5 = NULL`,
        )
        .run(key.signature, key.destination, uploadId, now, now);
    })();
  }

  /** Records a part the cloud acknowledged. */
  addPart(key: JournalKey, index: number, part: JournalPart): void {
    this.#db
      .prepare(
        `INSERT INTO parts (signature, destination, idx, size, md5, crc32, etag) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (signature, destination, idx) DO UPDATE SET size = excluded.size, md5 = excluded.md5,
           crc32 = excluded.crc32, etag = excluded.etag`,
      )
      .run(key.signature, key.destination, index, part.size, part.md5, part.crc32 ?? null, part.etag);
    this.#db
      .prepare('UPDATE uploads SET touched_ms = ? WHERE signature = ? AND destination = ?')
      .run(this.#now(), key.signature, key.destination);
  }

  /** Records that the cloud completed the object (a kill before registration then only re-registers). */
  markCompleted(key: JournalKey, md5: string): void {
    this.#db
      .prepare('UPDATE uploads SET completed_md5 = ?, touched_ms = ? WHERE signature = ? AND destination = ?')
      .run(md5, this.#now(), key.signature, key.destination);
  }

  /** Forgets one part (it turned out missing or different on the cloud). */
  dropPart(key: JournalKey, index: number): void {
    this.#db
      .prepare('DELETE FROM parts WHERE signature = ? AND destination = ? AND idx = ?')
      .run(key.signature, key.destination, index);
  }

  /** Forgets the upload (after its file was registered, or when it can no longer be resumed). */
  remove(key: JournalKey): void {
    this.#db.transaction(() => {
      this.#deleteParts(key);
      this.#db
        .prepare('DELETE FROM uploads WHERE signature = ? AND destination = ?')
        .run(key.signature, key.destination);
    })();
  }

  /** Drops uploads untouched for longer than `maxAgeMs`; returns how many. */
  pruneStale(maxAgeMs: number): number {
    const before = this.#now() - maxAgeMs;
    return this.#db.transaction(() => {
      this.#db
        .prepare(
          `DELETE FROM parts WHERE (signature, destination) IN
             (SELECT signature, destination FROM uploads WHERE touched_ms < ?)`,
        )
        .run(before);
      this.#db.prepare('DELETE FROM sent_parts WHERE touched_ms < ?').run(before);
      return this.#db.prepare('DELETE FROM uploads WHERE touched_ms < ?').run(before).changes;
    })();
  }

  sentPart(fileId: string, index: number): SentPart | undefined {
    const row = this.#db
      .prepare('SELECT size, md5, raw_md5 FROM sent_parts WHERE file_id = ? AND idx = ?')
      .get(fileId, index) as { size: number; md5: string; raw_md5: string } | undefined;
    return row && { size: row.size, md5: row.md5, rawMd5: row.raw_md5 };
  }

  recordSentPart(fileId: string, index: number, part: SentPart): void {
    this.#db
      .prepare(
        `INSERT INTO sent_parts (file_id, idx, size, md5, raw_md5, touched_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (file_id, idx) DO UPDATE SET size = excluded.size, md5 = excluded.md5,
           raw_md5 = excluded.raw_md5, touched_ms = excluded.touched_ms`,
      )
      .run(fileId, index, part.size, part.md5, part.rawMd5, this.#now());
  }

  forgetSentParts(fileId: string): void {
    this.#db.prepare('DELETE FROM sent_parts WHERE file_id = ?').run(fileId);
  }

  /** How many uploads are recorded (tests and diagnostics). */
  count(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM uploads').get() as { n: number }).n;
  }

  close(): void {
    this.#db.close();
  }

  #deleteParts(key: JournalKey): void {
    this.#db
      .prepare('DELETE FROM parts WHERE signature = ? AND destination = ?')
      .run(key.signature, key.destination);
  }
}

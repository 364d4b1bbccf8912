import type { Db } from './db.js';

/**
 * Drives (platform-api.md §6.1) and the per-file state of uploads into a drive's container.
 *
 * Credentials are stored in clear in platform.db: the platform must use them to presign URLs, so
 * the DB is a secret store here (the data dir's files are created 0600; see store/db.ts). They are
 * never logged and never returned by describe.
 */
export const DRIVES_SCHEMA = `
CREATE TABLE IF NOT EXISTS drives (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cloud TEXT NOT NULL CHECK (cloud IN ('aws', 'azure')),
  credentials TEXT NOT NULL,          -- JSON string map; secret
  endpoint TEXT,
  region TEXT,
  owner TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS symlink_uploads (
  file TEXT PRIMARY KEY,
  drive TEXT NOT NULL,
  container TEXT NOT NULL,
  object TEXT NOT NULL,
  upload_id TEXT,                     -- S3 multipart upload ID, created at the first /upload
  completed INTEGER NOT NULL DEFAULT 0,  -- the object has been made from the parts
  etag TEXT                           -- the object's ETag when its MD5 was computed
);
`;

export type Cloud = 'aws' | 'azure';

/** The credential fields each cloud needs (drive/new and `ua-platform drive new` take the same). */
export const DRIVE_CREDENTIAL_KEYS: Record<Cloud, [string, string]> = {
  aws: ['accessKeyId', 'secretAccessKey'],
  azure: ['account', 'key'],
};

/** The cloud's credential fields of `v`; `missing(key)` is thrown for one that is not a nonempty string. */
export function driveCredentials(
  cloud: Cloud,
  v: Record<string, unknown>,
  missing: (key: string) => Error,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of DRIVE_CREDENTIAL_KEYS[cloud]) {
    const x = v[k];
    if (typeof x !== 'string' || x === '') throw missing(k);
    out[k] = x;
  }
  return out;
}

/** An http(s) endpoint URL without trailing slashes; `bad()` is thrown for anything else. */
export function driveEndpoint(e: string, bad: () => Error): string {
  let u: URL | undefined;
  try {
    u = new URL(e);
  } catch {
    // refused below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw bad();
  return e.replace(/\/+$/, '');
}

export interface DriveRecord {
  id: string;
  name: string;
  cloud: Cloud;
  credentials: Record<string, string>;
  endpoint: string | null;
  region: string | null;
  owner: string;
  disabled: boolean;
  created: number;
  modified: number;
}

interface DriveRow {
  id: string;
  name: string;
  cloud: Cloud;
  credentials: string;
  endpoint: string | null;
  region: string | null;
  owner: string;
  disabled: number;
  created: number;
  modified: number;
}

const fromRow = (r: DriveRow): DriveRecord => ({
  ...r,
  credentials: JSON.parse(r.credentials) as Record<string, string>,
  disabled: r.disabled !== 0,
});

export function insertDrive(db: Db, d: DriveRecord): void {
  db.prepare(
    `INSERT INTO drives (id, name, cloud, credentials, endpoint, region, owner, disabled, created, modified)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
  ).run(
    d.id,
    d.name,
    d.cloud,
    JSON.stringify(d.credentials),
    d.endpoint,
    d.region,
    d.owner,
    d.created,
    d.modified,
  );
}

export function getDrive(db: Db, id: string): DriveRecord | undefined {
  const r = db.prepare('SELECT * FROM drives WHERE id = ?').get(id) as DriveRow | undefined;
  return r && fromRow(r);
}

export function updateDrive(
  db: Db,
  id: string,
  patch: { name?: string; credentials?: Record<string, string>; disabled?: boolean },
  now: number,
): void {
  const d = getDrive(db, id);
  if (!d) return;
  db.prepare('UPDATE drives SET name = ?, credentials = ?, disabled = ?, modified = ? WHERE id = ?').run(
    patch.name ?? d.name,
    JSON.stringify(patch.credentials ?? d.credentials),
    (patch.disabled ?? d.disabled) ? 1 : 0,
    now,
    id,
  );
}

/** The projects the user is a member of that auto-symlink into this drive. */
export function memberProjectsUsingDrive(db: Db, driveId: string, userId: string): string[] {
  const rows = db
    .prepare(
      `SELECT p.id AS id, p.default_symlink AS ds FROM projects p JOIN members m ON m.project = p.id
       WHERE m.user = ? AND p.default_symlink IS NOT NULL`,
    )
    .all(userId) as Array<{ id: string; ds: string }>;
  return rows.filter((r) => (JSON.parse(r.ds) as { drive?: string }).drive === driveId).map((r) => r.id);
}

// ---- per-file upload state ----

export interface SymlinkUpload {
  file: string;
  drive: string;
  container: string;
  object: string;
  uploadId: string | null;
  completed: boolean;
  etag: string | null;
}

export function insertSymlinkUpload(db: Db, u: Omit<SymlinkUpload, 'uploadId' | 'completed' | 'etag'>): void {
  db.prepare('INSERT INTO symlink_uploads (file, drive, container, object) VALUES (?, ?, ?, ?)').run(
    u.file,
    u.drive,
    u.container,
    u.object,
  );
}

export function getSymlinkUpload(db: Db, fileId: string): SymlinkUpload | undefined {
  const r = db.prepare('SELECT * FROM symlink_uploads WHERE file = ?').get(fileId) as
    | {
        file: string;
        drive: string;
        container: string;
        object: string;
        upload_id: string | null;
        completed: number;
        etag: string | null;
      }
    | undefined;
  return (
    r && {
      file: r.file,
      drive: r.drive,
      container: r.container,
      object: r.object,
      uploadId: r.upload_id,
      completed: r.completed !== 0,
      etag: r.etag,
    }
  );
}

/** Records the S3 upload ID unless another request recorded one first; returns the one that stands. */
export function setUploadId(db: Db, fileId: string, uploadId: string): string {
  db.prepare('UPDATE symlink_uploads SET upload_id = ? WHERE file = ? AND upload_id IS NULL').run(
    uploadId,
    fileId,
  );
  return getSymlinkUpload(db, fileId)!.uploadId!;
}

export function markUploadCompleted(db: Db, fileId: string): void {
  db.prepare('UPDATE symlink_uploads SET completed = 1 WHERE file = ?').run(fileId);
}

export function setVerifiedEtag(db: Db, fileId: string, etag: string): void {
  db.prepare('UPDATE symlink_uploads SET etag = ? WHERE file = ?').run(etag, fileId);
}

/** A part declared at /upload: recorded `pending` (the bytes go to the cloud, not through us). */
export function declarePart(
  db: Db,
  fileId: string,
  p: { index: number; size: number; md5: string; now: number },
): boolean {
  return db.transaction(() => {
    const f = db.prepare('SELECT state FROM files WHERE id = ?').get(fileId) as { state: string } | undefined;
    if (!f || f.state !== 'open') return false;
    db.prepare(
      `INSERT INTO parts (file, idx, size, md5, state, blob, stored_at) VALUES (?, ?, ?, ?, 'pending', '', ?)
       ON CONFLICT (file, idx) DO UPDATE SET size = excluded.size, md5 = excluded.md5, state = 'pending',
         stored_at = excluded.stored_at`,
    ).run(fileId, p.index, p.size, p.md5, p.now);
    db.prepare('UPDATE files SET modified = ? WHERE id = ?').run(p.now, fileId);
    return true;
  })();
}

export function setPartStates(db: Db, fileId: string, complete: Set<number> | 'all'): void {
  if (complete === 'all') {
    db.prepare(`UPDATE parts SET state = 'complete' WHERE file = ?`).run(fileId);
    return;
  }
  const set = db.prepare(`UPDATE parts SET state = ? WHERE file = ? AND idx = ?`);
  const rows = db.prepare('SELECT idx FROM parts WHERE file = ?').all(fileId) as Array<{ idx: number }>;
  for (const r of rows) set.run(complete.has(r.idx) ? 'complete' : 'pending', fileId, r.idx);
}

/**
 * Marks parts the container reports as arrived `complete`, while the file is open and each part is
 * still declared with the size and MD5 the cloud was checked against: an /upload that re-declared
 * the part meanwhile (its new bytes not yet PUT) keeps it `pending`. Returns how many changed.
 */
export function markPartsArrived(
  db: Db,
  fileId: string,
  parts: Array<{ index: number; size: number; md5: string }>,
): number {
  const set = db.prepare(
    `UPDATE parts SET state = 'complete' WHERE file = ? AND idx = ? AND size = ? AND md5 = ? AND state = 'pending'
       AND EXISTS (SELECT 1 FROM files WHERE id = parts.file AND state = 'open')`,
  );
  return db.transaction(() =>
    parts.reduce((n, p) => n + set.run(fileId, p.index, p.size, p.md5).changes, 0),
  )();
}

/** Marks a file as a symlink (drive, container, object) — at /file/new, before any byte arrives. */
export function setFileSymlink(
  db: Db,
  fileId: string,
  s: { drive: string; container: string; object: string },
): void {
  db.prepare('UPDATE files SET drive = ?, symlink_container = ?, symlink_object = ? WHERE id = ?').run(
    s.drive,
    s.container,
    s.object,
    fileId,
  );
}

/**
 * Ends a symlinked file's close: its MD5 is known, so `closing` may settle to `closed`. `media`,
 * inferred from the bytes read for that MD5, fills in the media type only where the client gave none.
 */
export function markSymlinkVerified(db: Db, fileId: string, md5: string, media?: string): void {
  db.prepare(
    `UPDATE files SET assembled = 1, md5 = ?, media = CASE WHEN media = '' THEN COALESCE(?, '') ELSE media END
     WHERE id = ?`,
  ).run(md5, media ?? null, fileId);
}

/** A registered symlink is born closed: its object already exists and its MD5 was checked. */
export function markRegisteredClosed(db: Db, fileId: string, size: number, md5: string, now: number): void {
  db.prepare(
    `UPDATE files SET state = 'closed', size = ?, md5 = ?, assembled = 1, closing_until = ?, modified = ? WHERE id = ?`,
  ).run(size, md5, now, now, fileId);
}

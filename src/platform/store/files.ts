import type Database from 'better-sqlite3';
import { noteDerivedChanges } from './changes.js';
import { hasTable } from './db.js';
import { OBJECTS_SCHEMA, indexProperties, rowToObject, type DataObject, type ObjectRow } from './objects.js';

export { listObjects, type ListedObject, type ListObjectsOptions } from './objects.js';

/**
 * Files and their parts. Plain SQL, plain records in and out; the routes own the rules.
 * A file's bytes live in the blob store: each stored part under its own blob key (so the last
 * complete PUT of an index wins without a read-modify-write race), the final object once assembled.
 */
export const FILES_SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  folder TEXT NOT NULL DEFAULT '/',
  name TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closing', 'closed')),
  closing_until INTEGER,
  assembled INTEGER NOT NULL DEFAULT 0,
  hidden INTEGER NOT NULL DEFAULT 0,
  media TEXT NOT NULL DEFAULT '',
  types TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  properties TEXT NOT NULL DEFAULT '{}',
  details TEXT NOT NULL DEFAULT '{}',
  size INTEGER,
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  drive TEXT,
  symlink_container TEXT,
  symlink_object TEXT,
  md5 TEXT
);
CREATE INDEX IF NOT EXISTS files_by_modified ON files (project, modified DESC, id DESC);
-- findDataObjects by folder (no recursion) or by exact name, already in its result order.
-- They replace files_by_folder (project, folder), a prefix of files_in_folder.
DROP INDEX IF EXISTS files_by_folder;
CREATE INDEX IF NOT EXISTS files_in_folder ON files (project, folder, modified DESC, id DESC);
CREATE INDEX IF NOT EXISTS files_by_name ON files (project, name, modified DESC, id DESC);
CREATE INDEX IF NOT EXISTS files_closing ON files (state) WHERE state = 'closing';
CREATE TABLE IF NOT EXISTS parts (
  file TEXT NOT NULL,
  idx INTEGER NOT NULL,
  size INTEGER NOT NULL,
  md5 TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'complete',
  blob TEXT NOT NULL,
  stored_at INTEGER NOT NULL,
  PRIMARY KEY (file, idx)
) WITHOUT ROWID;
${OBJECTS_SCHEMA}
`;

export type FileState = 'open' | 'closing' | 'closed';

export interface FileRecord extends DataObject {
  class: 'file';
  state: FileState;
  closingUntil: number | null;
  /** The final object exists in the blob store; `closed` is never reported before this. */
  assembled: boolean;
  media: string;
  /** Set at close (sum of parts); null while open. */
  size: number | null;
  drive: string | null;
  symlinkContainer: string | null;
  symlinkObject: string | null;
  md5: string | null;
}

export interface PartRecord {
  index: number;
  size: number;
  md5: string;
  state: string;
  blob: string;
  storedAt: number;
}

export interface NewFile {
  id: string;
  project: string;
  folder: string;
  name: string;
  hidden: boolean;
  media: string;
  types: string[];
  tags: string[];
  properties: Record<string, string>;
  details: unknown;
  createdBy: string;
  now: number;
}

interface FileRow extends ObjectRow {
  closing_until: number | null;
  assembled: number;
  media: string;
  size: number | null;
  drive: string | null;
  symlink_container: string | null;
  symlink_object: string | null;
  md5: string | null;
}

function rowToFile(r: FileRow): FileRecord {
  return {
    ...rowToObject(r, 'file'),
    class: 'file',
    state: r.state as FileState,
    closingUntil: r.closing_until,
    assembled: r.assembled === 1,
    media: r.media,
    size: r.size,
    drive: r.drive,
    symlinkContainer: r.symlink_container,
    symlinkObject: r.symlink_object,
    md5: r.md5,
  };
}

export function insertFile(db: Database.Database, f: NewFile): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO files (id, project, folder, name, hidden, media, types, tags, properties, details,
         created, modified, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      f.id,
      f.project,
      f.folder,
      f.name,
      f.hidden ? 1 : 0,
      f.media,
      JSON.stringify(f.types),
      JSON.stringify(f.tags),
      JSON.stringify(f.properties),
      JSON.stringify(f.details ?? {}),
      f.now,
      f.now,
      f.createdBy,
    );
    indexProperties(db, f.id, f.properties);
  })();
}

export function getFile(db: Database.Database, id: string): FileRecord | undefined {
  const r = db.prepare('SELECT * FROM files WHERE id = ?').get(id) as FileRow | undefined;
  return r && rowToFile(r);
}

/** Just the state column (the part PUT checks only that; getFile parses every JSON column). */
export function fileState(db: Database.Database, id: string): FileState | undefined {
  const r = db.prepare('SELECT state FROM files WHERE id = ?').get(id) as { state: FileState } | undefined;
  return r?.state;
}

/**
 * `closing` becomes `closed` once its delay has passed and the bytes are assembled; computed on
 * read and persisted, so every reader (describe, find) agrees.
 */
export function settleClosing(db: Database.Database, now: number): void {
  const r = db
    .prepare(
      `UPDATE files SET state = 'closed'
       WHERE state = 'closing' AND assembled = 1 AND closing_until <= ?`,
    )
    .run(now);
  // Derived from durable columns: lost in a crash, the next read settles it again.
  noteDerivedChanges(db, r.changes);
}

export function listParts(db: Database.Database, fileId: string): PartRecord[] {
  const rows = db
    .prepare('SELECT idx, size, md5, state, blob, stored_at FROM parts WHERE file = ? ORDER BY idx')
    .all(fileId) as Array<{
    idx: number;
    size: number;
    md5: string;
    state: string;
    blob: string;
    stored_at: number;
  }>;
  return rows.map((r) => ({
    index: r.idx,
    size: r.size,
    md5: r.md5,
    state: r.state,
    blob: r.blob,
    storedAt: r.stored_at,
  }));
}

/**
 * Records a stored part if the file is still open; returns the blob key it replaced (to delete),
 * `null` when there was none, or `false` when the file is no longer open (nothing recorded).
 * One synchronous transaction, so a concurrent close either sees the part or refuses it.
 */
export function recordPart(
  db: Database.Database,
  fileId: string,
  part: { index: number; size: number; md5: string; blob: string; now: number },
): string | null | false {
  return db.transaction((): string | null | false => {
    const f = db.prepare('SELECT state FROM files WHERE id = ?').get(fileId) as { state: string } | undefined;
    if (!f || f.state !== 'open') return false;
    const old = db.prepare('SELECT blob FROM parts WHERE file = ? AND idx = ?').get(fileId, part.index) as
      { blob: string } | undefined;
    db.prepare(
      `INSERT INTO parts (file, idx, size, md5, state, blob, stored_at) VALUES (?, ?, ?, ?, 'complete', ?, ?)
       ON CONFLICT (file, idx) DO UPDATE SET size = excluded.size, md5 = excluded.md5, state = 'complete',
         blob = excluded.blob, stored_at = excluded.stored_at`,
    ).run(fileId, part.index, part.size, part.md5, part.blob, part.now);
    db.prepare('UPDATE files SET modified = ? WHERE id = ?').run(part.now, fileId);
    return old ? old.blob : null;
  })();
}

/** open → closing; returns false if the file was not open (a concurrent close won). */
export function markClosing(
  db: Database.Database,
  fileId: string,
  size: number,
  closingUntil: number,
  now: number,
): boolean {
  const r = db
    .prepare(
      `UPDATE files SET state = 'closing', size = ?, closing_until = ?, modified = ?
       WHERE id = ? AND state = 'open'`,
    )
    .run(size, closingUntil, now, fileId);
  return r.changes === 1;
}

/**
 * The final object exists. `media`, inferred from the bytes, fills in the media type only where
 * the client gave none (an empty one), so a client's own choice is never replaced. `md5` is null
 * when the object was not read whole (a multi-part object kept as its parts, each one checked).
 */
export function markAssembled(
  db: Database.Database,
  fileId: string,
  md5: string | null,
  media?: string,
): void {
  db.prepare(
    `UPDATE files SET assembled = 1, md5 = COALESCE(md5, ?),
       media = CASE WHEN media = '' THEN COALESCE(?, '') ELSE media END
     WHERE id = ?`,
  ).run(md5, media ?? null, fileId);
}

/** Files that are closing but whose bytes are not assembled (e.g. the server stopped mid-way). */
export function unassembledClosing(db: Database.Database): string[] {
  const rows = db.prepare(`SELECT id FROM files WHERE state = 'closing' AND assembled = 0`).all() as Array<{
    id: string;
  }>;
  return rows.map((r) => r.id);
}

/** Files in a project, when the `files` table can tell (another module may own it); undefined otherwise. */
export function countFiles(db: Database.Database, projectId: string): number | undefined {
  if (!hasTable(db, 'files')) return undefined;
  try {
    const row = db.prepare('SELECT count(*) AS n FROM files WHERE project = ?').get(projectId) as {
      n: number;
    };
    return row.n;
  } catch {
    return undefined; // a different column layout: leave the count out rather than guess
  }
}

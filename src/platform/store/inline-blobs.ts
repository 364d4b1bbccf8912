/**
 * The bytes of small parts and objects, kept in the platform's own database rather than one file
 * each (blobs/inline.ts decides which). A row is written by a plain commit; it is durable once the
 * WAL is synced (syncWal), which the PUT and close answers wait for anyway.
 */
import { tx, type Db } from './db.js';

export const INLINE_BLOBS_SCHEMA = `
CREATE TABLE IF NOT EXISTS inline_parts (
  key TEXT PRIMARY KEY,           -- the part attempt's blob key, as the parts table records it
  file_id TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS inline_parts_file ON inline_parts(file_id);
CREATE TABLE IF NOT EXISTS inline_objects (
  file_id TEXT PRIMARY KEY,       -- a closed file's whole object
  data BLOB NOT NULL
);
`;

export function putInlinePart(db: Db, key: string, fileId: string, data: Buffer): void {
  db.prepare('INSERT INTO inline_parts (key, file_id, data) VALUES (?, ?, ?)').run(key, fileId, data);
}

export function inlinePartData(db: Db, key: string): Buffer | undefined {
  const row = db.prepare('SELECT data FROM inline_parts WHERE key = ?').get(key) as
    { data: Buffer } | undefined;
  return row?.data;
}

export function deleteInlinePart(db: Db, key: string): void {
  db.prepare('DELETE FROM inline_parts WHERE key = ?').run(key);
}

/**
 * Moves a part's bytes to be the file's object (replacing an earlier attempt's), in one
 * transaction: either both rows change or neither does. False when the part is not there.
 */
export function promoteInlinePart(db: Db, key: string, fileId: string): boolean {
  return tx(db, () => {
    const copied = db
      .prepare(
        'INSERT OR REPLACE INTO inline_objects (file_id, data) SELECT ?, data FROM inline_parts WHERE key = ?',
      )
      .run(fileId, key).changes;
    if (copied === 0) return false;
    db.prepare('DELETE FROM inline_parts WHERE key = ?').run(key);
    return true;
  });
}

export function inlineObjectSize(db: Db, fileId: string): number | undefined {
  const row = db.prepare('SELECT length(data) AS n FROM inline_objects WHERE file_id = ?').get(fileId) as
    { n: number } | undefined;
  return row?.n;
}

export function inlineObjectData(db: Db, fileId: string): Buffer | undefined {
  const row = db.prepare('SELECT data FROM inline_objects WHERE file_id = ?').get(fileId) as
    { data: Buffer } | undefined;
  return row?.data;
}

/** Removes a file's object and every part attempt of it. */
export function deleteInlineFile(db: Db, fileId: string): void {
  db.prepare('DELETE FROM inline_objects WHERE file_id = ?').run(fileId);
  db.prepare('DELETE FROM inline_parts WHERE file_id = ?').run(fileId);
}

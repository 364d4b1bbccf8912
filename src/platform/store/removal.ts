import type Database from 'better-sqlite3';
import { idClass } from '../../common/ids.js';
import { hasTable } from './db.js';
import { reindexProperties, TABLE_OF, type ObjectClass } from './objects.js';

/** The class of a data object if it is stored in `project`; undefined for anything else. */
export function objectClassIn(db: Database.Database, project: string, id: string): ObjectClass | undefined {
  const klass = idClass(id);
  if (klass === undefined || !Object.hasOwn(TABLE_OF, klass)) return undefined;
  const c = klass as ObjectClass;
  const row = db.prepare(`SELECT 1 FROM ${TABLE_OF[c]} WHERE id = ? AND project = ?`).get(id, project);
  return row === undefined ? undefined : c;
}

/**
 * Removes an object from one project: its copy there (store/copies.ts). Returns true when that
 * was the last copy, and then also deletes what the copies shared: the property index entries
 * and, for a file, its part rows and its symlink upload. The bytes are the caller's
 * (routes/remove-objects.ts): they may only go once this is durable, and only with the last copy.
 */
export function deleteObject(
  db: Database.Database,
  klass: ObjectClass,
  id: string,
  project: string,
): boolean {
  return db.transaction(() => {
    db.prepare(`DELETE FROM ${TABLE_OF[klass]} WHERE id = ? AND project = ?`).run(id, project);
    if (db.prepare(`SELECT 1 FROM ${TABLE_OF[klass]} WHERE id = ?`).get(id) !== undefined) {
      reindexProperties(db, klass, id); // drop what only the removed copy had
      return false;
    }
    db.prepare('DELETE FROM object_properties WHERE object = ?').run(id);
    if (klass !== 'file') return true;
    db.prepare('DELETE FROM parts WHERE file = ?').run(id);
    if (hasTable(db, 'symlink_uploads')) db.prepare('DELETE FROM symlink_uploads WHERE file = ?').run(id);
    return true;
  })();
}

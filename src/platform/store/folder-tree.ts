import type Database from 'better-sqlite3';
import { OBJECT_CLASSES, TABLE_OF, type ListedObject, type ObjectClass } from './objects.js';

/**
 * Whole folders of one project: what `/project-xxxx/move`, `removeFolder` and `clone` act on.
 * Paths are canonical (folders.ts normaliseFolder); `folder` columns of objects hold their
 * folder's path, so moving a folder rewrites the paths under it in the folders table and in
 * every object table. Only the copies in this project move (store/copies.ts).
 */

/** SQL matching `column` = the folder or a path below it; root matches everything. */
function under(column: string): string {
  return `(@folder = '/' OR ${column} = @folder OR substr(${column}, 1, length(@folder) + 1) = @folder || '/')`;
}

/** The folder's stored subfolders at any depth, sorted (the root itself is never stored). */
export function foldersBelow(db: Database.Database, project: string, folder: string): string[] {
  const rows = db
    .prepare(
      `SELECT path FROM folders WHERE project = @project AND path != @folder AND ${under('path')} ORDER BY path`,
    )
    .all({ project, folder }) as Array<{ path: string }>;
  return rows.map((r) => r.path);
}

/** The objects in the folder or below it, hidden ones included, with their folder. */
export function objectsBelow(db: Database.Database, project: string, folder: string): ListedObject[] {
  const branches = OBJECT_CLASSES.map(
    (c) =>
      `SELECT id, '${c}' AS class, name, folder, state, hidden, modified FROM ${TABLE_OF[c]}
       WHERE project = @project AND ${under('folder')}`,
  );
  const rows = db.prepare(`${branches.join(' UNION ALL ')} ORDER BY folder, modified DESC, id DESC`).all({
    project,
    folder,
  }) as Array<Omit<ListedObject, 'hidden'> & { hidden: number }>;
  return rows.map((r) => ({ ...r, hidden: r.hidden === 1 }));
}

/** Whether a folder has at least one subfolder (listFolder's `hasSubfolderFlags`). */
export function hasSubfolders(db: Database.Database, project: string, folder: string): boolean {
  const prefix = folder === '/' ? '/' : folder + '/';
  return (
    db
      .prepare('SELECT 1 FROM folders WHERE project = ? AND substr(path, 1, ?) = ? LIMIT 1')
      .get(project, prefix.length, prefix) !== undefined
  );
}

/** Moves one copy of an object into `folder` (which must exist) and bumps its `modified`. */
export function moveObject(
  db: Database.Database,
  klass: ObjectClass,
  id: string,
  project: string,
  folder: string,
  now: number,
): void {
  db.prepare(`UPDATE ${TABLE_OF[klass]} SET folder = ?, modified = ? WHERE id = ? AND project = ?`).run(
    folder,
    now,
    id,
    project,
  );
}

/**
 * Renames folder `from` (not root) and everything under it to `to`, objects included. The caller
 * has checked that `to` does not exist and is not inside `from`, so no new path collides.
 * Objects keep their `modified`: their own metadata did not change.
 */
export function moveFolderTree(db: Database.Database, project: string, from: string, to: string): void {
  const params = { project, folder: from, to };
  const rebase = (column: string) => `${column} = @to || substr(${column}, length(@folder) + 1)`;
  db.transaction(() => {
    db.prepare(`UPDATE folders SET ${rebase('path')} WHERE project = @project AND ${under('path')}`).run(
      params,
    );
    for (const c of OBJECT_CLASSES) {
      db.prepare(
        `UPDATE ${TABLE_OF[c]} SET ${rebase('folder')} WHERE project = @project AND ${under('folder')}`,
      ).run(params);
    }
  })();
}

/** Deletes the folder (not root) and its subfolders; their objects must be gone already. */
export function deleteFolderTree(db: Database.Database, project: string, folder: string): void {
  db.prepare(`DELETE FROM folders WHERE project = @project AND ${under('path')}`).run({ project, folder });
}

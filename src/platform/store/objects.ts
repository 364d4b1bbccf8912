import type Database from 'better-sqlite3';

/**
 * What files and records share: the common data-object columns, the property index used by
 * findDataObjects (the resume search filters `.system-fileSignature` by exact value), and the
 * metadata edits. Records are files without parts: `open` → `closed` at once on close.
 */
export const OBJECTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  folder TEXT NOT NULL DEFAULT '/',
  name TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  hidden INTEGER NOT NULL DEFAULT 0,
  types TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  properties TEXT NOT NULL DEFAULT '{}',
  details TEXT NOT NULL DEFAULT '{}',
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
DROP INDEX IF EXISTS records_by_folder;
CREATE INDEX IF NOT EXISTS records_in_folder ON records (project, folder, modified DESC, id DESC);
CREATE INDEX IF NOT EXISTS records_by_name ON records (project, name, modified DESC, id DESC);
CREATE INDEX IF NOT EXISTS records_by_modified ON records (project, modified DESC, id DESC);
CREATE TABLE IF NOT EXISTS object_properties (
  object TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (object, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_properties_by_value ON object_properties (key, value);
`;

/**
 * Every data-object class and its table. Applets and workflows (executables.ts) have tables of
 * their own with the records' columns, so findDataObjects, listFolder, the metadata edits and
 * removeObjects reach them through this map like files and records.
 */
export type ObjectClass = 'file' | 'record' | 'applet' | 'workflow';
export const TABLE_OF: Record<ObjectClass, string> = {
  file: 'files',
  record: 'records',
  applet: 'applets',
  workflow: 'workflows',
};
export const OBJECT_CLASSES = Object.keys(TABLE_OF) as ObjectClass[];

export interface DataObject {
  id: string;
  class: ObjectClass;
  project: string;
  folder: string;
  name: string;
  state: string;
  hidden: boolean;
  types: string[];
  tags: string[];
  properties: Record<string, string>;
  details: unknown;
  created: number;
  modified: number;
  createdBy: string;
}

export interface ObjectRow {
  id: string;
  project: string;
  folder: string;
  name: string;
  state: string;
  hidden: number;
  types: string;
  tags: string;
  properties: string;
  details: string;
  created: number;
  modified: number;
  created_by: string;
}

export function rowToObject(r: ObjectRow, klass: ObjectClass): DataObject {
  return {
    id: r.id,
    class: klass,
    project: r.project,
    folder: r.folder,
    name: r.name,
    state: r.state,
    hidden: r.hidden === 1,
    types: JSON.parse(r.types) as string[],
    tags: JSON.parse(r.tags) as string[],
    properties: JSON.parse(r.properties) as Record<string, string>,
    details: JSON.parse(r.details) as unknown,
    created: r.created,
    modified: r.modified,
    createdBy: r.created_by,
  };
}

export type NewRecord = Omit<DataObject, 'class' | 'state' | 'created' | 'modified'> & { now: number };

export function insertRecord(db: Database.Database, r: NewRecord): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO records (id, project, folder, name, hidden, types, tags, properties, details,
         created, modified, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.id,
      r.project,
      r.folder,
      r.name,
      r.hidden ? 1 : 0,
      JSON.stringify(r.types),
      JSON.stringify(r.tags),
      JSON.stringify(r.properties),
      JSON.stringify(r.details ?? {}),
      r.now,
      r.now,
      r.createdBy,
    );
    indexProperties(db, r.id, r.properties);
  })();
}

/** A new file's or record's properties into the index findDataObjects filters on. */
export function indexProperties(db: Database.Database, id: string, properties: Record<string, string>): void {
  const put = db.prepare('INSERT INTO object_properties (object, key, value) VALUES (?, ?, ?)');
  for (const [k, v] of Object.entries(properties)) put.run(id, k, v);
}

export function getRecord(db: Database.Database, id: string): DataObject | undefined {
  const r = db.prepare('SELECT * FROM records WHERE id = ?').get(id) as ObjectRow | undefined;
  return r && rowToObject(r, 'record');
}

export function closeRecord(db: Database.Database, id: string, now: number): void {
  db.prepare(`UPDATE records SET state = 'closed', modified = ? WHERE id = ? AND state = 'open'`).run(
    now,
    id,
  );
}

export interface MetaPatch {
  name?: string;
  tags?: string[];
  types?: string[];
  /** Merged: a null value deletes the key. */
  properties?: Record<string, string | null>;
}

/** Applies a metadata edit to a file or record and bumps `modified`. */
export function updateMeta(
  db: Database.Database,
  klass: ObjectClass,
  id: string,
  patch: MetaPatch,
  now: number,
): void {
  const table = TABLE_OF[klass];
  db.transaction(() => {
    const cur = db.prepare(`SELECT properties FROM ${table} WHERE id = ?`).get(id) as
      { properties: string } | undefined;
    if (!cur) return;
    if (patch.name !== undefined) db.prepare(`UPDATE ${table} SET name = ? WHERE id = ?`).run(patch.name, id);
    if (patch.tags)
      db.prepare(`UPDATE ${table} SET tags = ? WHERE id = ?`).run(JSON.stringify(patch.tags), id);
    if (patch.types)
      db.prepare(`UPDATE ${table} SET types = ? WHERE id = ?`).run(JSON.stringify(patch.types), id);
    if (patch.properties) {
      const props = JSON.parse(cur.properties) as Record<string, string>;
      const put = db.prepare(
        `INSERT INTO object_properties (object, key, value) VALUES (?, ?, ?)
         ON CONFLICT (object, key) DO UPDATE SET value = excluded.value`,
      );
      const del = db.prepare('DELETE FROM object_properties WHERE object = ? AND key = ?');
      for (const [k, v] of Object.entries(patch.properties)) {
        if (v === null) {
          delete props[k];
          del.run(id, k);
        } else {
          props[k] = v;
          put.run(id, k, v);
        }
      }
      db.prepare(`UPDATE ${table} SET properties = ? WHERE id = ?`).run(JSON.stringify(props), id);
    }
    db.prepare(`UPDATE ${table} SET modified = ? WHERE id = ?`).run(now, id);
  })();
}

export interface ListObjectsOptions {
  includeHidden?: boolean;
}

export interface ListedObject {
  id: string;
  class: ObjectClass;
  name: string;
  folder: string;
  state: string;
  hidden: boolean;
  modified: number;
}

/** The data objects directly in one folder of a project (for listFolder), newest first. */
export function listObjects(
  db: Database.Database,
  projectId: string,
  folder: string,
  opts: ListObjectsOptions = {},
): ListedObject[] {
  const hidden = opts.includeHidden ? '' : 'AND hidden = 0';
  const branches = OBJECT_CLASSES.map(
    (c) =>
      `SELECT id, '${c}' AS class, name, folder, state, hidden, modified FROM ${TABLE_OF[c]}
         WHERE project = ? AND folder = ? ${hidden}`,
  );
  const rows = db
    .prepare(`${branches.join(' UNION ALL ')} ORDER BY modified DESC, id DESC`)
    .all(...OBJECT_CLASSES.flatMap(() => [projectId, folder])) as Array<
    Omit<ListedObject, 'hidden'> & { hidden: number }
  >;
  return rows.map((r) => ({ ...r, hidden: r.hidden === 1 }));
}

/** Every project that holds at least one data object (findDataObjects filters these by access). */
export function projectsWithObjects(db: Database.Database): string[] {
  const branches = OBJECT_CLASSES.map((c) => `SELECT DISTINCT project FROM ${TABLE_OF[c]}`);
  const rows = db.prepare(`${branches.join(' UNION ')} ORDER BY project`).all() as Array<{
    project: string;
  }>;
  return rows.map((r) => r.project);
}

/**
 * Replaces an open object's details (its whole value); false when it is not open, so a close
 * that won a race is answered InvalidState like any closed object (details are fixed at close).
 */
export function setDetails(
  db: Database.Database,
  klass: ObjectClass,
  id: string,
  details: unknown,
  now: number,
): boolean {
  const r = db
    .prepare(`UPDATE ${TABLE_OF[klass]} SET details = ?, modified = ? WHERE id = ? AND state = 'open'`)
    .run(JSON.stringify(details), now, id);
  return r.changes === 1;
}

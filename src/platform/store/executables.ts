import type Database from 'better-sqlite3';
import { indexProperties, rowToObject, type DataObject, type ObjectRow } from './objects.js';

/**
 * Applets and workflows: data objects like records (folder, name, properties, tags, types,
 * details), each class in its own table with the records' columns so objects.ts's TABLE_OF
 * reaches them and findDataObjects, listFolder, the metadata edits and removeObjects need no
 * special case. Two tables rather than one with a class column because every query there picks
 * its table by class. What makes them executable (runSpec, inputSpec, stages, …) is kept
 * opaquely in `spec`: nothing here runs it. They are created `closed` and stay so.
 */
function executableTable(table: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  folder TEXT NOT NULL DEFAULT '/',
  name TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'closed' CHECK (state = 'closed'),
  hidden INTEGER NOT NULL DEFAULT 0,
  types TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  properties TEXT NOT NULL DEFAULT '{}',
  details TEXT NOT NULL DEFAULT '{}',
  spec TEXT NOT NULL DEFAULT '{}',
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table}_in_folder ON ${table} (project, folder, modified DESC, id DESC);
CREATE INDEX IF NOT EXISTS ${table}_by_name ON ${table} (project, name, modified DESC, id DESC);
CREATE INDEX IF NOT EXISTS ${table}_by_modified ON ${table} (project, modified DESC, id DESC);
`;
}

export const EXECUTABLES_SCHEMA = executableTable('applets') + executableTable('workflows');

export type ExecutableClass = 'applet' | 'workflow';
const TABLE: Record<ExecutableClass, string> = { applet: 'applets', workflow: 'workflows' };

export interface ExecutableObject extends DataObject {
  class: ExecutableClass;
  /** The executable's own fields as given at creation (runSpec, inputSpec, stages, …). */
  spec: Record<string, unknown>;
}

export type NewExecutable = Omit<ExecutableObject, 'state' | 'created' | 'modified'> & { now: number };

export function insertExecutable(db: Database.Database, e: NewExecutable): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO ${TABLE[e.class]} (id, project, folder, name, hidden, types, tags, properties, details,
         spec, created, modified, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.id,
      e.project,
      e.folder,
      e.name,
      e.hidden ? 1 : 0,
      JSON.stringify(e.types),
      JSON.stringify(e.tags),
      JSON.stringify(e.properties),
      JSON.stringify(e.details ?? {}),
      JSON.stringify(e.spec),
      e.now,
      e.now,
      e.createdBy,
    );
    indexProperties(db, e.id, e.properties);
  })();
}

export function getExecutable(
  db: Database.Database,
  klass: ExecutableClass,
  id: string,
): ExecutableObject | undefined {
  const r = db.prepare(`SELECT * FROM ${TABLE[klass]} WHERE id = ?`).get(id) as
    (ObjectRow & { spec: string }) | undefined;
  if (!r) return undefined;
  return {
    ...rowToObject(r, klass),
    class: klass,
    spec: JSON.parse(r.spec) as Record<string, unknown>,
  };
}

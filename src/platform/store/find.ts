import type Database from 'better-sqlite3';
import { TABLE_OF, type ObjectClass } from './objects.js';

/**
 * The SQL half of findDataObjects: every filter an index can serve. Name patterns, tags and types
 * are checked by the caller on the rows this yields, so it returns an iterator, not a page.
 * Order: grouped by project, newest modified first, then id (stable keyset paging).
 */
export interface FindQuery {
  classes: ObjectClass[];
  projects: string[];
  state?: string;
  hidden?: boolean;
  folder?: { path: string; recurse: boolean };
  /** value true = the key is present with any value */
  properties?: Record<string, string | true>;
  name?: string;
  created?: { after?: number; before?: number };
  modified?: { after?: number; before?: number };
  after?: FindCursor;
}

/** The position after the last result of a page; opaque to clients (they pass `next` back). */
export interface FindCursor {
  project: string;
  modified: number;
  id: string;
}

export interface FoundRow {
  class: ObjectClass;
  id: string;
  project: string;
  name: string;
  types: string;
  tags: string;
  modified: number;
}

export function findObjects(db: Database.Database, q: FindQuery): IterableIterator<FoundRow> {
  const conds: string[] = [];
  const params: unknown[] = [];
  if (q.projects.length === 0) conds.push('0');
  else {
    conds.push(`project IN (${q.projects.map(() => '?').join(',')})`);
    params.push(...q.projects);
  }
  if (q.state !== undefined) {
    conds.push('state = ?');
    params.push(q.state);
  }
  if (q.hidden !== undefined) conds.push(`hidden = ${q.hidden ? 1 : 0}`);
  if (q.folder) {
    if (q.folder.recurse && q.folder.path === '/') {
      // every folder
    } else if (q.folder.recurse) {
      conds.push('(folder = ? OR substr(folder, 1, ?) = ?)');
      params.push(q.folder.path, q.folder.path.length + 1, q.folder.path + '/');
    } else {
      conds.push('folder = ?');
      params.push(q.folder.path);
    }
  }
  for (const [key, value] of Object.entries(q.properties ?? {})) {
    if (value === true) {
      conds.push('id IN (SELECT object FROM object_properties WHERE key = ?)');
      params.push(key);
    } else {
      conds.push('id IN (SELECT object FROM object_properties WHERE key = ? AND value = ?)');
      params.push(key, value);
    }
  }
  if (q.name !== undefined) {
    conds.push('name = ?');
    params.push(q.name);
  }
  for (const col of ['created', 'modified'] as const) {
    const r = q[col];
    if (r?.after !== undefined) {
      conds.push(`${col} >= ?`);
      params.push(r.after);
    }
    if (r?.before !== undefined) {
      conds.push(`${col} <= ?`);
      params.push(r.before);
    }
  }
  if (q.after) {
    conds.push('(project > ? OR (project = ? AND (modified < ? OR (modified = ? AND id < ?))))');
    params.push(q.after.project, q.after.project, q.after.modified, q.after.modified, q.after.id);
  }
  const where = conds.join(' AND ');
  const branches = q.classes.map(
    (c) =>
      `SELECT '${c}' AS class, id, project, name, types, tags, modified FROM ${TABLE_OF[c]} WHERE ${where}`,
  );
  const sql = `${branches.join(' UNION ALL ')} ORDER BY project, modified DESC, id DESC`;
  return db.prepare(sql).iterate(...q.classes.flatMap(() => params)) as IterableIterator<FoundRow>;
}

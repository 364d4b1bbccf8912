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
  // The first property filter drives the query (see `from` below); the others are checked per row.
  const props = Object.entries(q.properties ?? {});
  const drive = props.shift();
  for (const [key, value] of props) {
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
  // With a property filter, the matching property rows (index object_properties_by_value) drive the
  // query and each is joined to its object by ID: few rows, then a small sort. Left to itself the
  // planner walks the project's whole modified-order index to skip that sort and tests every row,
  // which made the resume search (one per uploaded file) linear in the project's size.
  // CROSS JOIN fixes the join order in SQLite. Property rows of the other class join nothing.
  const driveConds: string[] = [];
  const driveParams: unknown[] = [];
  if (drive) {
    driveConds.push('p0.key = ?');
    driveParams.push(drive[0]);
    if (drive[1] !== true) {
      driveConds.push('p0.value = ?');
      driveParams.push(drive[1]);
    }
  }
  const where = [...driveConds, ...conds].join(' AND ');
  const branches = q.classes.map((c) => {
    const table = TABLE_OF[c];
    const from = drive ? `object_properties p0 CROSS JOIN ${table} ON ${table}.id = p0.object` : table;
    return `SELECT '${c}' AS class, ${table}.id AS id, project, name, types, tags, modified FROM ${from} WHERE ${where}`;
  });
  const allParams = [...driveParams, ...params];
  const sql = `${branches.join(' UNION ALL ')} ORDER BY project, modified DESC, id DESC`;
  return db.prepare(sql).iterate(...q.classes.flatMap(() => allParams)) as IterableIterator<FoundRow>;
}

import type Database from 'better-sqlite3';

/**
 * Executions: the jobs (an applet run) and analyses (a workflow run) that /applet-xxxx/run and
 * /workflow-xxxx/run create. Not data objects: they have no folder listing, no close, and
 * removeObjects does not reach them. Their properties get an index of their own (the daemon
 * finds its earlier launches by a property), the way object_properties serves findDataObjects.
 */
export const EXECUTIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY,
  class TEXT NOT NULL CHECK (class IN ('job', 'analysis')),
  executable TEXT NOT NULL,
  project TEXT NOT NULL,
  folder TEXT NOT NULL DEFAULT '/',
  name TEXT NOT NULL,
  input TEXT NOT NULL DEFAULT '{}',
  properties TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]',
  details TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  launched_by TEXT NOT NULL,
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_project ON executions (project, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS executions_by_executable ON executions (executable, created DESC, id DESC);
CREATE TABLE IF NOT EXISTS execution_properties (
  execution TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (execution, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS execution_properties_by_value ON execution_properties (key, value);
`;

export type ExecutionClass = 'job' | 'analysis';

export interface ExecutionRecord {
  id: string;
  class: ExecutionClass;
  /** The applet (job) or workflow (analysis) that was run. */
  executable: string;
  project: string;
  folder: string;
  name: string;
  input: Record<string, unknown>;
  properties: Record<string, string>;
  tags: string[];
  details: unknown;
  state: string;
  launchedBy: string;
  created: number;
  modified: number;
}

interface ExecutionRow {
  id: string;
  class: ExecutionClass;
  executable: string;
  project: string;
  folder: string;
  name: string;
  input: string;
  properties: string;
  tags: string;
  details: string;
  state: string;
  launched_by: string;
  created: number;
  modified: number;
}

function rowToExecution(r: ExecutionRow): ExecutionRecord {
  return {
    id: r.id,
    class: r.class,
    executable: r.executable,
    project: r.project,
    folder: r.folder,
    name: r.name,
    input: JSON.parse(r.input) as Record<string, unknown>,
    properties: JSON.parse(r.properties) as Record<string, string>,
    tags: JSON.parse(r.tags) as string[],
    details: JSON.parse(r.details) as unknown,
    state: r.state,
    launchedBy: r.launched_by,
    created: r.created,
    modified: r.modified,
  };
}

export type NewExecution = Omit<ExecutionRecord, 'created' | 'modified'> & { now: number };

export function insertExecution(db: Database.Database, e: NewExecution): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO executions (id, class, executable, project, folder, name, input, properties, tags,
         details, state, launched_by, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.id,
      e.class,
      e.executable,
      e.project,
      e.folder,
      e.name,
      JSON.stringify(e.input),
      JSON.stringify(e.properties),
      JSON.stringify(e.tags),
      JSON.stringify(e.details ?? {}),
      e.state,
      e.launchedBy,
      e.now,
      e.now,
    );
    const put = db.prepare('INSERT INTO execution_properties (execution, key, value) VALUES (?, ?, ?)');
    for (const [k, v] of Object.entries(e.properties)) put.run(e.id, k, v);
  })();
}

export function getExecution(db: Database.Database, id: string): ExecutionRecord | undefined {
  const r = db.prepare('SELECT * FROM executions WHERE id = ?').get(id) as ExecutionRow | undefined;
  return r && rowToExecution(r);
}

/** The position after the last result of a page (clients pass `next` back as `starting`). */
export interface ExecutionCursor {
  created: number;
  id: string;
}

export interface ExecutionQuery {
  projects: string[];
  classes: ExecutionClass[];
  executable?: string;
  /** value true = the key is present with any value */
  properties?: Record<string, string | true>;
  after?: ExecutionCursor;
  limit: number;
}

/** Matching executions, newest first (created, then id); at most `limit` + 1, to tell if more remain. */
export function findExecutions(db: Database.Database, q: ExecutionQuery): ExecutionRecord[] {
  if (q.projects.length === 0 || q.classes.length === 0) return [];
  const conds = [
    `project IN (${q.projects.map(() => '?').join(',')})`,
    `class IN (${q.classes.map(() => '?').join(',')})`,
  ];
  const params: unknown[] = [...q.projects, ...q.classes];
  if (q.executable !== undefined) {
    conds.push('executable = ?');
    params.push(q.executable);
  }
  for (const [key, value] of Object.entries(q.properties ?? {})) {
    if (value === true) {
      conds.push('id IN (SELECT execution FROM execution_properties WHERE key = ?)');
      params.push(key);
    } else {
      conds.push('id IN (SELECT execution FROM execution_properties WHERE key = ? AND value = ?)');
      params.push(key, value);
    }
  }
  if (q.after) {
    conds.push('(created < ? OR (created = ? AND id < ?))');
    params.push(q.after.created, q.after.created, q.after.id);
  }
  const rows = db
    .prepare(`SELECT * FROM executions WHERE ${conds.join(' AND ')} ORDER BY created DESC, id DESC LIMIT ?`)
    .all(...params, q.limit + 1) as ExecutionRow[];
  return rows.map(rowToExecution);
}

/** Every project with at least one execution (findExecutions filters these by access). */
export function projectsWithExecutions(db: Database.Database): string[] {
  const rows = db.prepare('SELECT DISTINCT project FROM executions ORDER BY project').all() as Array<{
    project: string;
  }>;
  return rows.map((r) => r.project);
}

import type { GrantLevel } from '../../common/levels.js';
import type { Db } from './db.js';

export interface DefaultSymlink {
  drive: string;
  container: string;
  prefix?: string;
}

export interface ProjectRecord {
  id: string;
  name: string;
  region: string;
  created: number;
  modified: number;
  createdBy: string;
  billTo: string;
  summary: string;
  description: string;
  tags: string[];
  properties: Record<string, string>;
  protected: boolean;
  restricted: boolean;
  externalUploadRestricted: boolean;
  defaultSymlink: DefaultSymlink | null;
}

/** The columns a project update may change. */
export type ProjectPatch = Partial<
  Pick<
    ProjectRecord,
    | 'name'
    | 'summary'
    | 'description'
    | 'protected'
    | 'restricted'
    | 'externalUploadRestricted'
    | 'defaultSymlink'
  >
>;

interface ProjectRow {
  id: string;
  name: string;
  region: string;
  created: number;
  modified: number;
  created_by: string;
  bill_to: string;
  summary: string;
  description: string;
  tags: string;
  properties: string;
  protected: number;
  restricted: number;
  external_upload_restricted: number;
  default_symlink: string | null;
}

function fromRow(r: ProjectRow): ProjectRecord {
  return {
    id: r.id,
    name: r.name,
    region: r.region,
    created: r.created,
    modified: r.modified,
    createdBy: r.created_by,
    billTo: r.bill_to,
    summary: r.summary,
    description: r.description,
    tags: JSON.parse(r.tags) as string[],
    properties: JSON.parse(r.properties) as Record<string, string>,
    protected: r.protected !== 0,
    restricted: r.restricted !== 0,
    externalUploadRestricted: r.external_upload_restricted !== 0,
    defaultSymlink: r.default_symlink === null ? null : (JSON.parse(r.default_symlink) as DefaultSymlink),
  };
}

export function insertProject(db: Db, p: ProjectRecord): void {
  db.prepare(
    `INSERT INTO projects (id, name, region, created, modified, created_by, bill_to, summary, description,
       tags, properties, protected, restricted, external_upload_restricted, default_symlink)
     VALUES (@id, @name, @region, @created, @modified, @createdBy, @billTo, @summary, @description,
       @tags, @properties, @protected, @restricted, @externalUploadRestricted, @defaultSymlink)`,
  ).run({
    ...p,
    tags: JSON.stringify(p.tags),
    properties: JSON.stringify(p.properties),
    protected: p.protected ? 1 : 0,
    restricted: p.restricted ? 1 : 0,
    externalUploadRestricted: p.externalUploadRestricted ? 1 : 0,
    defaultSymlink: p.defaultSymlink === null ? null : JSON.stringify(p.defaultSymlink),
  });
}

/** Whether the project exists, without reading (and JSON-parsing) its row; permission checks ask this. */
export function projectExists(db: Db, id: string): boolean {
  return db.prepare('SELECT 1 FROM projects WHERE id = ?').get(id) !== undefined;
}

export function getProject(db: Db, id: string): ProjectRecord | undefined {
  const row = db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined;
  return row && fromRow(row);
}

const PATCH_COLUMNS: Record<keyof ProjectPatch, string> = {
  name: 'name',
  summary: 'summary',
  description: 'description',
  protected: 'protected',
  restricted: 'restricted',
  externalUploadRestricted: 'external_upload_restricted',
  defaultSymlink: 'default_symlink',
};

export function updateProject(db: Db, id: string, patch: ProjectPatch, modified: number): void {
  const sets = ['modified = @modified'];
  const params: Record<string, unknown> = { id, modified };
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof ProjectPatch, string]>) {
    if (!(key in patch)) continue;
    const v = patch[key];
    sets.push(`${column} = @${key}`);
    params[key] =
      typeof v === 'boolean'
        ? v
          ? 1
          : 0
        : key === 'defaultSymlink'
          ? v === null
            ? null
            : JSON.stringify(v)
          : v;
  }
  db.prepare(`UPDATE projects SET ${sets.join(', ')} WHERE id = @id`).run(params);
}

/** Every project the user is a member of, with the membership level. */
export function projectsOfUser(db: Db, userId: string): Array<{ project: ProjectRecord; level: GrantLevel }> {
  const rows = db
    .prepare(
      `SELECT p.*, m.level AS member_level FROM projects p JOIN members m ON m.project = p.id
       WHERE m.user = ? ORDER BY p.created, p.id`,
    )
    .all(userId) as Array<ProjectRow & { member_level: GrantLevel }>;
  return rows.map((r) => ({ project: fromRow(r), level: r.member_level }));
}

// ---- members ----

export function memberLevel(db: Db, projectId: string, userId: string): GrantLevel | undefined {
  const row = db
    .prepare('SELECT level FROM members WHERE project = ? AND user = ?')
    .get(projectId, userId) as { level: GrantLevel } | undefined;
  return row?.level;
}

export function setMember(db: Db, projectId: string, userId: string, level: GrantLevel): void {
  db.prepare(
    `INSERT INTO members (project, user, level) VALUES (?, ?, ?)
     ON CONFLICT (project, user) DO UPDATE SET level = excluded.level`,
  ).run(projectId, userId, level);
}

export function removeMember(db: Db, projectId: string, userId: string): void {
  db.prepare('DELETE FROM members WHERE project = ? AND user = ?').run(projectId, userId);
}

export function listMembers(db: Db, projectId: string): Record<string, GrantLevel> {
  const rows = db
    .prepare('SELECT user, level FROM members WHERE project = ? ORDER BY user')
    .all(projectId) as Array<{
    user: string;
    level: GrantLevel;
  }>;
  return Object.fromEntries(rows.map((r) => [r.user, r.level]));
}

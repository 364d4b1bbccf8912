import type { Db } from './db.js';

/**
 * The operator's listings (`ua-platform drive list`, `project list`, `file list`, `token list`):
 * plain rows in a stable order. No secret column is ever selected: drive credentials and token
 * hashes stay in the database.
 */

export interface DriveRow {
  id: string;
  name: string;
  cloud: string;
  endpoint: string | null;
  region: string | null;
  owner: string;
  disabled: boolean;
}

export function listDrives(db: Db): DriveRow[] {
  const rows = db
    .prepare('SELECT id, name, cloud, endpoint, region, owner, disabled FROM drives ORDER BY created, id')
    .all() as Array<Omit<DriveRow, 'disabled'> & { disabled: number }>;
  return rows.map((r) => ({ ...r, disabled: r.disabled !== 0 }));
}

export interface ProjectRow {
  id: string;
  name: string;
  region: string;
  createdBy: string;
  members: number;
  files: number;
  drive: string | null;
}

export function listProjects(db: Db, memberOf?: string): ProjectRow[] {
  const rows = db
    .prepare(
      `SELECT p.id, p.name, p.region, p.created_by AS createdBy, p.default_symlink AS ds,
         (SELECT COUNT(*) FROM members m WHERE m.project = p.id) AS members,
         (SELECT COUNT(*) FROM files f WHERE f.project = p.id) AS files
       FROM projects p
       WHERE ? IS NULL OR EXISTS (SELECT 1 FROM members m WHERE m.project = p.id AND m.user = ?)
       ORDER BY p.created, p.id`,
    )
    .all(memberOf ?? null, memberOf ?? null) as Array<Omit<ProjectRow, 'drive'> & { ds: string | null }>;
  return rows.map(({ ds, ...r }) => ({
    ...r,
    drive: ds === null ? null : ((JSON.parse(ds) as { drive?: string }).drive ?? null),
  }));
}

export interface FileRow {
  id: string;
  folder: string;
  name: string;
  state: string;
  size: number | null;
  parts: number;
  hidden: boolean;
}

export function listProjectFiles(db: Db, project: string, folder = '/'): FileRow[] {
  const prefix = folder.endsWith('/') ? folder : `${folder}/`;
  const rows = db
    .prepare(
      `SELECT f.id, f.folder, f.name, f.state, f.size, f.hidden,
         (SELECT COUNT(*) FROM parts p WHERE p.file = f.id AND p.state = 'complete') AS parts
       FROM files f
       WHERE f.project = ? AND (f.folder = ? OR substr(f.folder, 1, length(?)) = ?)
       ORDER BY f.folder, f.name, f.id`,
    )
    .all(project, folder, prefix, prefix) as Array<Omit<FileRow, 'hidden'> & { hidden: number }>;
  return rows.map((r) => ({ ...r, hidden: r.hidden !== 0 }));
}

export interface TokenRow {
  id: string;
  user: string;
  /** The first characters of the token, as stored at issue (never the token). */
  prefix: string;
  created: number;
  expires: number | null;
  revoked: boolean;
  scope: string | null;
}

export function listTokens(db: Db, user?: string): TokenRow[] {
  const rows = db
    .prepare(
      `SELECT id, user, prefix, created, expires, revoked, scope FROM tokens
       WHERE ? IS NULL OR user = ? ORDER BY created, id`,
    )
    .all(user ?? null, user ?? null) as Array<Omit<TokenRow, 'revoked'> & { revoked: number }>;
  return rows.map((r) => ({ ...r, revoked: r.revoked !== 0 }));
}

import { ApiError, invalidInput } from '../errors.js';
import type { Db } from './db.js';

/** Limits from platform-api.md §4.5. */
const MAX_NAME = 2048;
const MAX_PATH = 10_240;
const MAX_DEPTH = 128;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1F]/;

/**
 * An object's name (file, record): the folder-name rules of §4.5 (1–2048 characters, no control
 * characters), which the platform's path syntax needs as much for objects as for folders. Throws
 * InvalidInput naming what is wrong.
 */
export function checkObjectName(name: string): string {
  if (name === '') throw invalidInput('name must be a nonempty string');
  if ([...name].length > MAX_NAME) throw invalidInput(`name may be at most ${MAX_NAME} characters`);
  if (CONTROL_RE.test(name)) throw invalidInput('name may not contain NUL or other control characters');
  return name;
}

/**
 * Validates a folder path and returns its canonical form: repeated `/` collapsed, trailing `/`
 * dropped, root as `/`. Throws InvalidInput naming what is wrong.
 */
export function normaliseFolder(path: unknown): string {
  if (typeof path !== 'string' || path === '') throw invalidInput('folder must be a nonempty string');
  if (!path.startsWith('/')) throw invalidInput(`folder must start with "/": ${JSON.stringify(path)}`);
  if (path.length >= MAX_PATH) throw invalidInput(`folder path must be shorter than ${MAX_PATH} characters`);
  const names = path.split('/').filter((n) => n !== '');
  if (names.length > MAX_DEPTH) throw invalidInput(`folder may be at most ${MAX_DEPTH} levels deep`);
  for (const name of names) {
    if (name === '.' || name === '..') throw invalidInput(`folder names may not be "." or ".."`);
    if ([...name].length > MAX_NAME) throw invalidInput(`folder names may be at most ${MAX_NAME} characters`);
    if (CONTROL_RE.test(name)) throw invalidInput('folder names may not contain control characters');
  }
  return '/' + names.join('/');
}

/** The parent of a canonical non-root folder (`/a/b` → `/a`, `/a` → `/`). */
export function parentFolder(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Whether a canonical folder exists; the root always does. */
export function folderExists(db: Db, projectId: string, path: string): boolean {
  if (path === '/') return true;
  return (
    db.prepare('SELECT 1 FROM folders WHERE project = ? AND path = ?').get(projectId, path) !== undefined
  );
}

/**
 * Makes sure `path` exists in the project and returns its canonical form. An existing folder is
 * fine either way. A missing one is created when its parent exists; missing ancestors are created
 * only with `parents`, otherwise ResourceNotFound. (newFolder's "already exists" InvalidState is
 * the route's business: check folderExists first.) Call inside a transaction.
 */
export function ensureFolder(db: Db, projectId: string, path: unknown, parents: boolean): string {
  const canonical = normaliseFolder(path);
  if (folderExists(db, projectId, canonical)) return canonical;
  const missing: string[] = [];
  for (let p = canonical; !folderExists(db, projectId, p); p = parentFolder(p)) missing.push(p);
  if (missing.length > 1 && !parents) {
    throw new ApiError(
      'ResourceNotFound',
      `The folder ${parentFolder(canonical)} could not be found in ${projectId}`,
    );
  }
  const insert = db.prepare('INSERT INTO folders (project, path) VALUES (?, ?)');
  for (const p of missing.reverse()) insert.run(projectId, p);
  return canonical;
}

/** Every folder of the project, root first, sorted. */
export function allFolders(db: Db, projectId: string): string[] {
  const rows = db
    .prepare('SELECT path FROM folders WHERE project = ? ORDER BY path')
    .all(projectId) as Array<{
    path: string;
  }>;
  return ['/', ...rows.map((r) => r.path)];
}

/** The direct subfolders of a canonical folder, as full paths. */
export function subfolders(db: Db, projectId: string, path: string): string[] {
  const prefix = path === '/' ? '/' : path + '/';
  const rows = db
    .prepare(
      "SELECT path FROM folders WHERE project = ? AND substr(path, 1, ?) = ? AND instr(substr(path, ?), '/') = 0 ORDER BY path",
    )
    .all(projectId, prefix.length, prefix, prefix.length + 1) as Array<{ path: string }>;
  return rows.map((r) => r.path);
}

import type { Db } from './db.js';

export interface UserRecord {
  id: string;
  handle: string;
  created: number;
}

const HANDLE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidHandle(handle: string): boolean {
  return HANDLE_RE.test(handle);
}

/** Whether `s` has the form of a user ID: `user-` and a handle, lowercased. */
export function isUserId(s: string): boolean {
  return s.startsWith('user-') && s === s.toLowerCase() && isValidHandle(s.slice(5));
}

/** `user-<handle lowercased>`, as the platform forms user IDs. */
export function userIdFor(handle: string): string {
  return `user-${handle.toLowerCase()}`;
}

export function insertUser(db: Db, handle: string, created: number): UserRecord {
  const rec = { id: userIdFor(handle), handle, created };
  db.prepare('INSERT INTO users (id, handle, created) VALUES (@id, @handle, @created)').run(rec);
  return rec;
}

export function getUser(db: Db, id: string): UserRecord | undefined {
  return db.prepare('SELECT id, handle, created FROM users WHERE id = ?').get(id) as UserRecord | undefined;
}

/** Accepts a user ID (`user-alice`) or a bare handle (`Alice`). */
export function findUser(db: Db, idOrHandle: string): UserRecord | undefined {
  const id = idOrHandle.startsWith('user-') ? idOrHandle : userIdFor(idOrHandle);
  return getUser(db, id);
}

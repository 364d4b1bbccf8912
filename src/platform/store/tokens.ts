import type { GrantLevel } from '../../common/levels.js';
import type { Db } from './db.js';

export interface TokenScope {
  projects: Record<string, GrantLevel>;
}

export interface TokenRecord {
  id: string;
  user: string;
  /** sha256 hex of the token; the token itself is never stored. */
  hash: string;
  /** The first few characters of the token, to tell tokens apart in listings. */
  prefix: string;
  created: number;
  expires: number | null;
  revoked: boolean;
  scope: TokenScope | null;
}

interface TokenRow {
  id: string;
  user: string;
  hash: string;
  prefix: string;
  created: number;
  expires: number | null;
  revoked: number;
  scope: string | null;
}

function fromRow(r: TokenRow): TokenRecord {
  return {
    ...r,
    revoked: r.revoked !== 0,
    scope: r.scope === null ? null : (JSON.parse(r.scope) as TokenScope),
  };
}

export function insertToken(db: Db, t: TokenRecord): void {
  db.prepare(
    `INSERT INTO tokens (id, user, hash, prefix, created, expires, revoked, scope)
     VALUES (@id, @user, @hash, @prefix, @created, @expires, @revoked, @scope)`,
  ).run({ ...t, revoked: t.revoked ? 1 : 0, scope: t.scope === null ? null : JSON.stringify(t.scope) });
}

export function tokenByHash(db: Db, hash: string): TokenRecord | undefined {
  const row = db.prepare('SELECT * FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
  return row && fromRow(row);
}

export function tokenById(db: Db, id: string): TokenRecord | undefined {
  const row = db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
  return row && fromRow(row);
}

/** Returns whether a token was revoked by this call (false: no such id). */
export function revokeTokenById(db: Db, id: string): boolean {
  return db.prepare('UPDATE tokens SET revoked = 1 WHERE id = ?').run(id).changes > 0;
}

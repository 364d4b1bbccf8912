import type { Store } from '../store/store.js';
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../../common/ids.js';
import { ApiError } from '../errors.js';
import type { Principal } from '../http/route.js';
import { type TokenScope } from '../store/tokens.js';

const PREFIX_CHARS = 6;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh bearer token: 32 alphanumeric characters (~190 bits), shown once. Not base64url: a token
 * starting with '-' reads as an option after `--auth-token` (1 in 64 did, and CI caught one).
 */
export function generateToken(): string {
  let out = '';
  while (out.length < 32) {
    for (const b of randomBytes(48)) {
      // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
      if (b < 248 && out.length < 32) out += ALPHANUMERIC[b % 62];
    }
  }
  return out;
}

/** What is stored instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * hashToken for the few tokens a server sees again and again (one per request); only the
 * hash is cached, so a revoked or expired token is still refused at once by the lookup.
 */
const recentHashes = new Map<string, string>();
function hashTokenCached(token: string): string {
  let h = recentHashes.get(token);
  if (h === undefined) {
    h = hashToken(token);
    if (recentHashes.size >= 64) recentHashes.clear();
    recentHashes.set(token, h);
  }
  return h;
}

export interface IssuedToken {
  token: string;
  tokenId: string;
}

export function issueToken(
  store: Store,
  o: { user: string; scope?: TokenScope | null; expiresAt?: number | null; now: number },
): IssuedToken {
  const token = generateToken();
  const tokenId = newId('token');
  store.insertToken({
    id: tokenId,
    user: o.user,
    hash: hashToken(token),
    prefix: token.slice(0, PREFIX_CHARS),
    created: o.now,
    expires: o.expiresAt ?? null,
    revoked: false,
    scope: o.scope ?? null,
  });
  return { token, tokenId };
}

/** Revokes by token ID or by the token itself; false when neither matches. */
export function revokeToken(store: Store, tokenOrId: string): boolean {
  if (store.tokenById(tokenOrId)) return store.revokeTokenById(tokenOrId);
  const rec = store.tokenByHash(hashToken(tokenOrId));
  return rec ? store.revokeTokenById(rec.id) : false;
}

const BEARER_RE = /^Bearer\s+(\S+)\s*$/i;

/**
 * The caller behind an `Authorization: Bearer <token>` header.
 *
 * A missing header answers PermissionDenied (401) "Must supply authentication token": the
 * reference leaves Unauthorized vs PermissionDenied open (§1.3, §10); both are 401, and a
 * dx-toolkit test expects PermissionDenied when no security context is set, so we follow the test.
 * Only Bearer is supported (dxpy refuses any other type client-side as well).
 */
export function authenticate(store: Store, authorization: string | undefined, now: number): Principal {
  if (authorization === undefined || authorization.trim() === '') {
    throw new ApiError('PermissionDenied', 'Must supply authentication token');
  }
  const m = BEARER_RE.exec(authorization);
  if (!m) throw new ApiError('InvalidAuthentication', 'Only Bearer authentication tokens are supported');
  const rec = store.tokenByHash(hashTokenCached(m[1]));
  if (!rec || !store.getUser(rec.user))
    throw new ApiError('InvalidAuthentication', 'The token could not be found');
  if (rec.revoked) throw new ApiError('InvalidAuthentication', 'The token has been revoked');
  if (rec.expires !== null && rec.expires <= now) {
    throw new ApiError('InvalidAuthentication', 'The token has expired');
  }
  return { userId: rec.user, tokenId: rec.id, scope: rec.scope };
}

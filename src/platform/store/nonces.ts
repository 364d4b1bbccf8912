import { createHash } from 'node:crypto';
import { invalidInput } from '../errors.js';
import { tx, type Db } from './db.js';

/** Nonces guarantee replay only within this window (platform-api.md §1.5). */
export const NONCE_WINDOW_MS = 60 * 60 * 1000;
const MAX_NONCE_BYTES = 128;

/** JSON with object keys sorted at every depth, so equal inputs hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function inputHash(input: Record<string, unknown>): string {
  const rest = { ...input };
  delete rest.nonce;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * Runs a creating request at most once per (user, route, nonce) within the replay window.
 * Without a nonce, just runs create(). A repeat with the same input (nonce aside) gets the stored
 * response; a repeat with a different input is InvalidInput. create() runs in the same transaction
 * as the nonce row, so a crash cannot leave an object without its nonce or the reverse.
 * `now` defaults to the wall clock.
 */
export function withNonce<T>(
  db: Db,
  userId: string,
  route: string,
  input: Record<string, unknown>,
  create: () => T,
  now: number = Date.now(),
): T {
  const nonce = input.nonce;
  if (nonce === undefined) return tx(db, create);
  if (typeof nonce !== 'string') throw invalidInput('nonce must be a string');
  if (nonce === '') throw invalidInput('nonce must not be empty');
  if (Buffer.byteLength(nonce, 'utf8') > MAX_NONCE_BYTES) {
    throw invalidInput(`nonce must be at most ${MAX_NONCE_BYTES} bytes`);
  }
  const hash = inputHash(input);
  return tx(db, () => {
    const row = db
      .prepare('SELECT input_hash, response, created FROM nonces WHERE user = ? AND route = ? AND nonce = ?')
      .get(userId, route, nonce) as { input_hash: string; response: string; created: number } | undefined;
    if (row && now - row.created < NONCE_WINDOW_MS) {
      if (row.input_hash !== hash) throw invalidInput('The nonce was already used with a different input');
      return JSON.parse(row.response) as T;
    }
    const result = create();
    db.prepare(
      `INSERT OR REPLACE INTO nonces (user, route, nonce, input_hash, response, created) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(userId, route, nonce, hash, JSON.stringify(result), now);
    return result;
  });
}

/** Drops nonce rows older than the replay window; returns how many. */
export function pruneNonces(db: Db, now: number): number {
  return db.prepare('DELETE FROM nonces WHERE created <= ?').run(now - NONCE_WINDOW_MS).changes;
}

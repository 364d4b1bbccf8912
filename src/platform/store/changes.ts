import type { Db } from './db.js';

/**
 * Whether a request wrote something that must be durable before it is answered (group commit,
 * see syncWal in db.ts): compare durableChanges before and after.
 */

/** Rows changed by this connection so far (SQLite total_changes). */
export function totalChanges(db: Db): number {
  return (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

const derivedChanges = new WeakMap<Db, number>();

/**
 * Records row changes that need no sync before an answer because any reader recomputes them
 * after a restart (closing → closed once assembled and past the delay).
 */
export function noteDerivedChanges(db: Db, n: number): void {
  if (n > 0) derivedChanges.set(db, (derivedChanges.get(db) ?? 0) + n);
}

/** Rows changed so far that must be durable before they are acknowledged; tells whether a request wrote. */
export function durableChanges(db: Db): number {
  return totalChanges(db) - (derivedChanges.get(db) ?? 0);
}

import type { Store } from '../store/store.js';
import { atLeast, minLevel, type GrantLevel, type Level } from '../../common/levels.js';
import { notFound, permissionDenied } from '../errors.js';
import type { Principal } from '../http/route.js';

/**
 * What each level allows (platform-api.md §4.1), named so routes state their need:
 * VIEW reads; UPLOAD creates folders and objects, edits open objects and closes them; CONTRIBUTE
 * also edits closed objects' metadata, removes objects and runs executions in the project;
 * ADMINISTER manages members and the project itself, and alone removes from a protected project.
 */
export const NEED = {
  read: 'VIEW',
  create: 'UPLOAD',
  modifyOpen: 'UPLOAD',
  close: 'UPLOAD',
  modifyClosed: 'CONTRIBUTE',
  remove: 'CONTRIBUTE',
  removeProtected: 'ADMINISTER',
  run: 'CONTRIBUTE',
  administer: 'ADMINISTER',
} as const satisfies Record<string, GrantLevel>;

/** The cap a token's scope puts on a project: the project's own entry, else `*`, else NONE. */
export function scopeCap(principal: Principal, projectId: string): Level {
  if (principal.scope === null) return 'ADMINISTER';
  return principal.scope.projects[projectId] ?? principal.scope.projects['*'] ?? 'NONE';
}

/** min(membership, token scope); NONE when not a member. Does not check the project exists. */
export function effectiveLevel(store: Store, principal: Principal, projectId: string): Level {
  const member = store.memberLevel(projectId, principal.userId) ?? 'NONE';
  return minLevel(member, scopeCap(principal, projectId));
}

/** effectiveLevel, but ResourceNotFound when the project does not exist. */
export function levelIn(store: Store, principal: Principal, projectId: string): Level {
  if (!store.projectExists(projectId)) throw notFound(projectId);
  return effectiveLevel(store, principal, projectId);
}

/**
 * Throws unless the caller has `need` in the project. A nonexistent project is ResourceNotFound;
 * an existing one the caller cannot see at all is PermissionDenied "VIEW permission required …",
 * not ResourceNotFound. The reference (§4.3, §10) does not confirm either for describe; we chose
 * this because it matches the message format clients are known to parse, and because it lets the
 * troubleshooting sequence tell "wrong ID" from "no access" (§9.4).
 */
export function requireLevel(store: Store, principal: Principal, projectId: string, need: GrantLevel): void {
  const have = levelIn(store, principal, projectId);
  if (atLeast(have, need)) return;
  // Someone who cannot even view is told VIEW is missing, whatever the route needs.
  throw permissionDenied(atLeast(have, 'VIEW') ? need : 'VIEW', projectId);
}

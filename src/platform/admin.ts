import type { Store } from './store/store.js';
import { newId } from '../common/ids.js';
import type { GrantLevel } from '../common/levels.js';
import { issueToken, revokeToken, type IssuedToken } from './auth/tokens.js';
import { DEFAULT_REGION, REGIONS } from './routes/projects.js';
import { openDb } from './store/db.js';
import { storeOf } from './store/store.js';
import type { TokenScope } from './store/tokens.js';
import { isValidHandle } from './store/users.js';

/** Operator actions that have no API route here: users, tokens, seeding projects and members. */
export interface PlatformAdmin {
  /** Returns the new user's ID (`user-<handle lowercased>`). */
  createUser(handle: string): string;
  /** `owner` is a user ID or handle; the owner becomes ADMINISTER. Returns the project ID. */
  createProject(o: { name: string; owner: string; region?: string }): string;
  invite(projectId: string, userId: string, level: GrantLevel): void;
  createToken(o: { user: string; scope?: TokenScope; expiresAt?: number }): IssuedToken;
  revokeToken(tokenOrId: string): void;
}

/** Admin errors are plain Errors with one-line messages (the CLI prints them as they are). */
export class AdminError extends Error {
  override name = 'AdminError';
}

export function makeAdmin(store: Store, now: () => number = Date.now): PlatformAdmin {
  const userOrThrow = (idOrHandle: string) => {
    const u = store.findUser(idOrHandle);
    if (!u) throw new AdminError(`no such user: ${idOrHandle}`);
    return u;
  };
  return {
    createUser(handle) {
      if (!isValidHandle(handle)) throw new AdminError(`invalid user handle: ${JSON.stringify(handle)}`);
      if (store.findUser(handle)) throw new AdminError(`user already exists: ${handle}`);
      return store.insertUser(handle, now()).id;
    },
    createProject({ name, owner, region = DEFAULT_REGION }) {
      const user = userOrThrow(owner);
      if (name.trim() === '') throw new AdminError('project name must not be empty');
      if (!(REGIONS as readonly string[]).includes(region)) throw new AdminError(`unknown region: ${region}`);
      const id = newId('project');
      const t = now();
      store.tx(() => {
        store.insertProject({
          id,
          name,
          region,
          created: t,
          modified: t,
          createdBy: user.id,
          billTo: user.id,
          summary: '',
          description: '',
          tags: [],
          properties: {},
          protected: false,
          restricted: false,
          externalUploadRestricted: false,
          defaultSymlink: null,
        });
        store.setMember(id, user.id, 'ADMINISTER');
      });
      return id;
    },
    invite(projectId, userIdOrHandle, level) {
      if (!store.getProject(projectId)) throw new AdminError(`no such project: ${projectId}`);
      const user = userOrThrow(userIdOrHandle);
      store.setMember(projectId, user.id, level); // set outright: an operator may lower a grant too
    },
    createToken({ user, scope, expiresAt }) {
      const u = userOrThrow(user);
      if (scope) {
        for (const p of Object.keys(scope.projects)) {
          if (p !== '*' && !store.getProject(p)) throw new AdminError(`no such project: ${p}`);
        }
      }
      return issueToken(store, {
        user: u.id,
        scope: scope ?? null,
        expiresAt: expiresAt ?? null,
        now: now(),
      });
    },
    revokeToken(tokenOrId) {
      if (!revokeToken(store, tokenOrId)) throw new AdminError('no such token');
    },
  };
}

/** Admin access to a data dir without a running server (safe while one runs: WAL + busy timeout). */
export function openAdmin(dataDir: string): PlatformAdmin & { close(): void } {
  const store = storeOf(openDb(dataDir));
  return { ...makeAdmin(store), close: () => store.close() };
}

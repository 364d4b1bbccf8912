import type { Store } from './store/store.js';
import { newId } from '../common/ids.js';
import type { GrantLevel } from '../common/levels.js';
import { issueToken, revokeToken, type IssuedToken } from './auth/tokens.js';
import { withCloudStore } from './blobs/cloud-store.js';
import { DRIVE_CREDENTIAL_KEYS, driveCredentials, driveEndpoint, type Cloud } from './store/drives.js';
import type { DriveRow, FileRow, ProjectRow, TokenRow } from './store/listings.js';
import { DEFAULT_REGION, REGIONS } from './routes/projects.js';
import { openDb } from './store/db.js';
import { storeOf } from './store/store.js';
import type { TokenScope } from './store/tokens.js';
import { isValidHandle } from './store/users.js';

/**
 * Operator actions on a data dir: users, tokens, seeding projects and members, drives, and the
 * listings (`ua-platform … list`). Nothing here returns a secret except the token `createToken`
 * issues, once.
 */
export interface PlatformAdmin {
  /** Returns the new user's ID (`user-<handle lowercased>`). */
  createUser(handle: string): string;
  /** `owner` is a user ID or handle; the owner becomes ADMINISTER. Returns the project ID. */
  createProject(o: { name: string; owner: string; region?: string }): string;
  invite(projectId: string, userId: string, level: GrantLevel): void;
  createToken(o: { user: string; scope?: TokenScope; expiresAt?: number }): IssuedToken;
  revokeToken(tokenOrId: string): void;
  /** A drive owned by `owner`, its credentials checked against the cloud first (as drive/new does). */
  createDrive(o: DriveInput): Promise<string>;
  /** Renames, rotates credentials (checked first) or disables/enables a drive. */
  updateDrive(id: string, patch: DrivePatch): Promise<void>;
  listDrives(): DriveRow[];
  /** Every project, or those `user` is a member of. */
  listProjects(user?: string): ProjectRow[];
  listFiles(project: string, folder?: string): FileRow[];
  /** Tokens as stored: ID, user, the token's first characters, expiry, revoked; never the token. */
  listTokens(user?: string): TokenRow[];
}

export interface DriveInput {
  name: string;
  owner: string;
  cloud: string;
  credentials: Record<string, unknown>;
  endpoint?: string;
  region?: string;
  /** Skip the check against the cloud (a drive for an endpoint not up yet). */
  noCheck?: boolean;
}

export interface DrivePatch {
  name?: string;
  credentials?: Record<string, unknown>;
  disabled?: boolean;
  noCheck?: boolean;
}

function credentialsOf(cloud: Cloud, v: Record<string, unknown>): Record<string, string> {
  return driveCredentials(
    cloud,
    v,
    (k) =>
      new AdminError(
        `credentials.${k} is missing: a ${cloud} drive needs ${DRIVE_CREDENTIAL_KEYS[cloud].join(' and ')}`,
      ),
  );
}

function endpointOf(e: string | undefined): string | null {
  if (e === undefined) return null;
  return driveEndpoint(
    e,
    () => new AdminError(`invalid --endpoint ${JSON.stringify(e)}: give an http(s) URL`),
  );
}

async function checkDrive(
  d: { cloud: Cloud; credentials: Record<string, string>; endpoint: string | null; region: string | null },
  label: string,
): Promise<void> {
  await withCloudStore(
    d,
    (cloud) => cloud.checkAccess(),
    (err) =>
      new AdminError(
        `the credentials of drive ${label} cannot access the cloud: ${err.message} (--no-check skips this)`,
      ),
  );
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
    async createDrive(o) {
      const user = userOrThrow(o.owner);
      if (o.name.trim() === '') throw new AdminError('drive name must not be empty');
      if (o.cloud !== 'aws' && o.cloud !== 'azure')
        throw new AdminError(`invalid --cloud ${JSON.stringify(o.cloud)}: aws or azure`);
      const cloud: Cloud = o.cloud;
      const d = {
        cloud,
        credentials: credentialsOf(cloud, o.credentials),
        endpoint: endpointOf(o.endpoint),
        region: o.region ?? null,
      };
      if (!o.noCheck) await checkDrive(d, JSON.stringify(o.name));
      const id = newId('drive');
      const t = now();
      store.insertDrive({ id, name: o.name, owner: user.id, disabled: false, created: t, modified: t, ...d });
      return id;
    },
    async updateDrive(id, patch) {
      const d = store.getDrive(id);
      if (!d) throw new AdminError(`no such drive: ${id}`);
      if (patch.name !== undefined && patch.name.trim() === '')
        throw new AdminError('drive name must not be empty');
      const credentials = patch.credentials && credentialsOf(d.cloud, patch.credentials);
      if (credentials && !patch.noCheck) await checkDrive({ ...d, credentials }, id);
      store.updateDrive(id, { name: patch.name, credentials, disabled: patch.disabled }, now());
    },
    listDrives: () => store.listDrives(),
    listProjects(user) {
      return store.listProjects(user === undefined ? undefined : userOrThrow(user).id);
    },
    listFiles(project, folder) {
      if (!store.getProject(project)) throw new AdminError(`no such project: ${project}`);
      store.settleClosing(now()); // `closing` past its delay reads `closed`, as describe shows it
      return store.listProjectFiles(project, folder);
    },
    listTokens(user) {
      return store.listTokens(user === undefined ? undefined : userOrThrow(user).id);
    },
  };
}

/** Admin access to a data dir without a running server (safe while one runs: WAL + busy timeout). */
export function openAdmin(dataDir: string): PlatformAdmin & { close(): void } {
  const store = storeOf(openDb(dataDir));
  return { ...makeAdmin(store), close: () => store.close() };
}

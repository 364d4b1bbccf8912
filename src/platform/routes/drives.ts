import { isId, newId } from '../../common/ids.js';
import { atLeast } from '../../common/levels.js';
import { withCloudStore } from '../blobs/cloud-store.js';
import { ApiError, invalidInput, notFound } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import { driveCredentials, driveEndpoint, type Cloud, type DriveRecord } from '../store/drives.js';
import { isPlainObject, optString } from './input-checks.js';

/**
 * Drives (platform-api.md §6.1). Who may use a drive: its creator (describe, update, disable,
 * naming it in a project's defaultSymlink or in a symlink /file/new), and those who can VIEW,
 * through their token, a project that auto-symlinks into it (describe only; their uploads into that
 * project are governed by the project's permissions, not the drive's). Credentials are checked against the cloud on create
 * and on rotation, and never echoed back.
 */

function readCredentials(cloud: Cloud, v: unknown): Record<string, string> {
  if (!isPlainObject(v)) throw invalidInput('credentials must be a hash');
  return driveCredentials(cloud, v, (k) =>
    invalidInput(`credentials.${k} must be a nonempty string for cloud ${cloud}`),
  );
}

function readEndpoint(input: Record<string, unknown>): string | null {
  const e = optString(input, 'endpoint');
  return e === undefined ? null : driveEndpoint(e, () => invalidInput('endpoint must be an http(s) URL'));
}

/** Throws InvalidInput unless the credentials work; the message names the drive, never the secret. */
async function checkCredentials(
  d: Pick<DriveRecord, 'cloud' | 'credentials' | 'endpoint' | 'region'>,
  label: string,
): Promise<void> {
  await withCloudStore(
    d,
    (cloud) => cloud.checkAccess(),
    (err) => invalidInput(`The credentials of drive ${label} cannot access the given cloud: ${err.message}`),
  );
}

/**
 * The drive, if the caller may use it (creator), else ResourceNotFound; `describe` also lets in
 * those who can VIEW a project that auto-symlinks into it — through this token: membership in a
 * project the token's scope does not reach grants nothing (platform-api.md §3).
 */
export function driveForCaller(ctx: RouteContext, id: string, forDescribe = false): DriveRecord {
  const d = isId(id, 'drive') ? ctx.deps.store.getDrive(id) : undefined;
  const userId = ctx.principal().userId;
  if (!d) throw notFound(id);
  if (d.owner === userId) return d;
  if (
    forDescribe &&
    ctx.deps.store.memberProjectsUsingDrive(id, userId).some((p) => atLeast(ctx.levelIn(p), 'VIEW'))
  )
    return d;
  throw new ApiError('PermissionDenied', `You do not have permission to use ${id}`);
}

/**
 * A project's defaultSymlink must name a drive the caller may use (its creator), not disabled,
 * whose credentials reach the container: checked once here so uploads do not fail later.
 */
export async function checkDefaultSymlink(
  ctx: RouteContext,
  ds: { drive: string; container: string },
): Promise<void> {
  const d = driveForCaller(ctx, ds.drive);
  if (d.disabled) throw invalidInput(`defaultSymlink: the drive ${d.id} is disabled`);
  if (ds.container === '') throw invalidInput('defaultSymlink.container must be nonempty');
  await withCloudStore(
    d,
    (cloud) => cloud.checkContainer(ds.container),
    (err) => invalidInput(`defaultSymlink: drive ${d.id}: ${err.message}`),
  );
}

const driveNew: Handler = async (ctx) => {
  const name = optString(ctx.input, 'name');
  if (name === undefined || name === '') throw invalidInput('name must be a nonempty string');
  const cloud = ctx.input.cloud;
  if (typeof cloud !== 'string') throw invalidInput('cloud must be a string');
  if (cloud !== 'aws' && cloud !== 'azure') throw invalidInput('cloud must be "aws" or "azure"');
  const credentials = readCredentials(cloud, ctx.input.credentials);
  const endpoint = readEndpoint(ctx.input);
  const region = optString(ctx.input, 'region') ?? null;
  const owner = ctx.principal().userId;
  await checkCredentials({ cloud, credentials, endpoint, region }, `"${name}"`);
  const now = ctx.deps.now();
  const id = newId('drive');
  ctx.deps.store.insertDrive({
    id,
    name,
    cloud,
    credentials,
    endpoint,
    region,
    owner,
    disabled: false,
    created: now,
    modified: now,
  });
  return { id };
};

const describe: Handler = (ctx) => {
  const d = driveForCaller(ctx, ctx.subject, true);
  const full: Record<string, unknown> = {
    id: d.id,
    class: 'drive',
    name: d.name,
    cloud: d.cloud,
    endpoint: d.endpoint,
    region: d.region,
    // Which credential fields are set, never their values.
    credentials: Object.fromEntries(
      Object.keys(d.credentials).map((k) => [
        k,
        k === 'accessKeyId' || k === 'account' ? d.credentials[k] : '***',
      ]),
    ),
    createdBy: { user: d.owner },
    disabled: d.disabled,
    created: d.created,
    modified: d.modified,
  };
  const fields = ctx.input.fields;
  if (fields === undefined) return full;
  if (!isPlainObject(fields)) throw invalidInput('fields must be a mapping of names to booleans');
  return Object.fromEntries(Object.entries(full).filter(([k]) => k === 'id' || fields[k] === true));
};

const update: Handler = async (ctx) => {
  const d = driveForCaller(ctx, ctx.subject);
  const name = optString(ctx.input, 'name');
  if (name === '') throw invalidInput('name must be a nonempty string');
  const credentials =
    ctx.input.credentials !== undefined ? readCredentials(d.cloud, ctx.input.credentials) : undefined;
  if (credentials) await checkCredentials({ ...d, credentials }, d.id);
  ctx.deps.store.updateDrive(d.id, { name, credentials }, ctx.deps.now());
  return { id: d.id };
};

const disable: Handler = (ctx) => {
  const d = driveForCaller(ctx, ctx.subject);
  ctx.deps.store.updateDrive(d.id, { disabled: true }, ctx.deps.now());
  return { id: d.id };
};

export const driveRoutes: RouteTable = {
  'drive/new': driveNew,
  'drive-*/describe': describe,
  'drive-*/update': update,
  'drive-*/disable': disable,
};

import { isId, newId } from '../../common/ids.js';
import { isGrantLevel, levelRank, type GrantLevel } from '../../common/levels.js';
import { ApiError, invalidInput, invalidState, notFound } from '../errors.js';
import type { RouteContext, RouteTable } from '../http/route.js';
import { normaliseFolder } from '../store/folders.js';
import { type DefaultSymlink, type ProjectPatch, type ProjectRecord } from '../store/projects.js';
import {
  isPlainObject,
  optBool,
  optString,
  optStringArray,
  optStringMap,
  reqGrantLevel,
  reqString,
} from './input-checks.js';
import { loadIn } from './object-copies.js';
import { describeLoaded, parseDescribeOptions } from './object-describe.js';
import { describeProject } from './project-describe.js';
import { checkDefaultSymlink } from './drives.js';

/** Regions the platform is known to offer (platform-api.md §7). */
export const REGIONS = [
  'aws:us-east-1',
  'aws:eu-central-1',
  'aws:ap-southeast-2',
  'aws:eu-west-2',
  'aws:eu-west-2-g',
  'azure:westus',
  'azure:westeurope',
  'azure:uksouth-ofh',
] as const;
export const DEFAULT_REGION = 'aws:us-east-1';

/** `{drive, container, prefix?}` (§4.2); null clears it on update. */
function readDefaultSymlink(v: unknown): DefaultSymlink | null {
  if (v === null) return null;
  if (!isPlainObject(v) || typeof v.drive !== 'string' || typeof v.container !== 'string') {
    throw invalidInput('defaultSymlink must be {"drive": "drive-xxxx", "container": "…", "prefix"?: "…"}');
  }
  if (!isId(v.drive, 'drive')) throw invalidInput('defaultSymlink.drive must be a drive ID');
  if (v.prefix !== undefined && typeof v.prefix !== 'string')
    throw invalidInput('defaultSymlink.prefix must be a string');
  return { drive: v.drive, container: v.container, ...(v.prefix !== undefined ? { prefix: v.prefix } : {}) };
}

function readName(input: Record<string, unknown>): string | undefined {
  const name = optString(input, 'name');
  if (name !== undefined && name.trim() === '') throw invalidInput('name must not be empty');
  return name;
}

/** The flags both /project/new and /project-xxxx/update take. */
function readPatch(input: Record<string, unknown>): ProjectPatch {
  const patch: ProjectPatch = {};
  const name = readName(input);
  if (name !== undefined) patch.name = name;
  for (const key of ['summary', 'description'] as const) {
    const v = optString(input, key);
    if (v !== undefined) patch[key] = v;
  }
  for (const key of ['protected', 'restricted', 'externalUploadRestricted'] as const) {
    const v = optBool(input, key);
    if (v !== undefined) patch[key] = v;
  }
  if (input.defaultSymlink !== undefined) patch.defaultSymlink = readDefaultSymlink(input.defaultSymlink);
  return patch;
}

async function projectNew(ctx: RouteContext) {
  const { input, deps } = ctx;
  const principal = ctx.principal();
  // A token limited to named projects cannot reach a project that does not exist yet, so it may
  // not create one (PermissionDenied). Full-access and `*`-scoped tokens may.
  if (principal.scope !== null && principal.scope.projects['*'] === undefined) {
    throw new ApiError(
      'PermissionDenied',
      'This token is limited to specific projects and cannot create projects',
    );
  }
  const name = readName(input);
  if (name === undefined) throw invalidInput('name is required');
  const region = optString(input, 'region') ?? DEFAULT_REGION;
  if (!(REGIONS as readonly string[]).includes(region))
    throw invalidInput(`region ${region} is not permitted`);
  const billTo = optString(input, 'billTo') ?? principal.userId;
  if (billTo !== principal.userId && !billTo.startsWith('org-')) {
    throw new ApiError('PermissionDenied', `Cannot bill ${billTo}: only yourself or an org`);
  }
  const patch = readPatch(input);
  if (patch.defaultSymlink) await checkDefaultSymlink(ctx, patch.defaultSymlink);
  const now = deps.now();
  const project: ProjectRecord = {
    id: newId('project'),
    name,
    region,
    created: now,
    modified: now,
    createdBy: principal.userId,
    billTo,
    summary: patch.summary ?? '',
    description: patch.description ?? '',
    tags: optStringArray(input, 'tags') ?? [],
    properties: optStringMap(input, 'properties') ?? {},
    protected: patch.protected ?? false,
    restricted: patch.restricted ?? false,
    externalUploadRestricted: patch.externalUploadRestricted ?? false,
    defaultSymlink: patch.defaultSymlink ?? null,
  };
  deps.store.tx(() => {
    deps.store.insertProject(project);
    deps.store.setMember(project.id, principal.userId, 'ADMINISTER');
  });
  return { id: project.id };
}

function projectOf(ctx: RouteContext): ProjectRecord {
  const p = ctx.deps.store.getProject(ctx.subject);
  if (!p) throw notFound(ctx.subject);
  return p;
}

function describe(ctx: RouteContext) {
  ctx.requireLevel(ctx.subject, 'VIEW');
  const membership = ctx.deps.store.memberLevel(ctx.subject, ctx.principal().userId) ?? 'NONE';
  return describeProject(ctx.deps.store, projectOf(ctx), ctx.levelIn(ctx.subject), ctx.input, membership);
}

function newFolder(ctx: RouteContext) {
  ctx.requireLevel(ctx.subject, 'UPLOAD');
  const { store } = ctx.deps;
  const folder = normaliseFolder(ctx.input.folder);
  const parents = optBool(ctx.input, 'parents') ?? false;
  store.tx(() => {
    if (store.folderExists(ctx.subject, folder)) {
      if (!parents) throw invalidState(`The folder ${folder} already exists in ${ctx.subject}`);
      return;
    }
    store.ensureFolder(ctx.subject, folder, parents);
  });
  return { id: ctx.subject };
}

/**
 * `/project-xxxx/listFolder {folder = "/", describe?, only = "all", includeHidden?,
 * hasSubfolderFlags?}` (D-Folders) → `{objects: [{id, describe?}], folders: [paths]}`. `describe`
 * is `true` or a describe input (`dx ls -l` sends `{fields: {id, class, folder, length,
 * modified, name, project, size, state}}`), applied to each object's copy in this project; a
 * `project` hint in it has nothing to choose, the listed project is the copy. With
 * `hasSubfolderFlags`, each folder is `[path, hasSubfolders]`: the docs only name the flag, and
 * this pair is how a third-party client (a Rust dx client's ListFolder type,
 * `Vec<(String, bool)>`) reads the answer, so it is a choice.
 */
function listFolder(ctx: RouteContext) {
  ctx.requireLevel(ctx.subject, 'VIEW');
  const { input } = ctx;
  const { store } = ctx.deps;
  const folder = normaliseFolder(input.folder ?? '/');
  const only = input.only ?? 'all';
  if (only !== 'all' && only !== 'folders' && only !== 'objects') {
    throw invalidInput('only must be "folders", "objects" or "all"');
  }
  const includeHidden = optBool(input, 'includeHidden') ?? false;
  const flags = optBool(input, 'hasSubfolderFlags') ?? false;
  const describe = input.describe === false ? undefined : input.describe;
  const opts = describe === undefined ? undefined : { ...parseDescribeOptions(describe), project: undefined };
  if (!store.folderExists(ctx.subject, folder)) {
    throw new ApiError('ResourceNotFound', `The folder ${folder} could not be found in ${ctx.subject}`);
  }
  const out: { objects?: unknown[]; folders?: Array<string | [string, boolean]> } = {};
  if (only !== 'folders') {
    out.objects = store
      .listObjects(ctx.subject, folder, { includeHidden })
      .map((o) =>
        opts
          ? { id: o.id, describe: describeLoaded(ctx.deps, loadIn(ctx.deps, o.id, ctx.subject), opts) }
          : { id: o.id },
      );
  }
  if (only !== 'objects') {
    const subs = store.subfolders(ctx.subject, folder);
    out.folders = flags ? subs.map((f) => [f, store.hasSubfolders(ctx.subject, f)]) : subs;
  }
  return out;
}

function invite(ctx: RouteContext) {
  ctx.requireLevel(ctx.subject, 'ADMINISTER');
  const { store } = ctx.deps;
  const invitee = reqString(ctx.input, 'invitee');
  const level = reqGrantLevel(ctx.input, 'level');
  if (invitee === 'PUBLIC' || invitee.startsWith('org-') || invitee.includes('@')) {
    throw invalidInput('Only users can be invited on this server (by user ID or handle)');
  }
  const user = store.findUser(invitee);
  if (!user) throw notFound(invitee.startsWith('user-') ? invitee : `user-${invitee.toLowerCase()}`);
  store.tx(() => {
    const current = store.memberLevel(ctx.subject, user.id);
    // An invitation never lowers an existing grant; decreasePermissions does that.
    if (!current || levelRank(level) > levelRank(current)) store.setMember(ctx.subject, user.id, level);
    store.updateProject(ctx.subject, {}, ctx.deps.now());
  });
  return { id: user.id, state: 'accepted' };
}

function decreasePermissions(ctx: RouteContext) {
  ctx.requireLevel(ctx.subject, 'ADMINISTER');
  const { store } = ctx.deps;
  const changes: Array<[string, GrantLevel | null]> = [];
  for (const [entity, level] of Object.entries(ctx.input)) {
    if (level !== null && !isGrantLevel(level))
      throw invalidInput(`${entity}: level must be a level name or null`);
    changes.push([entity, level]);
  }
  store.tx(() => {
    for (const [entity, level] of changes) {
      const current = store.memberLevel(ctx.subject, entity);
      if (!current) throw invalidInput(`${entity} is not a member of ${ctx.subject}`);
      if (level === null) store.removeMember(ctx.subject, entity);
      else if (levelRank(level) > levelRank(current))
        throw invalidInput(`${entity}: ${level} would increase access`);
      else store.setMember(ctx.subject, entity, level);
    }
    store.updateProject(ctx.subject, {}, ctx.deps.now());
  });
  return { id: ctx.subject };
}

async function update(ctx: RouteContext) {
  ctx.requireLevel(ctx.subject, 'ADMINISTER');
  const patch = readPatch(ctx.input);
  if (patch.defaultSymlink) await checkDefaultSymlink(ctx, patch.defaultSymlink);
  ctx.deps.store.updateProject(ctx.subject, patch, ctx.deps.now());
  return { id: ctx.subject };
}

function leave(ctx: RouteContext) {
  // Always allowed for a member; the token must still reach the project, so a token scoped
  // elsewhere cannot make its user leave.
  ctx.requireLevel(ctx.subject, 'VIEW');
  ctx.deps.store.removeMember(ctx.subject, ctx.principal().userId);
  return { id: ctx.subject };
}

export const projectRoutes: RouteTable = {
  'project/new': projectNew,
  'project-*/describe': describe,
  'project-*/newFolder': newFolder,
  'project-*/listFolder': listFolder,
  'project-*/invite': invite,
  'project-*/decreasePermissions': decreasePermissions,
  'project-*/update': update,
  'project-*/leave': leave,
};

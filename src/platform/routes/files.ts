import { isId, newId } from '../../common/ids.js';
import { NEED } from '../auth/policy.js';
import { md5Base64 } from '../blobs/blob-store.js';
import { signDownload, signUpload } from '../auth/signing.js';
import { invalidInput, invalidState } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import type { FileRecord } from '../store/files.js';
import { checkObjectName } from '../store/folders.js';
import { ensureAssembling } from './assembly.js';
import { optBool, optInt, optString, optStringArray, optStringMap, reqString } from './input-checks.js';
import { loadForCaller, metadataRoutes } from './metadata.js';
import { driveForCaller } from './drives.js';
import {
  isSymlinkRegistration,
  recordRegisteredSymlink,
  startAutoSymlink,
  symlinkClose,
  symlinkDownload,
  symlinkUpload,
  verifySymlinkRegistration,
} from './symlink-files.js';

/** Part limits of the platform's AWS regions (platform-api.md §5.3). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
export const MAX_PARTS = 10_000;
const MD5_RE = /^[0-9a-f]{32}$/;

/** The creation fields files and records share (§5.2); `name` defaults to the new ID. */
export function readCreation(ctx: RouteContext) {
  const input = ctx.input;
  const project = reqString(input, 'project');
  if (!isId(project, 'project') && !isId(project, 'container'))
    throw invalidInput('project must be a project ID');
  const given = optString(input, 'name');
  const name = given === undefined ? undefined : checkObjectName(given);
  const folder = optString(input, 'folder') ?? '/';
  const parents = optBool(input, 'parents') ?? false;
  return {
    project,
    name,
    folder,
    parents,
    hidden: optBool(input, 'hidden') ?? false,
    types: optStringArray(input, 'types') ?? [],
    tags: optStringArray(input, 'tags') ?? [],
    properties: optStringMap(input, 'properties') ?? {},
    details: input.details ?? {},
  };
}

const fileNew: Handler = async (ctx) => {
  const c = readCreation(ctx);
  const media = optString(ctx.input, 'media') ?? '';
  ctx.requireLevel(c.project, NEED.create);
  const store = ctx.deps.store;
  // Registering an object already in a drive's container (symlink-files.ts) reads it first.
  const symlink = isSymlinkRegistration(ctx.input)
    ? await verifySymlinkRegistration(ctx, (id) => driveForCaller(ctx, id))
    : undefined;
  const now = ctx.deps.now();
  return store.withNonce(
    ctx.principal().userId,
    'file/new',
    ctx.input,
    () => {
      const folder = store.ensureFolder(c.project, c.folder, c.parents);
      const id = newId('file');
      const name = c.name ?? id;
      store.insertFile({ ...c, id, folder, name, media, createdBy: ctx.principal().userId, now });
      if (symlink) recordRegisteredSymlink(store, id, symlink, now);
      else startAutoSymlink(store, { id, project: c.project, folder, name });
      return { id };
    },
    now,
  );
};

function requireOpen(f: FileRecord, action: string): void {
  if (f.state !== 'open')
    throw invalidState(`Cannot ${action} file ${f.id} because it is in state ${f.state}`);
}

function loadFile(ctx: RouteContext, need: 'read'): FileRecord {
  const l = loadForCaller(ctx, need);
  if (l.kind !== 'file') throw invalidInput(`${ctx.subject} is not a file`);
  return l.obj;
}

const upload: Handler = (ctx) => {
  const f = loadFile(ctx, 'read');
  ctx.requireLevel(f.project, NEED.modifyOpen);
  requireOpen(f, 'upload to');
  const index = optInt(ctx.input, 'index', 1, MAX_PARTS) ?? 1;
  const size = optInt(ctx.input, 'size', 0, MAX_PART_SIZE);
  if (size === undefined) throw invalidInput('size is required');
  const md5 = reqString(ctx.input, 'md5');
  if (!MD5_RE.test(md5)) throw invalidInput('md5 must be 32 lowercase hexadecimal digits');
  const su = ctx.deps.store.getSymlinkUpload(f.id);
  if (su) return symlinkUpload(ctx, f, su, { index, size, md5 });
  const expires = ctx.deps.now() + ctx.deps.config.urlTtlMs;
  const sig = signUpload(ctx.deps.config.signingKey, { fileId: f.id, index, size, md5, expires });
  const q = new URLSearchParams({ size: String(size), md5, expires: String(expires), sig });
  return {
    url: `${ctx.origin}/upload/${f.id}/${index}?${q}`,
    expires,
    headers: { 'content-length': String(size), 'content-md5': md5Base64(md5) },
  };
};

/**
 * Checks the parts make a whole file: indexes 1..N with no gap, every part but the last at least
 * MIN_PART_SIZE; an empty file is a single 0-byte part 1. Returns the total size.
 */
export function validateParts(parts: Array<{ index: number; size: number }>, fileId: string): number {
  if (parts.length === 0)
    throw invalidState(`File ${fileId} has no parts: files with 0 parts cannot be closed`);
  let total = 0;
  parts.forEach((p, i) => {
    if (p.index !== i + 1) throw invalidState(`File ${fileId} cannot be closed: part ${i + 1} is missing`);
    if (i < parts.length - 1 && p.size < MIN_PART_SIZE) {
      throw invalidState(
        `File ${fileId} cannot be closed: part ${p.index} is ${p.size} bytes; every part but the last must be at least ${MIN_PART_SIZE}`,
      );
    }
    total += p.size;
  });
  return total;
}

/**
 * open → closing. Closing a file that is already closing or closed answers `{id}` again rather
 * than InvalidState: close is retried by clients (safeToRetry), and a retry after a lost response
 * must not turn a successful close into a failed upload. The reference does not say which the
 * real platform does.
 */
const close: Handler = (ctx) => {
  // UPLOAD suffices whatever the state, so a retried close by an uploader still succeeds.
  const f = loadFile(ctx, 'read');
  ctx.requireLevel(f.project, NEED.close);
  if (f.state !== 'open') return { id: f.id };
  const su = ctx.deps.store.getSymlinkUpload(f.id);
  if (su) return symlinkClose(ctx, f, su);
  const size = validateParts(ctx.deps.store.listParts(f.id), f.id);
  const now = ctx.deps.now();
  if (ctx.deps.store.markClosing(f.id, size, now + ctx.deps.config.closingDelayMs, now)) {
    void ensureAssembling(ctx.deps, f.id);
  }
  return { id: f.id };
};

const download: Handler = (ctx) => {
  const f = loadFile(ctx, 'read');
  if (f.state !== 'closed')
    throw invalidState(`Cannot download file ${f.id} because it is in state ${f.state}`);
  const filename = optString(ctx.input, 'filename') ?? f.name;
  optBool(ctx.input, 'preauthenticated');
  const duration = optInt(ctx.input, 'duration', 1, 7 * 24 * 3600);
  const expires = ctx.deps.now() + (duration !== undefined ? duration * 1000 : ctx.deps.config.urlTtlMs);
  if (f.drive !== null) return symlinkDownload(ctx, f, filename, expires);
  const sig = signDownload(ctx.deps.config.signingKey, { fileId: f.id, expires, filename });
  const q = new URLSearchParams({ expires: String(expires), sig, filename });
  return { url: `${ctx.origin}/download/${f.id}?${q}`, expires, headers: {} };
};

export const fileRoutes: RouteTable = {
  'file/new': fileNew,
  ...metadataRoutes('file'),
  'file-*/upload': upload,
  'file-*/close': close,
  'file-*/download': download,
};

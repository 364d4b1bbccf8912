import { isId } from '../../common/ids.js';
import { NEED } from '../auth/policy.js';
import { ApiError, invalidInput, invalidState, notFound } from '../errors.js';
import type { Handler, RouteTable } from '../http/route.js';
import { normaliseFolder } from '../store/folders.js';
import { type ObjectClass } from '../store/objects.js';
import { optBool, optStringArray, reqString } from './input-checks.js';
import { baseName, childPath, folderMissing, isWithin, readFolders } from './project-edit.js';

/**
 * `/project-xxxx/clone` and `/container-xxxx/clone` (platform doc "Cloning"; dxpy's
 * DXContainer.clone, `dx cp`): `{objects?, folders?, project, destination? = "/", parents?}` →
 * `{id: <source>, project: <destination container>, exists: [IDs]}`.
 *
 * A clone is the same object in another project: same ID, a copy of its metadata there, data
 * shared (store/copies.ts). Named objects go into `destination`; a named folder becomes a folder
 * of the same name there with copies of everything in it, except that the root's contents go
 * into `destination` itself, and a named object or folder that is also inside a named folder is
 * cloned into `destination` directly (dxpy's clone docstring). Each object is cloned once. An
 * object already in the destination project is left alone, wherever it is there, and listed in
 * `exists` (dx cp prints them as "already existed … and were not copied").
 *
 * Rules (platform doc "Cloning", platform-api.md §7):
 * - VIEW on the source, UPLOAD on the destination: the documented levels ("VIEW or greater
 *   access to the source container and UPLOAD or greater access to the destination container").
 * - A source with the RESTRICTED flag cannot be cloned from. Its error type is not documented:
 *   PermissionDenied, the type for anything the caller's access does not allow (a choice).
 * - Both in the same region, else InvalidState (no cross-region transfer of files).
 * - Every object to clone must be `closed`, else InvalidState and nothing is cloned (dxpy's
 *   test_clone expects the call to fail while records are open).
 * - A missing destination folder is ResourceNotFound unless `parents`.
 * - Source and destination the same container is InvalidInput: `dx cp` refuses it before any
 *   call, and there is nothing to copy (a choice; the reference is silent).
 * Hidden objects inside a named folder are not cloned: the platform clones them only when a
 * cloned visible object links to them, and objects here hold no links. Named hidden objects are.
 * `targetFileRelocation` (dx cp --target-file-relocation) is accepted: a symlink's target never
 * moves here, so it changes nothing.
 */
const clone: Handler = (ctx) => {
  const source = ctx.subject;
  const input = ctx.input;
  const objects = [...new Set(optStringArray(input, 'objects') ?? [])];
  const folders = readFolders(input, 'folders');
  const dest = reqString(input, 'project');
  if (!isId(dest, 'project') && !isId(dest, 'container'))
    throw invalidInput('project must be the ID of the destination project or container');
  const destination = normaliseFolder(input.destination ?? '/');
  const parents = optBool(input, 'parents') ?? false;
  optBool(input, 'targetFileRelocation');
  if (dest === source) throw invalidInput(`Cannot clone from ${source} into itself`);
  ctx.requireLevel(source, NEED.read);
  ctx.requireLevel(dest, NEED.create);
  const { store } = ctx.deps;
  const from = store.getProject(source)!;
  const to = store.getProject(dest)!;
  if (from.restricted)
    throw new ApiError('PermissionDenied', `${source} is RESTRICTED: data cannot be cloned out of it`);
  if (from.region !== to.region) {
    throw invalidState(
      `Cannot clone from ${source} (${from.region}) to ${dest} (${to.region}): containers are in different regions`,
    );
  }
  const now = ctx.deps.now();
  store.settleClosing(now);
  return store.tx(() => {
    const plan: Array<{ id: string; klass: ObjectClass; state: string; folder: string }> = [];
    for (const id of objects) {
      const klass = store.objectClassIn(source, id);
      if (klass === undefined) throw notFound(id);
      plan.push({ id, klass, state: store.objectCopy(klass, id, source)!.state, folder: destination });
    }
    const newFolders: string[] = [];
    for (const f of folders) {
      if (!store.folderExists(source, f)) throw folderMissing(f, source);
      const target = f === '/' ? destination : childPath(destination, baseName(f));
      // Where a path under f lands; a named folder inside f is cloned on its own, not as part of f.
      const rebase = (path: string) => {
        const rel = path.slice(f === '/' ? 1 : f.length + 1);
        return rel === '' ? target : childPath(target, rel);
      };
      const inOther = (path: string) => folders.some((g) => g !== f && isWithin(g, f) && isWithin(path, g));
      if (target !== destination) newFolders.push(target);
      for (const sub of store.foldersBelow(source, f)) if (!inOther(sub)) newFolders.push(rebase(sub));
      for (const o of store.objectsBelow(source, f)) {
        if (o.hidden || objects.includes(o.id) || inOther(o.folder)) continue;
        plan.push({ id: o.id, klass: o.class, state: o.state, folder: rebase(o.folder) });
      }
    }
    const open = plan.find((p) => p.state !== 'closed');
    if (open) throw invalidState(`Cannot clone ${open.id} because it is in state ${open.state}`);
    if (!store.folderExists(dest, destination)) {
      if (!parents) throw folderMissing(destination, dest);
      store.ensureFolder(dest, destination, true);
    }
    for (const f of newFolders) store.ensureFolder(dest, f, true);
    const exists: string[] = [];
    for (const p of plan) {
      if (store.objectClassIn(dest, p.id) !== undefined) exists.push(p.id);
      else store.cloneCopy(p.klass, p.id, source, dest, p.folder, now);
    }
    return { id: source, project: dest, exists };
  });
};

export const cloneRoutes: RouteTable = {
  'project-*/clone': clone,
  'container-*/clone': clone,
};

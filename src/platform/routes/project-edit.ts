import { NEED } from '../auth/policy.js';
import { ApiError, invalidInput, invalidState, notFound } from '../errors.js';
import type { Handler, RouteTable } from '../http/route.js';
import { normaliseFolder } from '../store/folders.js';
import { type ObjectClass } from '../store/objects.js';
import { optBool, optStringArray } from './input-checks.js';
import { deleteCopies, freeFiles, requireRemove } from './remove-objects.js';

/**
 * Reorganising a project after an upload: `/project-xxxx/move` and `/project-xxxx/removeFolder`
 * (D-Folders; dxpy's DXContainer.move / remove_folder, `dx mv`, `dx rmdir`, `dx rm -r`).
 * The root folder can be neither moved nor removed (D-Folders: it "cannot be moved, cloned, or
 * removed"); naming it is InvalidInput, as renameFolder's documented errors say for `/`.
 */

export const folderMissing = (folder: string, project: string) =>
  new ApiError('ResourceNotFound', `The folder ${folder} could not be found in ${project}`);

/** `/a/b` + `c` → `/a/b/c`; `/` + `c` → `/c`. */
export const childPath = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
export const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
/** Whether `path` is `folder` or below it. */
export const isWithin = (path: string, folder: string) =>
  folder === '/' || path === folder || path.startsWith(folder + '/');

/** A list of folder paths, canonical and without repeats. */
export function readFolders(input: Record<string, unknown>, key: string): string[] {
  return [...new Set((optStringArray(input, key) ?? []).map((f) => normaliseFolder(f)))];
}

/**
 * `{objects?: [IDs], folders?: [paths], destination}` → `{id}`. Objects and folders (with
 * everything in them) go into `destination`; an object or folder named explicitly that is also
 * inside a named folder lands directly in `destination` (dxpy's move docstring).
 *
 * Levels: an object's folder is part of its metadata, so moving only open objects needs UPLOAD
 * (which "modifies the metadata of open data objects", §4.1) like renaming them; a closed or
 * closing object, or any folder (whose contents may be closed), needs CONTRIBUTE. The
 * reference gives no level for move; this follows its level definitions and metadata.ts.
 *
 * Errors: the destination missing, a named object not in the project or a named folder missing
 * is ResourceNotFound; a folder moved into itself or below itself, or the root, is
 * InvalidInput; a folder whose name is already taken in the destination is InvalidState
 * (folders are not merged; the reference is silent, renameFolder's rule is the model).
 */
const move: Handler = (ctx) => {
  const project = ctx.subject;
  const objects = [...new Set(optStringArray(ctx.input, 'objects') ?? [])];
  const folders = readFolders(ctx.input, 'folders');
  if (ctx.input.destination === undefined) throw invalidInput('destination is required');
  const destination = normaliseFolder(ctx.input.destination);
  if (folders.includes('/')) throw invalidInput('The root folder cannot be moved');
  for (const f of folders) {
    if (isWithin(destination, f))
      throw invalidInput(`Cannot move the folder ${f} into itself (${destination})`);
  }
  // Reading the objects' states needs VIEW; then the caller is told the level this move needs.
  ctx.requireLevel(project, NEED.read);
  const { store } = ctx.deps;
  const now = ctx.deps.now();
  store.settleClosing(now);
  return store.tx(() => {
    const found: Array<[string, ObjectClass]> = [];
    let allOpen = folders.length === 0;
    for (const id of objects) {
      const klass = store.objectClassIn(project, id);
      if (klass === undefined) throw notFound(id);
      found.push([id, klass]);
      if (store.objectCopy(klass, id, project)?.state !== 'open') allOpen = false;
    }
    ctx.requireLevel(project, allOpen ? NEED.modifyOpen : NEED.modifyClosed);
    if (!store.folderExists(project, destination)) throw folderMissing(destination, project);
    for (const f of folders) if (!store.folderExists(project, f)) throw folderMissing(f, project);
    // Deepest first: a named folder inside another named one leaves it before its parent moves.
    const byDepth = [...folders].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const f of byDepth) {
      const target = childPath(destination, baseName(f));
      if (target === f) continue; // already there
      if (store.folderExists(project, target))
        throw invalidState(`The folder ${target} already exists in ${project}`);
      store.moveFolderTree(project, f, target);
    }
    for (const [id, klass] of found) store.moveObject(klass, id, project, destination, now);
    return { id: project };
  });
};

/**
 * `{folder, recurse?, force?, partial?}` → `{id}` (and `completed: true` when `partial` was
 * asked for: dxpy and dx send `partial: true` and call again until `completed`; this server
 * always finishes in one call). CONTRIBUTE, and ADMINISTER in a protected project when objects
 * go, as for removeObjects. A folder holding objects (hidden ones too) or subfolders is
 * InvalidState without `recurse`; with it, its objects' copies here are removed by the
 * removeObjects code (bytes freed with a file's last copy) and its subfolders with it. A missing
 * folder is ResourceNotFound unless `force`.
 */
const removeFolder: Handler = async (ctx) => {
  const project = ctx.subject;
  if (ctx.input.folder === undefined) throw invalidInput('folder is required');
  const folder = normaliseFolder(ctx.input.folder);
  const recurse = optBool(ctx.input, 'recurse') ?? false;
  const force = optBool(ctx.input, 'force') ?? false;
  const partial = optBool(ctx.input, 'partial') ?? false;
  if (folder === '/') throw invalidInput('The root folder cannot be removed');
  ctx.requireLevel(project, NEED.remove);
  const { store } = ctx.deps;
  const freed = store.tx(() => {
    if (!store.folderExists(project, folder)) {
      if (force) return [];
      throw folderMissing(folder, project);
    }
    const inside = store.objectsBelow(project, folder);
    if (!recurse && (inside.length > 0 || store.foldersBelow(project, folder).length > 0)) {
      throw invalidState(`Cannot remove ${folder} from ${project}: folder is not empty`);
    }
    if (inside.length > 0) requireRemove(ctx, project);
    const gone = deleteCopies(
      store,
      project,
      inside.map((o) => [o.id, o.class]),
    );
    store.deleteFolderTree(project, folder);
    return gone;
  });
  await freeFiles(ctx.deps, freed);
  return partial ? { id: project, completed: true } : { id: project };
};

export const projectEditRoutes: RouteTable = {
  'project-*/move': move,
  'project-*/removeFolder': removeFolder,
};

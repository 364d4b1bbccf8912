import { NEED } from '../auth/policy.js';
import { invalidInput, notFound } from '../errors.js';
import type { Handler, RouteContext, RouteDeps, RouteTable } from '../http/route.js';
import type { Store } from '../store/store.js';
import { type ObjectClass } from '../store/objects.js';
import { optBool } from './input-checks.js';

/**
 * `/project-xxxx/removeObjects {objects: [IDs], force?}` → `{id}`. CONTRIBUTE removes objects;
 * in a protected project only ADMINISTER may (§4.1). An ID not in the project is
 * ResourceNotFound and nothing is removed, unless `force`, which skips it. Files in any state go,
 * `closing` included (an assembly still running is waited for before the bytes are freed).
 *
 * What goes is the object's copy in this project: describe, listFolder and findDataObjects no
 * longer see it there. A clone in another project (store/copies.ts) stays, with the bytes; the
 * bytes are freed through the blob store's deleteFile once the last copy's removal is durable.
 * A crash between the two leaves unreferenced bytes on disk, never a described file without
 * bytes. A symlinked file's bytes are in a drive's container and are left there, as the
 * platform leaves a deleted symlink's remote object (§6.2), unfinished multipart uploads included.
 */
const removeObjects: Handler = async (ctx) => {
  const project = ctx.subject;
  const objects = ctx.input.objects;
  if (!Array.isArray(objects) || !objects.every((o) => typeof o === 'string'))
    throw invalidInput('objects must be an array of object IDs');
  const force = optBool(ctx.input, 'force') ?? false;
  requireRemove(ctx, project);
  const { store } = ctx.deps;
  const freed = store.tx(() => {
    const found: Array<[string, ObjectClass]> = [];
    for (const id of new Set(objects as string[])) {
      const klass = store.objectClassIn(project, id);
      if (klass !== undefined) found.push([id, klass]);
      else if (!force) throw notFound(id);
    }
    return deleteCopies(store, project, found);
  });
  await freeFiles(ctx.deps, freed);
  return { id: project };
};

/**
 * Removes the copies of these objects in `project` (call inside a transaction) and returns the
 * files whose last copy that was: their bytes are the caller's to free, with freeFiles.
 */
export function deleteCopies(store: Store, project: string, found: Array<[string, ObjectClass]>): string[] {
  const freed: string[] = [];
  for (const [id, klass] of found)
    if (store.deleteObject(klass, id, project) && klass === 'file') freed.push(id);
  return freed;
}

/** Frees the bytes of files no project holds any more, once their removal is on disk. */
export async function freeFiles(deps: RouteDeps, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  // The rows' deletion on disk first: a restart must never find a file whose bytes are gone.
  await deps.store.syncWal();
  for (const id of ids) {
    // An assembly writing this file's object finishes first (it sees the row gone and stops).
    await deps.assemblies.get(id);
    try {
      await deps.blobs.deleteFile(id);
    } catch (err) {
      // The removal stands; only disk space is lost.
      process.stderr.write(`[ua-platform] freeing the bytes of removed ${id} failed: ${String(err)}\n`);
    }
  }
}

/** Removing in a protected project needs ADMINISTER (§4.1); shared with removeFolder. */
export function requireRemove(ctx: RouteContext, project: string): void {
  ctx.requireLevel(project, NEED.remove);
  if (ctx.deps.store.getProject(project)?.protected) ctx.requireLevel(project, NEED.removeProtected);
}

export const removeObjectsRoutes: RouteTable = {
  'project-*/removeObjects': removeObjects,
};

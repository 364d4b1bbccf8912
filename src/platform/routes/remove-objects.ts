import { NEED } from '../auth/policy.js';
import { invalidInput, notFound } from '../errors.js';
import type { Handler, RouteTable } from '../http/route.js';
import { type ObjectClass } from '../store/objects.js';
import { optBool } from './input-checks.js';

/**
 * `/project-xxxx/removeObjects {objects: [IDs], force?}` → `{id}`. CONTRIBUTE removes objects;
 * in a protected project only ADMINISTER may (§4.1). An ID not in the project is
 * ResourceNotFound and nothing is removed, unless `force`, which skips it. Files in any state go,
 * `closing` included (an assembly still running is waited for before the bytes are freed).
 *
 * Objects live in one project here, so a removed object is gone: describe, listFolder and
 * findDataObjects no longer see it. Its bytes are freed through the blob store's deleteFile once
 * the removal is durable. A crash between the two leaves unreferenced bytes on disk, never a
 * described file without bytes. A symlinked file's bytes are in a drive's container and are left
 * there, as the platform leaves a deleted symlink's remote object (§6.2), unfinished multipart
 * uploads included.
 */
const removeObjects: Handler = async (ctx) => {
  const project = ctx.subject;
  const objects = ctx.input.objects;
  if (!Array.isArray(objects) || !objects.every((o) => typeof o === 'string'))
    throw invalidInput('objects must be an array of object IDs');
  const force = optBool(ctx.input, 'force') ?? false;
  ctx.requireLevel(project, NEED.remove);
  const { store, blobs, assemblies } = ctx.deps;
  if (store.getProject(project)?.protected) ctx.requireLevel(project, NEED.removeProtected);

  const removedFiles = store.tx(() => {
    const found: Array<[string, ObjectClass]> = [];
    for (const id of new Set(objects as string[])) {
      const klass = store.objectClassIn(project, id);
      if (klass !== undefined) found.push([id, klass]);
      else if (!force) throw notFound(id);
    }
    for (const [id, klass] of found) store.deleteObject(klass, id);
    return found.filter(([, klass]) => klass === 'file').map(([id]) => id);
  });
  if (removedFiles.length === 0) return { id: project };

  // The rows' deletion on disk first: a restart must never find a file whose bytes are gone.
  await store.syncWal();
  for (const id of removedFiles) {
    // An assembly writing this file's object finishes first (it sees the row gone and stops).
    await assemblies.get(id);
    try {
      await blobs.deleteFile(id);
    } catch (err) {
      // The removal stands; only disk space is lost.
      process.stderr.write(`[ua-platform] freeing the bytes of removed ${id} failed: ${String(err)}\n`);
    }
  }
  return { id: project };
};

export const removeObjectsRoutes: RouteTable = {
  'project-*/removeObjects': removeObjects,
};

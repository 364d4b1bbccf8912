import { sniffObject } from '../blobs/media-sniff.js';
import type { RouteDeps } from '../http/route.js';
import { finishSymlinkClose } from './symlink-files.js';

/**
 * Background assembly of closed files: parts → one final object (on disk, the parts' bytes
 * linked in place: blobs/disk.ts). `closing` is reported until it
 * finishes (and the closing delay passes), so no client ever sees `closed` without the bytes.
 * At most one assembly per file runs at a time (`deps.assemblies`, the server's own); a stopped
 * server restarts the ones it left on start.
 */
export function ensureAssembling(deps: RouteDeps, fileId: string): Promise<void> {
  const running = deps.assemblies;
  const existing = running.get(fileId);
  if (existing) return existing;
  const job = assemble(deps, fileId)
    .catch((err: unknown) => {
      // A closed database means the server stopped; the next start assembles it again.
      if (deps.store.open)
        process.stderr.write(`[ua-platform] assembling ${fileId} failed: ${String(err)}\n`);
    })
    .finally(() => running.delete(fileId));
  running.set(fileId, job);
  return job;
}

async function assemble(deps: RouteDeps, fileId: string): Promise<void> {
  // A symlinked file's bytes are in a drive's container: read back once for the MD5 instead.
  if (deps.store.getSymlinkUpload(fileId)) return finishSymlinkClose(deps, fileId);
  const { blobs } = deps;
  const parts = deps.store.listParts(fileId);
  const result = await blobs.assemble(
    fileId,
    parts.map((p) => p.blob),
    parts.length === 1 ? { size: parts[0].size, md5: parts[0].md5 } : undefined,
  );
  if (!deps.store.open) return;
  const f = deps.store.getFile(fileId);
  // Removed while assembling (removeObjects): the remover frees the bytes once this has ended.
  if (!f) return;
  if (f.size !== result.size) {
    throw new Error(`assembled ${result.size} bytes for ${fileId}, expected ${f.size}`);
  }
  // No media type from the client: the platform infers one from the bytes (media-sniff.ts), set
  // with `assembled`, so a describe that reports `closed` reports it too.
  const media = f.media === '' ? await sniffObject(blobs, fileId, result.size) : undefined;
  if (!deps.store.open) return;
  deps.store.markAssembled(fileId, result.md5, media);
  // Durable before the parts go: a restart must never find the file unassembled without them.
  // This sync also makes an object kept in the database (blobs/inline.ts) durable.
  await deps.store.syncWal();
  // The part rows stay (describe lists them); their bytes now live in the final object (linked
  // into it on disk, not copied, so removing the parts' names frees nothing the object uses).
  for (const p of parts) await blobs.deletePart(p.blob);
}

/** Resolves when every assembly running on this server has finished (for a clean stop). */
export async function drainAssemblies(deps: RouteDeps): Promise<void> {
  while (deps.assemblies.size > 0) await Promise.all([...deps.assemblies.values()]);
}

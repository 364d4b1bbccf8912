import type { RouteDeps } from '../http/route.js';
import { blobStoreFor } from '../blobs/registry.js';
import { getFile, listParts, markAssembled } from '../store/files.js';
import { syncWal, type Db } from '../store/db.js';
import { getSymlinkUpload } from '../store/drives.js';
import { finishSymlinkClose } from './symlink-files.js';

/**
 * Background assembly of closed files: parts → one final object. `closing` is reported until it
 * finishes (and the closing delay passes), so no client ever sees `closed` without the bytes.
 * At most one assembly per file runs at a time; a stopped server restarts it on the next describe.
 */
const running = new WeakMap<Db, Map<string, Promise<void>>>();

export function ensureAssembling(deps: RouteDeps, fileId: string): Promise<void> {
  let byFile = running.get(deps.db);
  if (!byFile) {
    byFile = new Map();
    running.set(deps.db, byFile);
  }
  const existing = byFile.get(fileId);
  if (existing) return existing;
  const job = assemble(deps, fileId)
    .catch((err: unknown) => {
      // A closed database means the server stopped; the next describe after a restart retries.
      if (deps.db.open) process.stderr.write(`[ua-platform] assembling ${fileId} failed: ${String(err)}\n`);
    })
    .finally(() => byFile.delete(fileId));
  byFile.set(fileId, job);
  return job;
}

async function assemble(deps: RouteDeps, fileId: string): Promise<void> {
  // A symlinked file's bytes are in a drive's container: read back once for the MD5 instead.
  if (getSymlinkUpload(deps.db, fileId)) return finishSymlinkClose(deps, fileId);
  const store = blobStoreFor(deps.config);
  const parts = listParts(deps.db, fileId);
  const result = await store.assemble(
    fileId,
    parts.map((p) => p.blob),
    parts.length === 1 ? { size: parts[0].size, md5: parts[0].md5 } : undefined,
  );
  if (!deps.db.open) return;
  const f = getFile(deps.db, fileId);
  if (!f || f.size !== result.size) {
    throw new Error(`assembled ${result.size} bytes for ${fileId}, expected ${f?.size ?? 'no file'}`);
  }
  markAssembled(deps.db, fileId, result.md5);
  // Durable before the parts go: a restart must never find the file unassembled without them.
  await syncWal(deps.db);
  // The part rows stay (describe lists them); their bytes now live in the final object.
  for (const p of parts) await store.deletePart(p.blob);
}

/** Resolves when every assembly running against this database has finished (for a clean stop). */
export async function drainAssemblies(db: Db): Promise<void> {
  const byFile = running.get(db);
  if (byFile) await Promise.all([...byFile.values()]);
}

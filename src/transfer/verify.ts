/**
 * `--verify`: after close, every part the destination describes must be a part of the local source,
 * with the same size and MD5, and every part of the source must be there. Parts sent in this run are
 * known already; the parts an earlier run sent (a resumed file) are read, compressed as they were
 * sent, and hashed again from the local file, so a resumed file is verified whole.
 */
import { UaError } from '../errors.js';
import type { FilePlan } from '../plan/plan.js';
import type { ByteBudget } from '../read/budget.js';
import { openSource } from '../read/source.js';
import type { PartPool } from '../work/pool.js';
import type { BufferCache } from './buffer-cache.js';
import type { DonePart } from './destination.js';
import { partCost, partJob, type PartJobOptions } from './part-job.js';

export interface SourcePartsOptions extends PartJobOptions {
  pool: PartPool;
  budget: ByteBudget;
  buffers: BufferCache;
  signal: AbortSignal;
}

/**
 * Size and MD5 of each part of the local source as it is sent: `sent` (this run's parts) completed by
 * hashing the others. A stdin file has only the parts this run read, all of them sent.
 */
export async function sourceParts(
  plan: FilePlan,
  sent: ReadonlyMap<number, DonePart>,
  o: SourcePartsOptions,
): Promise<Map<number, DonePart>> {
  const parts = new Map(sent);
  if (plan.entry.stdin || plan.parts.every((p) => parts.has(p.index))) return parts;
  const source = openSource(plan.entry);
  try {
    for (const spec of plan.parts) {
      if (parts.has(spec.index)) continue;
      const cost = partCost(plan, spec.length);
      await o.budget.acquire(cost, o.signal);
      let buffer = o.buffers.get(spec.length, plan.chunkSize);
      try {
        const r = await o.pool.run(partJob(plan, spec, buffer, o, source), o.signal);
        buffer = r.buffer;
        parts.set(spec.index, { size: r.size, md5: r.md5 });
      } finally {
        o.buffers.put(buffer);
        o.budget.release(cost);
      }
    }
    source.check();
  } finally {
    source.close();
  }
  return parts;
}

/**
 * Throws UA_ERR_VERIFY, one line naming the file and the first part that differs, unless `remote`
 * holds exactly the parts of `source`. A remote part without an MD5 (direct mode's parts checked by
 * CRC-32; the object's MD5 was checked whole) is compared by size.
 */
export function verifyParts(
  fileId: string,
  source: ReadonlyMap<number, DonePart>,
  remote: ReadonlyMap<number, DonePart>,
): void {
  const fail = (index: number, detail: string) =>
    new UaError('UA_ERR_VERIFY', `verification failed for ${fileId} part ${index}: ${detail}`);
  for (const index of [...source.keys()].sort((a, b) => a - b)) {
    const want = source.get(index)!;
    const got = remote.get(index);
    if (!got || got.size !== want.size || (got.md5 !== '' && got.md5 !== want.md5)) {
      throw fail(
        index,
        `local source has ${want.size} bytes md5 ${want.md5}, platform has ${got ? `${got.size} bytes md5 ${got.md5}` : 'no complete part'}`,
      );
    }
  }
  for (const index of [...remote.keys()].sort((a, b) => a - b)) {
    if (!source.has(index)) {
      const got = remote.get(index)!;
      throw fail(index, `platform has ${got.size} bytes md5 ${got.md5}, the local source has no such part`);
    }
  }
}

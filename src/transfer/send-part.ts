/**
 * One part through the pipeline's last two stages: read + hash (+ compress) in the worker pool, then
 * the destination's uploadPart, holding its bytes in the byte budget meanwhile. A part an earlier run
 * left on the destination is re-read and compared first, and sent only if it differs.
 */
import type { EventSink } from '../accounting/events.js';
import type { PartSpec } from '../plan/parts.js';
import type { ByteBudget } from '../read/budget.js';
import type { SentPartRecords } from '../state/journal.js';
import type { Compressor } from '../work/compressors.js';
import { DEFAULT_COMPRESSOR, MIN_MEMBER_SIZE } from '../work/gzip.js';
import { CLASSIC_LEVEL } from '../work/upstream-zlib.js';
import type { PartPool, PartResult } from '../work/pool.js';
import type { BufferCache } from './buffer-cache.js';
import type { DonePart } from './destination.js';
import { partCost, partJob } from './part-job.js';
import type { FileState, WorkItem } from './work-item.js';

export interface PartSenderOptions {
  pool: PartPool;
  budget: ByteBudget;
  compressLevel: number;
  /** Which deflate compresses parts (work/gzip.ts); the workers' default when unset. */
  compressor?: Compressor;
  /** Non-last compressed parts are padded up to this (the platform's minimum part size). */
  minPartSize: number;
  events: EventSink;
  /** Source MD5s of compressed parts sent (state/journal.ts), for a cheap check on a rerun. */
  records?: SentPartRecords;
}

export class PartSender {
  readonly #o: PartSenderOptions;
  readonly #buffers: BufferCache;

  constructor(o: PartSenderOptions, buffers: BufferCache) {
    this.#o = o;
    this.#buffers = buffers;
  }

  /** Reads, hashes (and compresses) one part in the pool and sends it; or proves a resumed part is there. */
  async send({ fs, spec, buffered, check }: WorkItem, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const buffers = this.#buffers;
    const plan = fs.sf.plan;
    const remote = fs.prepared!.file;
    const part = spec ?? {
      index: buffered!.index,
      offset: 0,
      length: buffered!.length,
      last: buffered!.last,
    };
    const { index, length } = part;
    const cost = partCost(plan, length);
    if (!buffered) await o.budget.acquire(cost, signal);
    let buffer = buffered?.buffer ?? buffers.get(length, plan.chunkSize);
    // The source MD5 of a compressed part is kept so that a rerun can check it cheaply (state/journal.ts).
    const record = plan.compress && !buffered ? o.records : undefined;
    const job = () => ({
      ...partJob(plan, part, buffer, o, fs.source),
      digest: remote.partDigest,
      ...(record ? { rawMd5: true } : {}),
    });
    try {
      let r: PartResult | undefined;
      if (check) {
        const c = await this.#checkResumed(fs, part, check, buffer, signal);
        buffer = c.buffer;
        if (c.same) {
          fs.sent.set(index, check);
          return;
        }
        r = c.result;
        o.events({
          type: 'part-unverified',
          order: plan.entry.order,
          fileId: remote.fileId,
          index,
          localPath: plan.entry.localPath,
          compressed: plan.compress,
          size: check.size,
          md5: check.md5,
        });
      }
      r ??= await o.pool.run(job(), signal);
      buffer = r.buffer;
      await remote.uploadPart({ index, data: r.data, size: r.size, md5: r.md5, crc32: r.crc32 }, signal);
      if (record && r.rawMd5)
        record.recordSentPart(remote.fileId, index, { size: r.size, md5: r.md5, rawMd5: r.rawMd5 });
      fs.sent.set(index, { size: r.size, md5: r.md5 });
      if (!check) fs.rawBytes += length;
      fs.sentBytes += r.size;
      o.events({
        type: 'part-done',
        order: plan.entry.order,
        fileId: remote.fileId,
        index,
        rawBytes: length,
        sentBytes: r.size,
        ...(check ? { resent: true } : {}),
      });
    } finally {
      if (buffered) {
        buffered.buffer = buffer;
        buffered.release();
      } else {
        buffers.put(buffer);
        o.budget.release(cost);
      }
    }
  }

  /**
   * Whether the local bytes of `part` are the part `done` an earlier run left on the destination.
   * Uncompressed: their MD5. Compressed: the source MD5 recorded when this machine sent the part (one
   * MD5 pass), else the part compressed again and compared (gzip is deterministic for one compressor
   * and level): as this run sends it; then, if that differs and the classic form could differ from it,
   * as ua before libdeflate and one-member padding sent it: node:zlib, padded with 20-byte members
   * (gzip.ts); then as the classic agent sent it: upstream zlib at level 6, the same padding, its
   * platform's OS byte (upstream-zlib.ts; node:zlib is Chromium's zlib, whose bytes differ). Each
   * remake costs a compression of the part, and happens only for a part whose MD5 did not match. A
   * part made by any other compressor is sent again. `result`, when given, holds the bytes to send.
   */
  async #checkResumed(
    fs: FileState,
    part: Pick<PartSpec, 'index' | 'offset' | 'length' | 'last'>,
    done: DonePart,
    buffer: ArrayBuffer,
    signal: AbortSignal,
  ): Promise<{ same: boolean; buffer: ArrayBuffer; result?: PartResult }> {
    const o = this.#o;
    const plan = fs.sf.plan;
    const fileId = fs.prepared!.file.fileId;
    const base = partJob(plan, part, buffer, o, fs.source);
    const rec = plan.compress ? o.records?.sentPart(fileId, part.index) : undefined;
    if (rec && rec.md5 === done.md5 && rec.size === done.size) {
      const r = await o.pool.run({ ...base, compress: false, digest: 'md5' }, signal);
      return { same: r.md5 === rec.rawMd5, buffer: r.buffer };
    }
    const r = await o.pool.run(
      { ...base, digest: 'md5', ...(plan.compress && o.records ? { rawMd5: true } : {}) },
      signal,
    );
    if (r.md5 === done.md5 && r.size === done.size) return { same: true, buffer: r.buffer };
    // The classic form differs from this run's with another compressor, or for a padded part (a
    // non-last one within a member of the minimum); a classic non-last part is at least the minimum.
    const otherCompressor = (o.compressor ?? DEFAULT_COMPRESSOR) !== 'zlib';
    const maybePadded = !part.last && r.size < o.minPartSize + MIN_MEMBER_SIZE;
    const couldBeClassic = part.last || done.size >= o.minPartSize;
    if (!plan.compress || !couldBeClassic) return { same: false, buffer: r.buffer, result: r };
    // `r` is dropped to stay within the part's budget; a part that is none of these is compressed again.
    let buf = r.buffer;
    if (otherCompressor || maybePadded) {
      const c = await o.pool.run(
        {
          ...partJob(plan, part, buf, o, fs.source),
          digest: 'md5',
          compressor: 'zlib',
          padding: 'classic',
        },
        signal,
      );
      if (c.md5 === done.md5 && c.size === done.size) return { same: true, buffer: c.buffer };
      buf = c.buffer;
    }
    const u = await o.pool.run(
      {
        ...partJob(plan, part, buf, o, fs.source),
        digest: 'md5',
        level: CLASSIC_LEVEL,
        compressor: 'upstream-zlib',
        padding: 'classic',
        expect: { size: done.size, md5: done.md5 },
      },
      signal,
    );
    return { same: u.md5 === done.md5 && u.size === done.size, buffer: u.buffer };
  }
}

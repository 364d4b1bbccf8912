/**
 * The whole-object MD5 of a direct upload, computed on the way. MD5 is sequential but parts are sent
 * out of order, so each part's bytes are fed in index order: a part whose predecessors are not hashed
 * yet waits (its upload proceeds meanwhile), then is hashed before its buffer goes back to the
 * scheduler. Nothing is copied or held beyond the parts already in flight, so memory stays within the
 * scheduler's byte budget. The parts are hashed on the main thread in 4 MiB slices with a yield
 * between slices, so sockets keep flowing. The bytes hashed are the bytes stored (the gzip members
 * when compressing), so the MD5 is the stored object's.
 *
 * This is the one MD5 pass over a multipart object's bytes: the workers compute only the cloud's
 * cheap per-part check (S3 CRC32) or none (Azure blocks), and a one-part object takes its part's MD5
 * from the worker without coming here (direct/destination.ts). Native MD5 runs at ~0.6 GB/s on one
 * core here (1.67 s/GB), the largest item of ua's client CPU in direct mode; one file's object MD5
 * caps that file at that rate, and all files together share the main thread: above ~0.5 GB/s links,
 * moving this hash to a worker per file (the part buffers are SharedArrayBuffers, so a worker could
 * read them in place) is the next step.
 *
 * Why not re-read the local file after the upload: it costs a second read pass, adds its time after
 * the last part instead of overlapping it, and cannot give the MD5 of compressed bytes without
 * compressing again.
 */
import { createHash, type Hash } from 'node:crypto';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { AbortedError } from '../../errors.js';

const SLICE = 4 * 1024 * 1024;

export class OrderedMd5 {
  readonly #hash: Hash = createHash('md5');
  #next = 1;
  #bytes = 0;
  #failed?: Error;
  readonly #waiters = new Map<number, { resolve(): void; reject(err: Error): void }>();

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Waits until every index below `index` was added, then hashes `data`. Resolves once `data` is no
   * longer read (the caller may then reuse its buffer). Rejects if the hash failed or `signal` aborts.
   */
  async add(index: number, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (index < this.#next) throw new RangeError(`part ${index} was already hashed (next is ${this.#next})`);
    while (this.#next !== index) {
      if (this.#failed) throw this.#failed;
      if (this.#waiters.has(index)) throw new RangeError(`part ${index} is already waiting to be hashed`);
      await this.#turn(index, signal);
    }
    if (this.#failed) throw this.#failed;
    for (let off = 0; off < data.length; off += SLICE) {
      if (off > 0) await yieldNow();
      this.#hash.update(data.subarray(off, Math.min(off + SLICE, data.length)));
    }
    this.#bytes += data.length;
    this.#next++;
    const w = this.#waiters.get(this.#next);
    this.#waiters.delete(this.#next);
    w?.resolve();
  }

  /** Stops the hash: every waiting and later add() rejects with `err` (one failed part fails the file). */
  fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiters.values()) w.reject(this.#failed);
    this.#waiters.clear();
  }

  /** Hex MD5 of everything added. Call once, after the last part. */
  digest(): string {
    if (this.#failed) throw this.#failed;
    return this.#hash.digest('hex');
  }

  #turn(index: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError());
      const onAbort = () => {
        this.#waiters.delete(index);
        reject(new AbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.set(index, {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
    });
  }
}

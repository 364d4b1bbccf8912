/**
 * The hash/compress stage: a piscina pool running `part-task` on worker threads. Part buffers are
 * moved into the worker and back, or shared (SharedArrayBuffer), never copied; the caller owns and
 * reuses them.
 *
 * Worker file: `part-task.js` next to this module (dist/src/work/ in the build). When this module
 * runs from TypeScript sources (vitest), there is no .js next to it, so the pool falls back to the
 * built `dist/src/work/part-task.js`: tests that use the pool need `npx tsc -p tsconfig.build.json`
 * first (test/unit/work/build-worker.ts does that when the build is missing or stale).
 */
import { existsSync } from 'node:fs';
import { defaultCompressThreads } from '../config/options.js';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FileChangedError, PartReadError } from '../errors.js';
import { needsPreparing, prepare, runPart, type PartTaskInput, type PartTaskOutput } from './part-task.js';

/** Parts up to this size are hashed on the calling thread (uncompressed / compressed). */
export const INLINE_MAX = 64 * 1024;
export const INLINE_GZIP_MAX = 8 * 1024;

/** One part to read, hash and maybe compress (the worker's input; fields documented there). */
export type PartJob = PartTaskInput;

export interface PartResult {
  /** Hex MD5 of `data`, the bytes to send ('' when the job asked for another digest). */
  md5: string;
  /** CRC-32 of `data`, when the job asked for digest `crc32`. */
  crc32?: number;
  size: number;
  /** The part's bytes: a view over `buffer`, or (compressed) a separate buffer. */
  data: Uint8Array;
  /** The job's buffer, handed back for reuse. */
  buffer: ArrayBuffer;
  /** Hex MD5 of the raw (uncompressed) bytes: always when not compressed, on request when compressed. */
  rawMd5?: string;
}

export function partTaskFile(): string {
  const beside = fileURLToPath(new URL('./part-task.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = fileURLToPath(new URL('../../dist/src/work/part-task.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`part worker not found at ${beside} or ${built}; run npx tsc -p tsconfig.build.json`);
}

/**
 * Piscina loads the task file with require() first and falls back to import(). On Node 20.19+ that
 * require() loads ESM synchronously, and it can race an import() of the same graph in flight (seen
 * as a V8 fatal "IsGraphAsync must be used on an instantiated module", nodejs/node#55782). Turning
 * require(esm) off in the workers makes require() fail at once, so only import() loads it.
 */
function workerExecArgv(): string[] {
  const flag = '--no-experimental-require-module';
  return process.allowedNodeEnvironmentFlags.has(flag) ? [...process.execArgv, flag] : process.execArgv;
}

export class PartPool {
  readonly threads: number;
  readonly #pool: Piscina<PartTaskInput, PartTaskOutput>;
  #onLibdeflateError?: (reason: string) => void;

  /**
   * `threads` defaults to `defaultCompressThreads()`: min(8, cores). `onLibdeflateError` hears, once,
   * why libdeflate could not be loaded when a part asked for it (the part then is node:zlib's).
   */
  constructor(o: { threads?: number; filename?: string; onLibdeflateError?: (reason: string) => void } = {}) {
    this.#onLibdeflateError = o.onLibdeflateError;
    this.threads = Math.max(1, Math.floor(o.threads ?? defaultCompressThreads()));
    this.#pool = new Piscina({
      filename: o.filename ?? partTaskFile(),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000,
      execArgv: workerExecArgv(),
    });
  }

  async run(job: PartJob, signal?: AbortSignal): Promise<PartResult> {
    if (job.length > job.buffer.byteLength)
      throw new RangeError(`part length ${job.length} exceeds its buffer (${job.buffer.byteLength} bytes)`);
    const input: PartTaskInput = { ...job };
    let out: PartTaskOutput;
    if (job.length <= (job.compress ? INLINE_GZIP_MAX : INLINE_MAX)) {
      // A tiny part costs less to read and hash here than a round trip to a worker (measured on
      // 10,000 × 4 KiB: see bench/README.md); it blocks the event loop for tens of microseconds.
      signal?.throwIfAborted();
      if (needsPreparing(input)) await prepare(input);
      out = runPart(input);
    } else
      out = await this.#pool.run(input, {
        // A SharedArrayBuffer is shared, not moved (and cannot be in a transfer list).
        transferList: job.buffer instanceof ArrayBuffer ? [job.buffer] : [],
        signal,
      });
    if (out.ok && out.libdeflateError !== undefined && this.#onLibdeflateError) {
      const say = this.#onLibdeflateError;
      this.#onLibdeflateError = undefined;
      say(out.libdeflateError);
    }
    if (!out.ok) {
      if (out.name === 'FileChangedError')
        throw new FileChangedError(out.path ?? job.path ?? '', out.detail ?? out.message);
      if (out.code !== undefined) throw new PartReadError(job.path ?? '', out.code, out.message);
      throw Object.assign(new Error(out.message), { name: out.name });
    }
    const data = out.compressed ? new Uint8Array(out.compressed) : new Uint8Array(out.buffer, 0, job.length);
    return {
      md5: out.md5,
      ...(out.crc32 !== undefined ? { crc32: out.crc32 } : {}),
      size: out.size,
      data,
      buffer: out.buffer,
      rawMd5: out.rawMd5,
    };
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}

/**
 * Worker-thread side of the part pool: read one part of a file, or assemble it from segments (a tar
 * batch: headers, padding and member files), or take bytes already in the buffer; MD5 it and
 * optionally gzip it. Buffers travel by transfer (or are shared), never by copy.
 *
 * Failures are returned as values, not thrown, so the error's name survives the thread boundary
 * (structured clone keeps only standard error names) and the buffer still comes back.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Piscina } from 'piscina';
import {
  compressPart,
  DEFAULT_COMPRESSOR,
  effectiveCompressor,
  libdeflateLoadError,
  loadDeflater,
  needsLoad,
  type Deflater,
  type Padding,
} from './gzip.js';
import { identityChange, type PlannedIdentity } from './identity.js';

/** A piece of a part given as segments, in order (a tar batch: read/tar-source.ts). */
export type PartSegment =
  /** These bytes (a tar header); structured clone copies them to the worker, so keep them small. */
  | { bytes: Uint8Array }
  /** That many zero bytes (padding to a 512-byte block, the archive's end). */
  | { zeros: number }
  /**
   * `length` bytes at `offset` of the file `file`, opened here for this part only and checked to be
   * the planned version `identity` before it is read; `path` names it in messages.
   */
  | { file: string; path: string; identity: PlannedIdentity; offset: number; length: number };

export interface PartTaskInput {
  /**
   * Read `length` bytes at `offset` from this open descriptor (read/source.ts: one per file, shared by
   * the worker threads, positioned reads only); without it the bytes are already in `buffer`.
   */
  fd?: number;
  /** Instead of `fd`: the part's bytes as segments whose lengths add up to `length` (`offset` is then unused). */
  segments?: PartSegment[];
  /** The file's path, for messages only. */
  path?: string;
  offset: number;
  length: number;
  /** At least `length` bytes; moved to the worker and returned in the result. */
  buffer: ArrayBuffer;
  compress: boolean;
  level: number;
  last: boolean;
  minPartSize: number;
  /** Which deflate implementation compresses (gzip.ts); by default libdeflate, node:zlib if it cannot load. */
  compressor?: Deflater;
  /**
   * The part an earlier run left on the destination, when this job remakes the classic agent's form
   * of it (compressor `upstream-zlib`, padding `classic`) to compare: see gzip.ts's compressPart.
   */
  expect?: { size: number; md5: string };
  /** How a short non-last compressed part is padded (gzip.ts): `single` (the default) or `classic`. */
  padding?: Padding;
  /** Also hash the raw bytes when compressing (costs one more MD5 pass over the part). */
  rawMd5?: boolean;
  /**
   * The checksum of the bytes to send: `md5` (the default; the platform and Content-MD5 need it),
   * `crc32` (a cheap per-part check the cloud verifies, when the whole-object MD5 is computed
   * elsewhere: direct multipart uploads), or `none`. Without md5, `md5` in the output is ''.
   */
  digest?: PartDigest;
}

export type PartDigest = 'md5' | 'crc32' | 'none';

export type PartTaskOutput =
  | {
      ok: true;
      md5: string;
      /** With digest `crc32`: the CRC-32 (zlib's, as S3's CRC32 checksum) of the bytes to send. */
      crc32?: number;
      size: number;
      buffer: ArrayBuffer;
      compressed?: ArrayBuffer;
      rawMd5?: string;
      /** Why libdeflate, asked for, could not be loaded in the thread that compressed with node:zlib instead. */
      libdeflateError?: string;
    }
  | {
      ok: false;
      name: string;
      message: string;
      /** The system error code (ENOENT, EACCES, EISDIR …), which structured clone would drop. */
      code?: string;
      path?: string;
      detail?: string;
      buffer: ArrayBuffer;
    };

class FileChanged extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'FileChangedError';
  }
}

/** Fills `view` from `offset`; a file that ends early changed after it was planned. */
function readRange(fd: number, path: string, view: Uint8Array, offset: number): void {
  let got = 0;
  while (got < view.length) {
    const n = readSync(fd, view, got, view.length - got, offset + got);
    if (n === 0)
      throw new FileChanged(
        path,
        `it ended at ${offset + got} bytes while reading ${view.length} bytes at offset ${offset}`,
      );
    got += n;
  }
}

/** A member file's bytes: opened, checked to be the planned version, read, closed. */
function readMember(s: Extract<PartSegment, { file: string }>, into: Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(s.file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileChanged(s.path, `it is gone (${code})`);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const change = identityChange(s.identity, {
      size: st.size,
      mtimeMs: st.mtimeMs,
      dev: st.dev,
      ino: st.ino,
      ctimeMs: st.ctimeMs,
    });
    if (change) throw new FileChanged(s.path, change);
    readRange(fd, s.path, into, s.offset);
  } finally {
    closeSync(fd);
  }
}

/** Fills `view` from `segments`, which must hold exactly its length. */
function readSegments(segments: readonly PartSegment[], view: Uint8Array): void {
  let at = 0;
  for (const s of segments) {
    const n = 'bytes' in s ? s.bytes.length : 'zeros' in s ? s.zeros : s.length;
    if (at + n > view.length) throw new RangeError(`part segments hold more than its ${view.length} bytes`);
    const into = view.subarray(at, at + n);
    if ('bytes' in s) into.set(s.bytes);
    else if ('zeros' in s)
      into.fill(0); // the buffer is reused: zeros must be written
    else readMember(s, into);
    at += n;
  }
  if (at !== view.length) throw new RangeError(`part segments hold ${at} of its ${view.length} bytes`);
}

/** An ArrayBuffer holding exactly `b`: zlib's small outputs live in Node's shared pool, which must never be transferred. */
function ownBuffer(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer)
    return b.buffer;
  const copy = new ArrayBuffer(b.byteLength);
  new Uint8Array(copy).set(b);
  return copy;
}

/** Wraps the result so piscina transfers every buffer in it back to the main thread. */
function moved(value: PartTaskOutput): PartTaskOutput {
  // A SharedArrayBuffer (the scheduler's part buffers) is shared, never moved.
  const list: ArrayBuffer[] = value.buffer instanceof ArrayBuffer ? [value.buffer] : [];
  if (value.ok && value.compressed) list.push(value.compressed);
  return Piscina.move({ [Piscina.transferableSymbol]: list, [Piscina.valueSymbol]: value } as never) as never;
}

/**
 * The worker entry: the part's result, with its buffers moved back to the main thread. Async only for
 * the first part this thread compresses with libdeflate, which loads it (gzip.ts); every other part
 * is answered at once.
 */
export default function partTask(job: PartTaskInput): PartTaskOutput | Promise<PartTaskOutput> {
  if (needsPreparing(job)) return prepare(job).then(() => moved(runPart(job)));
  return moved(runPart(job));
}

/** Whether runPart(job) in this thread must first await prepare(job). */
export function needsPreparing(job: PartTaskInput): boolean {
  return job.compress && job.length > 0 && needsLoad(job.compressor ?? DEFAULT_COMPRESSOR);
}

/** Loads what runPart(job) needs in this thread when needsPreparing(job): its deflater's module (once). */
export function prepare(job: PartTaskInput): Promise<void> {
  return loadDeflater(job.compressor ?? DEFAULT_COMPRESSOR);
}

function digestOf(data: Uint8Array, digest: PartDigest = 'md5'): { md5: string; crc32?: number } {
  if (digest === 'md5') return { md5: createHash('md5').update(data).digest('hex') };
  if (digest === 'crc32') return { md5: '', crc32: crc32(data) };
  return { md5: '' };
}

/** Reads, hashes and (maybe) compresses one part on the calling thread, after prepare(job) if needsPreparing(job). */
export function runPart(job: PartTaskInput): PartTaskOutput {
  try {
    const view = new Uint8Array(job.buffer, 0, job.length);
    if (job.segments) readSegments(job.segments, view);
    else if (job.fd !== undefined) readRange(job.fd, job.path ?? `fd ${job.fd}`, view, job.offset);
    if (job.compress && job.length > 0) {
      const rawMd5 = job.rawMd5 ? createHash('md5').update(view).digest('hex') : undefined;
      const data = compressPart(view, job);
      const fellBack =
        (job.compressor ?? DEFAULT_COMPRESSOR) === 'libdeflate' &&
        effectiveCompressor('libdeflate') !== 'libdeflate';
      return {
        ok: true,
        ...digestOf(data, job.digest),
        size: data.length,
        buffer: job.buffer,
        compressed: ownBuffer(data),
        rawMd5,
        ...(fellBack ? { libdeflateError: libdeflateLoadError() } : {}),
      };
    }
    const d = digestOf(view, job.digest);
    return { ok: true, ...d, size: job.length, buffer: job.buffer, ...(d.md5 ? { rawMd5: d.md5 } : {}) };
  } catch (err) {
    const e = err as Error;
    const fc = err instanceof FileChanged ? { path: err.path, detail: err.detail } : {};
    return {
      ok: false,
      name: e?.name ?? 'Error',
      message: e?.message ?? String(err),
      ...(typeof (err as { code?: unknown })?.code === 'string'
        ? { code: (err as { code: string }).code }
        : {}),
      ...fc,
      buffer: job.buffer,
    };
  }
}

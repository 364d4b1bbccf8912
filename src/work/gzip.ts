/**
 * Part compression in the classic agent's format (ua-behavior §2.4): every part is one independent
 * gzip member, so the uploaded object is a multi-member gzip; a non-last part under the platform's
 * minimum part size is padded up to it with a gzip member that decompresses to nothing.
 *
 * Padding: the classic agent appends copies of the 20-byte gzip of the empty string, up to 262,144
 * members per part, which decoders walk one by one (zcat ~7 s of CPU per 20 MB of padding; Python's
 * gzip.decompress copies the rest of the input per member and never finishes). ua pads with ONE
 * member of exactly the missing length instead (paddingMember): the ordinary 10-byte header, a
 * deflate stream of empty stored blocks (the 5 bytes `00 00 00 ff ff` each, what zlib's
 * Z_SYNC_FLUSH writes) closed by a final empty block, and the empty stream's trailer (CRC 0, size 0).
 * Every inflater reads stored blocks; 1 MiB of them costs zcat ~3 ms. `padding: 'classic'` still
 * builds the classic form, to recognise a part the classic agent sent (resume) and for the bench.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Compressor } from './compressors.js';
import { loadUpstreamZlib, matchOsByte, upstreamGzipMember, upstreamZlibLoaded } from './upstream-zlib.js';

/** zlib's 1 MiB output chunks are ~40% faster than the 16 KiB default on 64 MiB parts. */
const CHUNK = 1024 * 1024;

/** gzip of the empty string with zlib defaults on Unix (mtime 0, XFL 0, OS 3): the smallest member. */
export const EMPTY_GZIP_MEMBER: Buffer = Buffer.from(
  '1f8b0800000000000003' + '0300' + '00000000' + '00000000',
  'hex',
);

/** The smallest gzip member there is: header 10, empty deflate stream 2, trailer 8. */
export const MIN_MEMBER_SIZE = EMPTY_GZIP_MEMBER.length;

export type Padding = 'single' | 'classic';

// --- compressors -------------------------------------------------------------------------------

export { COMPRESSORS, type Compressor } from './compressors.js';

/**
 * What can compress a part: a compressor of `--compressor`, or `upstream-zlib`, upstream zlib's exact
 * bytes (upstream-zlib.ts), which only the resume check uses, to recognise the classic agent's parts.
 */
export type Deflater = Compressor | 'upstream-zlib';

type GzipFn = (input: Readonly<Uint8Array>, level?: number) => Uint8Array;

/**
 * libdeflate in this thread: undefined until loadLibdeflate() has settled, then its gzip or why it
 * could not be loaded (then node:zlib does its work).
 *
 * Loaded lazily, by the first part that asks for it, and only in the thread that compresses it: not
 * at import. A worker that only hashes, and every `--do-not-compress` run, never instantiates the
 * WebAssembly module, and no module of the worker's graph has a top-level await, which on Node 24 has
 * aborted a process ending its worker pools (V8 'Check failed: (location_) != nullptr'; V8 is known
 * to crash when a thread is terminated while a module's top-level await is pending).
 */
let libdeflate: { gzip?: GzipFn; error?: string } | undefined;
let loading: Promise<void> | undefined;

/** Loads libdeflate into this thread once; never rejects (a failure is kept for libdeflateLoadError). */
export function loadLibdeflate(): Promise<void> {
  return (loading ??= (async () => {
    // UA_COMPRESSOR=zlib: never load the WebAssembly module, in any thread (worker threads inherit
    // the environment), for hosts where WebAssembly is unwanted.
    if (process.env.UA_COMPRESSOR === 'zlib') {
      libdeflate = { error: 'not loaded (UA_COMPRESSOR=zlib)' };
      return;
    }
    try {
      const m = (await import('libdeflate')) as { gzip: GzipFn };
      // Instantiates the WASM module now, so that a failure shows here and not as a part's error.
      const probe = Buffer.from('@r\nACGT\n+\nFFFF\n');
      if (!gunzipSync(m.gzip(probe, 6)).equals(probe))
        throw new Error('its output does not gunzip to its input');
      libdeflate = { gzip: m.gzip };
    } catch (err) {
      libdeflate = { error: (err as Error)?.message ?? String(err) };
    }
  })());
}

/** Whether compressing with `deflater` in this thread must first await loadDeflater(deflater). */
export function needsLoad(deflater: Deflater): boolean {
  if (deflater === 'upstream-zlib') return !upstreamZlibLoaded();
  return deflater === 'libdeflate' && libdeflate === undefined;
}

/** Loads `deflater`'s module into this thread (once); node:zlib is always there. */
export function loadDeflater(deflater: Deflater): Promise<void> {
  if (deflater === 'upstream-zlib') return loadUpstreamZlib();
  return deflater === 'libdeflate' ? loadLibdeflate() : Promise.resolve();
}

/** Why libdeflate is unavailable in this thread; undefined when it loaded or was not tried yet. */
export function libdeflateLoadError(): string | undefined {
  return libdeflate?.error;
}

/**
 * The compressor that does the work in this thread when `wanted` is asked for: libdeflate falls back
 * to node:zlib when it could not be loaded (after loadLibdeflate()).
 */
export function effectiveCompressor(wanted: Compressor): Compressor {
  return wanted === 'libdeflate' && libdeflate?.error !== undefined ? 'zlib' : wanted;
}

/** What a job that names no compressor asks for: libdeflate (node:zlib if it cannot load). */
export const DEFAULT_COMPRESSOR: Compressor = 'libdeflate';

/** zlib's header byte XFL for `level` (2: best, 4: fastest, else 0); the OS byte is 3 (Unix). */
function zlibXfl(level: number): number {
  return level >= 9 ? 2 : level < 2 ? 4 : 0;
}

/**
 * One complete gzip member of `data` at `level` (1–9). Both compressors write zlib's header (mtime 0,
 * no name, zlib's XFL, OS 3), so their members differ only in the deflate stream.
 */
export function gzipMember(data: Uint8Array, level: number, compressor: Deflater = 'zlib'): Buffer {
  if (compressor === 'upstream-zlib') return upstreamGzipMember(data, level);
  if (needsLoad(compressor))
    throw new Error('libdeflate is not loaded in this thread: await loadLibdeflate() first');
  if (compressor === 'libdeflate' && libdeflate?.gzip) {
    const out = libdeflate.gzip(data, level);
    const b = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    b[8] = zlibXfl(level);
    b[9] = 3;
    return b;
  }
  return gzipSync(data, { level, chunkSize: CHUNK });
}

// --- padding -----------------------------------------------------------------------------------

/**
 * Bytes of padding that a compressed part of `length` bytes gets: none for the last part or one at
 * `minPart` already; else exactly what it lacks, but at least one smallest member (20 bytes), so a
 * part 1–19 bytes short ends up to 19 bytes over `minPart`.
 */
export function paddingLength(length: number, last: boolean, minPart: number): number {
  if (last || length >= minPart) return 0;
  return Math.max(MIN_MEMBER_SIZE, minPart - length);
}

/** How many classic 20-byte members a non-last part of `length` bytes needs to reach `minPart`. */
export function classicPaddingMembers(length: number, last: boolean, minPart: number): number {
  if (last || length >= minPart) return 0;
  return Math.ceil((minPart - length) / MIN_MEMBER_SIZE);
}

/** A non-final empty stored block: BFINAL 0, BTYPE 00, byte-aligned, LEN 0, NLEN 0xffff. */
const STORED_EMPTY = Buffer.from('000000ffff', 'hex');

/**
 * Final deflate tails of 2 to 6 bytes that decompress to nothing, so that 5 × blocks + tail covers
 * any length: [0] one final empty fixed-Huffman block (zlib's `03 00`); [1] two fixed blocks (10 bits
 * each); [2] three; [3] a final empty stored block; [4] a fixed block, then a final empty stored block.
 */
const TAILS = ['0300', '020c00', '02083000', '010000ffff', '020400' + '00ffff'].map((h) =>
  Buffer.from(h, 'hex'),
);

/** Writes into `out` at `at` one gzip member of exactly `size` (≥ 20) bytes that decompresses to nothing. */
export function writePaddingMember(out: Buffer, at: number, size: number): void {
  if (!Number.isInteger(size) || size < MIN_MEMBER_SIZE)
    throw new RangeError(`a gzip member takes at least ${MIN_MEMBER_SIZE} bytes, not ${size}`);
  const deflate = size - 18; // header 10 + trailer 8
  const blocks = Math.floor((deflate - 2) / 5);
  const tail = TAILS[(deflate - 2) % 5];
  EMPTY_GZIP_MEMBER.copy(out, at, 0, 10);
  let p = at + 10;
  if (blocks > 0) out.fill(STORED_EMPTY, p, p + blocks * 5);
  p += blocks * 5;
  tail.copy(out, p);
  out.fill(0, p + tail.length, at + size); // CRC-32 and ISIZE of the empty string
}

/** One gzip member of exactly `size` (≥ 20) bytes that decompresses to nothing. */
export function paddingMember(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  writePaddingMember(out, 0, size);
  return out;
}

/**
 * Pads a non-last compressed part under `minPart`; returns the input when no padding is needed.
 * `single` (ua's): one member of the missing length. `classic`: the classic agent's 20-byte members.
 */
export function padPart(
  compressed: Buffer,
  last: boolean,
  minPart: number,
  padding: Padding = 'single',
): Buffer {
  if (padding === 'classic') return classicPadPart(compressed, last, minPart);
  const n = paddingLength(compressed.length, last, minPart);
  if (n === 0) return compressed;
  const out = Buffer.allocUnsafe(compressed.length + n);
  compressed.copy(out, 0);
  writePaddingMember(out, compressed.length, n);
  return out;
}

function classicPadPart(compressed: Buffer, last: boolean, minPart: number): Buffer {
  const n = classicPaddingMembers(compressed.length, last, minPart);
  if (n === 0) return compressed;
  const out = Buffer.allocUnsafe(compressed.length + n * MIN_MEMBER_SIZE);
  compressed.copy(out, 0);
  out.fill(EMPTY_GZIP_MEMBER, compressed.length);
  return out;
}

/**
 * What the workers do to a part: compress it into one member and pad it (part-task.ts). With `expect`
 * (upstream-zlib, classic padding: the classic agent's part), the OS byte of its headers is the one
 * of ZLIB_OS_CODES that gives the expected MD5, if one does.
 */
export function compressPart(
  data: Uint8Array,
  o: {
    level: number;
    last: boolean;
    minPartSize: number;
    compressor?: Deflater;
    padding?: Padding;
    expect?: { size: number; md5: string };
  },
): Buffer {
  const member = gzipMember(data, o.level, o.compressor ?? DEFAULT_COMPRESSOR);
  const part = padPart(member, o.last, o.minPartSize, o.padding);
  if (o.expect && o.compressor === 'upstream-zlib' && o.padding === 'classic')
    matchOsByte(part, member.length, o.expect);
  return part;
}

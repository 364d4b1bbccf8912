/**
 * The classic agent's compressed parts, byte for byte, to recognise them on resume (ua-behavior §2.4):
 * upstream zlib's `deflateInit2(6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY)` with one Z_FINISH, padded
 * with copies of the 20-byte gzip of the empty string, every header carrying the OS byte of the
 * platform the agent was built for.
 *
 * node:zlib cannot make these bytes: it is Chromium's fork of zlib, whose hash and match finder
 * choose other matches (another valid stream of the same data). pako with `legacyHash` is a port of
 * upstream zlib that writes its bytes exactly: against Python's zlib (the system's zlib 1.2.13),
 * FASTQ, random, text and zeros from 1 byte to 33 MiB gave identical members in 32 of 32 cases, where
 * node:zlib differed in 24. pako is loaded lazily, in the thread that needs it: only a resume that
 * finds a compressed part it cannot otherwise prove does, and it takes 2.6× node:zlib's time.
 */
import { createHash } from 'node:crypto';

type Pako = typeof import('pako');
let pako: Pako | undefined;
let loading: Promise<void> | undefined;

/** The classic agent's only level (Z_DEFAULT_COMPRESSION). */
export const CLASSIC_LEVEL = 6;

/**
 * OS bytes that zlib builds write (zutil.h's OS_CODE): 3 Unix (every Linux build), 19 macOS (zlib
 * 1.2.12 on), 7 Mac before that, 10 Windows (1.2.12 on), 11 and 0 Windows before that. The first
 * is tried first; the others only when a part's size already matches.
 */
export const ZLIB_OS_CODES: readonly number[] = [3, 19, 7, 10, 11, 0];

/** Loads pako into this thread once. */
export function loadUpstreamZlib(): Promise<void> {
  return (loading ??= import('pako').then((m) => {
    pako = m;
  }));
}

export function upstreamZlibLoaded(): boolean {
  return pako !== undefined;
}

/** One gzip member of `data` as upstream zlib writes it at `level` (OS byte 3). */
export function upstreamGzipMember(data: Uint8Array, level: number): Buffer {
  if (!pako) throw new Error('pako is not loaded in this thread: await loadUpstreamZlib() first');
  const out = pako.gzip(data, { level, windowBits: 15, memLevel: 8, legacyHash: true, chunkSize: 1 << 20 });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * `part` is a classic part (a member of `memberLength` bytes, then 20-byte padding members) made with
 * OS byte 3; when its MD5 is not `md5` but `part` has the expected size, tries the other OS bytes
 * (written into `part`, in every member's header) and leaves the first whose MD5 is `md5`. Returns
 * whether one matched; without a match `part` is left as it was made.
 */
export function matchOsByte(
  part: Buffer,
  memberLength: number,
  expected: { size: number; md5: string },
): boolean {
  if (part.length !== expected.size) return false;
  const md5 = () => createHash('md5').update(part).digest('hex');
  const setOs = (os: number) => {
    part[9] = os;
    for (let at = memberLength; at + 20 <= part.length; at += 20) part[at + 9] = os;
  };
  for (const os of ZLIB_OS_CODES) {
    setOs(os);
    if (md5() === expected.md5) return true;
  }
  setOs(ZLIB_OS_CODES[0]);
  return false;
}

/**
 * Part compression in the classic agent's format (ua-behavior §2.4): every part is one independent
 * gzip member, so the uploaded object is a multi-member gzip; non-last parts are padded with empty
 * members up to the platform's minimum part size.
 */
import { gzipSync } from 'node:zlib';

/** zlib's 1 MiB output chunks are ~40% faster than the 16 KiB default on 64 MiB parts. */
const CHUNK = 1024 * 1024;

/** gzip of the empty string with zlib defaults on Unix (mtime 0, XFL 0, OS 3). */
export const EMPTY_GZIP_MEMBER: Buffer = Buffer.from(
  '1f8b0800000000000003' + '0300' + '00000000' + '00000000',
  'hex',
);

export function gzipMember(data: Uint8Array, level: number): Buffer {
  return gzipSync(data, { level, chunkSize: CHUNK });
}

/** How many empty members a non-last part of `length` bytes needs to reach `minPart`. */
export function paddingMembers(length: number, last: boolean, minPart: number): number {
  if (last || length >= minPart) return 0;
  return Math.ceil((minPart - length) / EMPTY_GZIP_MEMBER.length);
}

/** Appends empty members to a non-last part under `minPart`; returns the input when none are needed. */
export function padPart(compressed: Buffer, last: boolean, minPart: number): Buffer {
  const n = paddingMembers(compressed.length, last, minPart);
  if (n === 0) return compressed;
  const out = Buffer.allocUnsafe(compressed.length + n * EMPTY_GZIP_MEMBER.length);
  compressed.copy(out, 0);
  // Copy the first member, then double the filled run: log2(n) copies instead of n.
  const start = compressed.length;
  EMPTY_GZIP_MEMBER.copy(out, start);
  let filled = EMPTY_GZIP_MEMBER.length;
  const total = n * EMPTY_GZIP_MEMBER.length;
  while (filled < total) {
    const k = Math.min(filled, total - filled);
    out.copy(out, start + filled, start, start + k);
    filled += k;
  }
  return out;
}

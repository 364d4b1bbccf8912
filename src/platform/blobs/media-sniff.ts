import type { BlobStore } from './blob-store.js';

/**
 * The media type the platform gives a file whose client sent none (dx upload sends no `media`),
 * inferred from its bytes at close. The choices follow the classic Upload Agent, which asks
 * libmagic (`file --brief --mime-type`, src/ua/mime.cpp) and sends what it says: `inode/x-empty`
 * for an empty file, `application/x-gzip` for gzip's magic, `text/plain` for text, and
 * `application/octet-stream` (the floor) for anything else. How far the real platform sniffs is
 * unconfirmed; this emulator reads the first SNIFF_BYTES only and knows no other formats.
 */
export const SNIFF_BYTES = 64 * 1024;

export const EMPTY_MEDIA = 'inode/x-empty';
export const FLOOR_MEDIA = 'application/octet-stream';

/** Media type of an object of `size` bytes that starts with `head` (all of it when it is small). */
export function inferMedia(head: Uint8Array, size: number): string {
  if (size === 0) return EMPTY_MEDIA;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'application/x-gzip';
  return looksLikeText(head, head.length < size) ? 'text/plain' : FLOOR_MEDIA;
}

/**
 * ASCII bytes libmagic counts as text (encoding.c's text_chars): BEL, BS, HT, LF, VT, FF, CR, ESC
 * and 0x20–0x7E. NUL, DEL and the other control characters make a file binary.
 */
function isTextByte(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || (b >= 0x07 && b <= 0x0d) || b === 0x1b;
}

/**
 * Text bytes and well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
 * `truncated`: the sample stops inside the file, so a sequence cut at its very end is not an error.
 */
export function looksLikeText(bytes: Uint8Array, truncated = false): boolean {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b < 0x80) {
      if (!isTextByte(b)) return false;
      i++;
      continue;
    }
    const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0) return false;
    if (i + n > bytes.length) return truncated && continuationsOk(bytes, i, bytes.length);
    if (!continuationsOk(bytes, i, i + n)) return false;
    i += n;
  }
  return true;
}

/** The continuation bytes of the sequence at `start` up to `end`, with the lead byte's range limits. */
function continuationsOk(bytes: Uint8Array, start: number, end: number): boolean {
  const lead = bytes[start];
  for (let j = start + 1; j < end; j++) {
    const c = bytes[j];
    // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and > U+10FFFF (F4).
    let lo = 0x80;
    let hi = 0xbf;
    if (j === start + 1) {
      if (lead === 0xe0) lo = 0xa0;
      else if (lead === 0xed) hi = 0x9f;
      else if (lead === 0xf0) lo = 0x90;
      else if (lead === 0xf4) hi = 0x8f;
    }
    if (c < lo || c > hi) return false;
  }
  return true;
}

/** Reads the start of an assembled object and infers its media type. */
export async function sniffObject(blobs: BlobStore, fileId: string, size: number): Promise<string> {
  if (size === 0) return EMPTY_MEDIA;
  const want = Math.min(size, SNIFF_BYTES);
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const chunk of blobs.openObject(fileId, { start: 0, end: want - 1 })) {
    const b = chunk as Buffer;
    chunks.push(b);
    got += b.length;
    if (got >= want) break;
  }
  return inferMedia(Buffer.concat(chunks, Math.min(got, want)), size);
}

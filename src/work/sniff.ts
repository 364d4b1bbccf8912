/**
 * Content sniffing from a file's first bytes: decides whether a file is already compressed (so it is
 * uploaded as is) and which media type to report. Replaces the classic agent's `file --mime-type`
 * subprocess; the media strings follow what `file` prints so "already compressed" media match.
 */
export interface Sniffed {
  compressed: boolean;
  /** Short name of the container/compression format, null when not compressed. */
  format: string | null;
  media: string;
}

interface Magic {
  format: string;
  media: string;
  bytes: readonly number[];
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

// Order matters only where one signature is a prefix of another (none today).
const MAGICS: readonly Magic[] = [
  { format: 'bzip2', media: 'application/x-bzip2', bytes: ascii('BZh') },
  { format: 'xz', media: 'application/x-xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { format: 'zstd', media: 'application/zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { format: 'zip', media: 'application/zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { format: 'cram', media: 'application/x-cram', bytes: ascii('CRAM') },
  { format: 'lz4', media: 'application/x-lz4', bytes: [0x04, 0x22, 0x4d, 0x18] },
  { format: '7z', media: 'application/x-7z-compressed', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { format: 'rar', media: 'application/x-rar', bytes: ascii('Rar!\x1a\x07') },
  { format: 'compress', media: 'application/x-compress', bytes: [0x1f, 0x9d] },
  { format: 'lzip', media: 'application/x-lzip', bytes: ascii('LZIP') },
];

const GZIP_MEDIA = 'application/x-gzip';
const FEXTRA = 0x04;

function startsWith(head: Uint8Array, bytes: readonly number[], at = 0): boolean {
  if (head.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[at + i] !== bytes[i]) return false;
  return true;
}

/** BGZF (bgzip, BAM) is gzip whose FEXTRA field holds a 'BC' subfield (SAM spec §4.1). */
function isBgzf(head: Uint8Array): boolean {
  if (head.length < 12 || (head[3] & FEXTRA) === 0) return false;
  const xlen = head[10] | (head[11] << 8);
  const end = Math.min(12 + xlen, head.length);
  for (let p = 12; p + 4 <= end;) {
    const slen = head[p + 2] | (head[p + 3] << 8);
    if (head[p] === 0x42 && head[p + 1] === 0x43) return true;
    p += 4 + slen;
  }
  return false;
}

/** True when the head looks like text: no NUL and at least 95% printable ASCII / valid UTF-8. */
function looksLikeText(head: Uint8Array): boolean {
  let good = 0;
  let i = 0;
  while (i < head.length) {
    const b = head[i];
    if (b === 0) return false;
    if (b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c || (b >= 0x20 && b < 0x7f)) {
      good++;
      i++;
      continue;
    }
    const n = b >= 0xf0 && b < 0xf5 ? 3 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xc2 && b < 0xe0 ? 1 : 0;
    if (n > 0) {
      let ok = true;
      let k = 1;
      for (; k <= n && i + k < head.length; k++) if ((head[i + k] & 0xc0) !== 0x80) ok = false;
      // A multibyte sequence cut by the end of the head still counts as text.
      if (ok) {
        good += k;
        i += k;
        continue;
      }
    }
    i++;
  }
  return good >= head.length * 0.95;
}

export function sniffCompression(head: Uint8Array): Sniffed {
  if (head.length === 0) return { compressed: false, format: null, media: '' };
  if (startsWith(head, [0x1f, 0x8b]))
    return { compressed: true, format: isBgzf(head) ? 'bgzf' : 'gzip', media: GZIP_MEDIA };
  for (const m of MAGICS)
    if (startsWith(head, m.bytes)) return { compressed: true, format: m.format, media: m.media };
  return {
    compressed: false,
    format: null,
    media: looksLikeText(head) ? 'text/plain' : 'application/octet-stream',
  };
}

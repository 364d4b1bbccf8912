/**
 * One entry → its FilePlan: compress or not, remote name, media, chunk size, parts, signature and
 * metadata (ua-behavior §2.3, §2.5, §4.1). Pure given the entry, the options and the first bytes.
 *
 * Compression is decided from the content's magic bytes (work/sniff.ts: gzip/BGZF/BAM, bzip2, xz,
 * zstd, zip, CRAM …) instead of the classic `file --mime-type` subprocess per file; the classic rule
 * is kept otherwise: compress = !--do-not-compress && !already compressed && size > 0, and the remote
 * name gets `.gz` iff compressing. stdin differs from the classic agent on purpose: it is sniffed from
 * its first chunk (classic always gzipped stdin, so a piped .gz became .gz.gz), "empty" means the
 * first chunk is empty, and its parts are cut as the stream is read (see parts.ts streamPartSize).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { UaOptions } from '../config/options.js';
import { sniffCompression } from '../work/sniff.js';
import type { UploadEntry } from './inputs.js';
import { effectiveChunkSize, partsOf, type PartSpec } from './parts.js';
import { duplicateCheck, fileSignature, SIGNATURE_PROPERTY } from './signature.js';

/** Everything decided about one file before its remote object is created. */
export interface FilePlan {
  entry: UploadEntry;
  compress: boolean;
  /** The name plus `.gz` iff compressing. */
  remoteName: string;
  /** `application/x-gzip` when compressing, else the sniffed media; '' for an empty file. */
  media: string;
  /** After the 10,000-part raise (stdin: the first part's size); the value the signature records. */
  chunkSize: number;
  /** Empty for stdin: its parts are cut as the stream is read. */
  parts: PartSpec[];
  /** `.system-fileSignature`; undefined for stdin. */
  signature?: string;
  /** User properties plus the signature (the signature wins over a user property of that name). */
  properties: Record<string, string>;
  tags: string[];
  types: string[];
  /** Undefined when not given or empty. */
  details?: unknown;
  hidden: boolean;
}

export function planFile(entry: UploadEntry, o: UaOptions, head: Uint8Array): FilePlan {
  const sniffed = sniffCompression(head);
  const empty = entry.stdin ? head.length === 0 : entry.size === 0;
  const compress = !o.doNotCompress && !sniffed.compressed && !empty;
  const chunkSize = entry.stdin ? o.chunkSize : effectiveChunkSize(entry.size, o.chunkSize);
  const signature = entry.stdin
    ? undefined
    : fileSignature(entry.size, entry.mtimeMs, compress, chunkSize, entry.canonicalPath);
  return {
    entry,
    compress,
    remoteName: compress ? `${entry.name}.gz` : entry.name,
    media: compress ? 'application/x-gzip' : empty ? '' : sniffed.media,
    chunkSize,
    parts: entry.stdin ? [] : partsOf(entry.size, chunkSize),
    signature,
    properties: signature ? { ...o.properties, [SIGNATURE_PROPERTY]: signature } : { ...o.properties },
    tags: [...o.tags],
    types: [...o.types],
    details: o.details,
    hidden: o.visibility === 'hidden',
  };
}

/** An entry with its project and, unless it is stdin (cut as it is read), its plan. */
export interface PlannedEntry {
  entry: UploadEntry;
  projectId: string;
  plan?: FilePlan;
}

/**
 * Every entry planned, in input order, then the duplicate-signature check (unless --do-not-resume):
 * the real run (index.ts) and --dry-run (preview.ts) alike. Throws the check's UsageError.
 */
export function planEntries(
  entries: readonly UploadEntry[],
  projectIdOf: (spec: string) => string,
  o: UaOptions,
): PlannedEntry[] {
  const planned = entries.map((entry) => ({
    entry,
    projectId: projectIdOf(entry.projectSpec),
    plan: entry.stdin ? undefined : planFile(entry, o, readHead(entry.absPath)),
  }));
  if (!o.doNotResume) duplicateCheck(planned.filter((p) => p.plan));
  return planned;
}

/** Up to the first `n` bytes of a file (fewer if it is shorter), for sniffing. */
export function readHead(absPath: string, n = 64 * 1024): Uint8Array {
  const fd = openSync(absPath, 'r');
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, got, n - got, got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

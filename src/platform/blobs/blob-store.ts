import type { Readable } from 'node:stream';

/**
 * Where the server keeps file bytes. Parts are stored as they arrive (each PUT under its own key,
 * so the database decides which attempt won); close assembles them into one final object that
 * downloads read (the disk store links the parts' bytes into it rather than copying them).
 * Implementations never hold a whole part in memory.
 */
export interface StoredPart {
  /** Opaque key for this stored attempt; the parts table records it. */
  key: string;
  size: number;
  md5: string;
}

export interface ExpectedPart {
  size: number;
  md5: string;
}

/** hex MD5 → the base64 form of the Content-MD5 header. */
export const md5Base64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** Lone UTF-16 surrogates (JSON may carry them): encodeURIComponent throws on them, so they become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The `Content-Disposition` of a download (RFC 6266 with RFC 5987's `filename*`): a quoted ASCII
 * fallback, where every character outside printable ASCII and every `"` and `\` is `_`, then the
 * exact name as percent-encoded UTF-8. The value is pure ASCII: Node refuses a header value outside
 * latin1 (ERR_INVALID_CHAR) and sends latin1 ones as single bytes, which clients read differently.
 */
export function contentDisposition(filename: string): string {
  const name = filename.replace(LONE_SURROGATE, '\uFFFD');
  const fallback = [...name].map((c) => (/^[\x20-\x7e]$/.test(c) && c !== '"' && c !== '\\' ? c : '_'));
  // encodeURIComponent leaves ' ( ) * as they are; RFC 5987's attr-char does not allow them.
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback.join('')}"; filename*=UTF-8''${encoded}`;
}

/** The body did not match what was signed; nothing was kept. */
export class PartMismatchError extends Error {
  constructor(
    readonly code: 'BadDigest' | 'IncompleteBody' | 'ExcessBody',
    message: string,
    readonly got: { size: number; md5?: string },
  ) {
    super(message);
    this.name = 'PartMismatchError';
  }
}

export interface ByteRange {
  start: number;
  /** inclusive */
  end: number;
}

export interface BlobStore {
  /**
   * Streams `body` to durable storage while counting and hashing; a store that keeps bytes in the
   * server's own database (blobs/inline.ts) has them durable once its WAL is synced, which every
   * caller does before it acknowledges a part (parts-http.ts) or an object (assembly.ts).
   * Resolves only when the bytes match `expected`; rejects with PartMismatchError (or the
   * stream's error) and keeps nothing.
   */
  putPart(fileId: string, index: number, body: Readable, expected: ExpectedPart): Promise<StoredPart>;
  /** Deletes one stored part attempt (a superseded or orphaned key); missing is fine. */
  deletePart(key: string): Promise<void>;
  /**
   * Makes the parts, in order, the file's final object, durably; returns its size and MD5 (null
   * when the store did not read the bytes to make it: each part's MD5 was checked when stored).
   * `whole` is the file's size and MD5 when they are already known (a single checked part). Once
   * it resolves the parts' keys may be deleted: the object no longer needs them.
   */
  assemble(
    fileId: string,
    partKeys: string[],
    whole?: { size: number; md5: string },
  ): Promise<{ size: number; md5: string | null }>;
  /** Size of the final object, or undefined when it is not assembled. */
  objectSize(fileId: string): Promise<number | undefined>;
  openObject(fileId: string, range?: ByteRange): Readable;
  /** Removes the final object and every stored part of the file. */
  deleteFile(fileId: string): Promise<void>;
}

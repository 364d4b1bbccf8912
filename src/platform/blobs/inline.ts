import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore, ByteRange, ExpectedPart, StoredPart } from './blob-store.js';
import { collectChecked } from './collect.js';

/**
 * Parts up to this size keep their bytes in the server's database instead of one file each.
 * Measured with 3,000 × 4 KiB uploads to ua-platform on the 2-core bench machine: a file per part
 * costs a create (ext4 inode allocation was 17% of the server's CPU), a write, an fdatasync, two
 * directory fsyncs, a link and an unlink, each a trip through the thread pool and back; a row in
 * the WAL that the answer waits to be synced anyway costs none of them. Keeping the parts in
 * memory instead (the cost of storage taken away altogether) moved the server from 7.0 to 4.2–4.9
 * CPU ms per file; rows in SQLite, to 4.7. Larger parts stay files: every byte in the WAL is
 * written again by a checkpoint, on the event loop, and a blob read back from SQLite is read whole.
 */
export const INLINE_PART_BYTES = 64 * 1024;

/** The small-blob table (store/inline-blobs.ts): rows in the same database as the file records. */
export interface InlineTable {
  putInlinePart(key: string, fileId: string, data: Buffer): void;
  inlinePartData(key: string): Buffer | undefined;
  deleteInlinePart(key: string): void;
  /** Moves a part's bytes to be the file's object, atomically; false when the part is not there. */
  promoteInlinePart(key: string, fileId: string): boolean;
  inlineObjectSize(fileId: string): number | undefined;
  inlineObjectData(fileId: string): Buffer | undefined;
  deleteInlineFile(fileId: string): void;
}

/** Keys of parts kept in the table; every other key is the wrapped store's. */
const INLINE_KEY = 'db:';
const isInline = (key: string) => key.startsWith(INLINE_KEY);

/**
 * A BlobStore that keeps small parts, and single-part objects made of one, as rows of `table`, and
 * hands everything else to `files` (the disk store). The rows are durable with the database: the
 * caller's sync of the WAL after recording the part (the PUT route) or the assembly (assembly.ts)
 * covers them, so they add no fdatasync of their own; a WAL is replayed in order, so no record can
 * survive a crash without the rows written before it. An object of several parts that include
 * small ones (a file whose last part is short) is made by `files`: the small parts are written out
 * to it first, so its segments are all files.
 */
export class InlineBlobStore implements BlobStore {
  /** Keys moved into their object by assemble, until the caller deletes them (assembly.ts does, next). */
  readonly #moved = new Set<string>();

  constructor(
    private readonly files: BlobStore,
    private readonly table: InlineTable,
    private readonly maxBytes = INLINE_PART_BYTES,
  ) {}

  async putPart(fileId: string, index: number, body: Readable, expected: ExpectedPart): Promise<StoredPart> {
    if (expected.size > this.maxBytes) return this.files.putPart(fileId, index, body, expected);
    const { chunks, size, md5 } = await collectChecked(body, expected);
    const key = `${INLINE_KEY}${fileId}.${index}-${randomBytes(6).toString('hex')}`;
    this.table.putInlinePart(key, fileId, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    return { key, size, md5 };
  }

  async deletePart(key: string): Promise<void> {
    // A part moved into its object has no row left: no statement (a write transaction) for it.
    if (this.#moved.delete(key)) return;
    if (isInline(key)) this.table.deleteInlinePart(key);
    else await this.files.deletePart(key);
  }

  async assemble(
    fileId: string,
    partKeys: string[],
    whole?: { size: number; md5: string },
  ): Promise<{ size: number; md5: string | null }> {
    if (partKeys.length === 1 && isInline(partKeys[0])) {
      const [key] = partKeys;
      // False when an earlier attempt moved it and stopped before the file was recorded as assembled.
      if (this.table.promoteInlinePart(key, fileId)) this.#moved.add(key);
      const size = this.table.inlineObjectSize(fileId);
      if (size === undefined) throw new Error(`part ${key} of ${fileId} is missing`);
      return { size, md5: whole?.md5 ?? null };
    }
    if (!partKeys.some(isInline)) return this.files.assemble(fileId, partKeys, whole);
    // Small parts among several: written out as file parts, so the object is all segments.
    const written: string[] = [];
    try {
      const keys: string[] = [];
      for (const [i, key] of partKeys.entries()) {
        if (!isInline(key)) {
          keys.push(key);
          continue;
        }
        const data = this.table.inlinePartData(key);
        if (!data) throw new Error(`part ${key} of ${fileId} is missing`);
        const stored = await this.files.putPart(fileId, i + 1, Readable.from([data]), {
          size: data.length,
          md5: md5Of(data),
        });
        written.push(stored.key);
        keys.push(stored.key);
      }
      return await this.files.assemble(fileId, keys, whole);
    } finally {
      // The object links the written parts' bytes (or failed): their own names are not needed.
      for (const key of written) await this.files.deletePart(key);
    }
  }

  async objectSize(fileId: string): Promise<number | undefined> {
    return this.table.inlineObjectSize(fileId) ?? this.files.objectSize(fileId);
  }

  openObject(fileId: string, range?: ByteRange): Readable {
    const data = this.table.inlineObjectData(fileId);
    if (!data) return this.files.openObject(fileId, range);
    const bytes = range ? data.subarray(range.start, range.end + 1) : data;
    return Readable.from(bytes.length ? [bytes] : []);
  }

  async deleteFile(fileId: string): Promise<void> {
    this.table.deleteInlineFile(fileId);
    await this.files.deleteFile(fileId);
  }
}

function md5Of(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

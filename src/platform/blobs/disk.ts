import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { md5OfFile } from './md5-offload.js';
import {
  PartMismatchError,
  type BlobStore,
  type ByteRange,
  type ExpectedPart,
  type StoredPart,
} from './blob-store.js';

/**
 * Blob store on the local disk under `<root>` (normally `<dataDir>/blobs`):
 *   parts/<fileId>/<index>-<random>   one file per accepted PUT attempt
 *   objects/<fileId>                  the assembled final object
 * Everything is written to a `.tmp` name, fsynced, renamed, and the directory fsynced, so a part
 * acknowledged with 200 (or an object reported closed) survives a restart or a crash.
 */
export class DiskBlobStore implements BlobStore {
  constructor(
    readonly root: string,
    private readonly opts: { fsync: boolean } = { fsync: true },
  ) {}

  private partsDir(fileId: string): string {
    return join(this.root, 'parts', safe(fileId));
  }

  private objectPath(fileId: string): string {
    return join(this.root, 'objects', safe(fileId));
  }

  async putPart(fileId: string, index: number, body: Readable, expected: ExpectedPart): Promise<StoredPart> {
    const dir = this.partsDir(fileId);
    await mkdir(dir, { recursive: true });
    const name = `${index}-${randomBytes(6).toString('hex')}`;
    const tmp = join(dir, `${name}.tmp`);
    let size = 0;
    let excess = false;
    try {
      await pipeline(
        body,
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            // Past the signed size: keep draining (so the client gets an answer) but store nothing.
            if (size > expected.size) {
              excess = true;
              continue;
            }
            yield chunk;
          }
        },
        createWriteStream(tmp, { highWaterMark: 1 << 20 }),
      );
      if (excess)
        throw new PartMismatchError('ExcessBody', `body is longer than the signed ${expected.size} bytes`, {
          size,
        });
      if (size !== expected.size) {
        throw new PartMismatchError('IncompleteBody', `received ${size} bytes, expected ${expected.size}`, {
          size,
        });
      }
      // Hash (on the helper thread) while the kernel flushes the same bytes to disk.
      const [md5] = await Promise.all([md5OfFile(tmp), this.syncFile(tmp)]);
      if (md5 !== expected.md5) {
        throw new PartMismatchError(
          'BadDigest',
          `the MD5 of the body (${md5}) is not the signed ${expected.md5}`,
          {
            size,
            md5,
          },
        );
      }
      await rename(tmp, join(dir, name));
      await this.syncDir(dir);
      return { key: `${safe(fileId)}/${name}`, size, md5 };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async deletePart(key: string): Promise<void> {
    await rm(join(this.root, 'parts', key), { force: true });
  }

  async assemble(fileId: string, partKeys: string[]): Promise<{ size: number; md5: string }> {
    const dir = join(this.root, 'objects');
    await mkdir(dir, { recursive: true });
    const final = this.objectPath(fileId);
    const tmp = `${final}.${randomBytes(4).toString('hex')}.tmp`;
    const hash = createHash('md5');
    let size = 0;
    const root = this.root;
    try {
      await pipeline(async function* concat() {
        for (const key of partKeys) {
          for await (const chunk of createReadStream(join(root, 'parts', key), { highWaterMark: 1 << 20 })) {
            const b = chunk as Buffer;
            size += b.length;
            hash.update(b);
            yield b;
          }
        }
      }, createWriteStream(tmp));
      await this.syncFile(tmp);
      await rename(tmp, final);
      await this.syncDir(dir);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { size, md5: hash.digest('hex') };
  }

  async objectSize(fileId: string): Promise<number | undefined> {
    try {
      return (await stat(this.objectPath(fileId))).size;
    } catch {
      return undefined;
    }
  }

  openObject(fileId: string, range?: ByteRange): Readable {
    return createReadStream(this.objectPath(fileId), {
      start: range?.start,
      end: range?.end,
      highWaterMark: 1 << 20,
    });
  }

  async deleteFile(fileId: string): Promise<void> {
    await rm(this.partsDir(fileId), { recursive: true, force: true });
    await rm(this.objectPath(fileId), { force: true });
  }

  private async syncFile(path: string): Promise<void> {
    if (!this.opts.fsync) return;
    const fh = await open(path, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private async syncDir(dir: string): Promise<void> {
    if (!this.opts.fsync) return;
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/** IDs are `class-` + a fixed alphabet, but never let a caller-supplied string escape the root. */
function safe(id: string): string {
  if (!/^[a-z]+-[0-9A-Za-z]+$/.test(id)) throw new Error(`not a blob-safe id: ${JSON.stringify(id)}`);
  return id;
}

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync, rmSync, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GroupSync } from '../group-sync.js';
import { checkDigest, checkSize, collectChecked } from './collect.js';
import { md5OfFile } from './md5-offload.js';
import { type BlobStore, type ByteRange, type ExpectedPart, type StoredPart } from './blob-store.js';

/**
 * Blob store on the local disk under `<root>` (normally `<dataDir>/blobs`):
 *   parts/<fileId>/<index>-<random>   one file per accepted PUT attempt (large parts)
 *   parts/<fileId>.<index>-<random>   the same for parts up to SMALL_PART_BYTES
 *   objects/<fileId>                  the final object: one file (a single part, an empty file, or
 *                                     an object assembled by copying, as servers before the
 *                                     segmented layout made for every file), or
 *   objects/<fileId>/<000000000n>     a directory of segments: the parts, in order, each a hard
 *                                     link to its part's file (no byte is copied at close)
 * Everything is fsynced, and so is the directory that names it, before the part is acknowledged
 * with 200 (or an object reported closed), so it survives a restart or a crash. Large parts and
 * copied objects are written to a `.tmp` name and renamed. Small parts are checked in memory
 * first and written straight to their unique final name: a crash mid-write leaves a file that no
 * part row names, exactly like a `.tmp` orphan. A single-part file's object is a hard link to
 * its part (same bytes, already synced, MD5 already checked), not a copy; a multi-part file's
 * object is a directory of such links, built under a `.tmp` name, synced, then renamed. Once the
 * object is in place the parts' own names can go (assembly.ts): the linked inodes stay. Reads
 * stream the segments one after another; a Range is cut across them.
 */
export class DiskBlobStore implements BlobStore {
  /** objects/ and parts/ exist (each created once, not per request). */
  readonly #made = new Map<string, Promise<void>>();
  /** fsyncs of objects/ and of parts/ (small parts live there directly), shared by concurrent requests. */
  readonly #objectsDirSync = new GroupSync(() => this.syncDir(join(this.root, 'objects')));
  readonly #partsDirSync = new GroupSync(() => this.syncDir(join(this.root, 'parts')));
  /** Segments (path, size) of segmented objects already read; objects never change once in place. */
  readonly #segments = new Map<string, Segment[]>();

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
    if (expected.size <= SMALL_PART_BYTES) return this.putSmallPart(fileId, index, body, expected);
    const dir = await this.makePartsDir(fileId);
    const name = `${index}-${randomBytes(6).toString('hex')}`;
    const tmp = join(dir, `${name}.tmp`);
    let size = 0;
    try {
      await pipeline(
        body,
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            // Past the signed size: keep draining (so the client gets an answer) but store nothing.
            if (size > expected.size) continue;
            yield chunk;
          }
        },
        createWriteStream(tmp, { highWaterMark: 1 << 20, mode: FILE_MODE }),
      );
      checkSize(size, expected);
      // Hash (on the helper thread) while the kernel flushes the same bytes to disk.
      const [md5] = await Promise.all([md5OfFile(tmp), this.syncFile(tmp)]);
      checkDigest(md5, size, expected);
      await rename(tmp, join(dir, name));
      await this.syncDir(dir);
      return { key: `${safe(fileId)}/${name}`, size, md5 };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * A part of at most SMALL_PART_BYTES: the body is collected and hashed as it arrives, checked,
   * and only then written, with one write and one fdatasync on a single descriptor. Nothing is
   * written for a body that does not match.
   */
  private async putSmallPart(
    fileId: string,
    index: number,
    body: Readable,
    expected: ExpectedPart,
  ): Promise<StoredPart> {
    const { chunks, size, md5 } = await collectChecked(body, expected);
    // Directly in parts/ (no directory per file), so one fsync of parts/ covers concurrent PUTs.
    const dir = join(this.root, 'parts');
    await this.made(dir);
    const key = `${safe(fileId)}.${index}-${randomBytes(6).toString('hex')}`;
    const path = join(dir, key);
    try {
      const fh = await open(path, 'wx', FILE_MODE);
      try {
        let done = (await fh.writev(chunks)).bytesWritten;
        if (done < size) {
          const all = Buffer.concat(chunks, size); // a short write: finish it
          while (done < size) done += (await fh.write(all, done, size - done, done)).bytesWritten;
        }
        if (this.opts.fsync) await fh.datasync();
      } finally {
        await fh.close();
      }
      if (this.opts.fsync) await this.#partsDirSync.sync();
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return { key, size, md5 };
  }

  /** mkdir -p once per directory, with the new entry synced (parts/, objects/). */
  private made(dir: string): Promise<void> {
    let p = this.#made.get(dir);
    if (!p) {
      p = mkdir(dir, { recursive: true, mode: DIR_MODE }).then(
        async (created) => {
          if (created !== undefined) await this.syncDir(dirname(dir));
        },
        (err: unknown) => {
          this.#made.delete(dir);
          throw err;
        },
      );
      this.#made.set(dir, p);
    }
    return p;
  }

  /** parts/<fileId>, created on the file's first part; a new directory's entry is synced too. */
  private async makePartsDir(fileId: string): Promise<string> {
    const dir = this.partsDir(fileId);
    const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
    if (created !== undefined) {
      await this.syncDir(dirname(dir));
      if (created !== dir) await this.syncDir(dirname(created)); // parts/ itself was new too
    }
    return dir;
  }

  async deletePart(key: string): Promise<void> {
    try {
      await unlink(join(this.root, 'parts', key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async assemble(
    fileId: string,
    partKeys: string[],
    whole?: { size: number; md5: string },
  ): Promise<{ size: number; md5: string | null }> {
    const dir = join(this.root, 'objects');
    await this.made(dir);
    const final = this.objectPath(fileId);
    if (partKeys.length === 1 && whole) {
      // The part is already durable and its MD5 checked: the object is the same bytes, linked.
      const part = join(this.root, 'parts', partKeys[0]);
      try {
        await link(part, final);
      } catch (err) {
        // Left by an attempt that stopped before it was recorded; it is this part or a copy of it.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        await rm(final, { force: true });
        await link(part, final);
      }
      if (this.opts.fsync) await this.#objectsDirSync.sync();
      return whole;
    }
    if (partKeys.length > 1) return this.linkSegments(fileId, partKeys);
    // No part (an empty file): an empty object, written like a copy.
    const tmp = `${final}.${randomBytes(4).toString('hex')}.tmp`;
    const hash = createHash('md5');
    let size = 0;
    const root = this.root;
    try {
      await pipeline(
        async function* concat() {
          for (const key of partKeys) {
            for await (const chunk of createReadStream(join(root, 'parts', key), {
              highWaterMark: 1 << 20,
            })) {
              const b = chunk as Buffer;
              size += b.length;
              hash.update(b);
              yield b;
            }
          }
        },
        createWriteStream(tmp, { mode: FILE_MODE }),
      );
      await this.syncFile(tmp);
      await rename(tmp, final);
      if (this.opts.fsync) await this.#objectsDirSync.sync();
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { size, md5: hash.digest('hex') };
  }

  /**
   * A multi-part object without copying: `objects/<fileId>.<random>.tmp/` gets one hard link per
   * part, named by its position, is fsynced (the links' entries; the parts' bytes were synced
   * before their PUT was answered), and is renamed to `objects/<fileId>`, and objects/ is synced.
   * Every part was MD5-checked when it was stored; the whole object's MD5 is not computed (that
   * would read every byte again), so it is reported as null.
   */
  private async linkSegments(fileId: string, partKeys: string[]): Promise<{ size: number; md5: null }> {
    const final = this.objectPath(fileId);
    const tmp = `${final}.${randomBytes(4).toString('hex')}.tmp`;
    let size = 0;
    try {
      await mkdir(tmp, { mode: DIR_MODE });
      for (const [i, key] of partKeys.entries()) {
        const part = join(this.root, 'parts', key);
        size += (await stat(part)).size;
        await link(part, join(tmp, segmentName(i)));
      }
      await this.syncDir(tmp);
      // Left by an attempt that stopped before it was recorded (the parts are all still there).
      await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
      if (this.opts.fsync) await this.#objectsDirSync.sync();
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    this.#segments.delete(fileId);
    return { size, md5: null };
  }

  /** The object's segments, or undefined when it is one plain file; throws ENOENT when missing. */
  private async segmentsOf(fileId: string): Promise<Segment[] | undefined> {
    const cached = this.#segments.get(fileId);
    if (cached) return cached;
    const path = this.objectPath(fileId);
    const st = await stat(path);
    if (!st.isDirectory()) return undefined;
    const names = (await readdir(path)).filter((n) => /^\d+$/.test(n)).sort();
    const segments: Segment[] = [];
    for (const name of names) {
      const p = join(path, name);
      segments.push({ path: p, size: (await stat(p)).size });
    }
    if (this.#segments.size >= SEGMENT_CACHE) this.#segments.delete(this.#segments.keys().next().value!);
    this.#segments.set(fileId, segments);
    return segments;
  }

  async objectSize(fileId: string): Promise<number | undefined> {
    try {
      const segments = await this.segmentsOf(fileId);
      if (segments) return segments.reduce((n, s) => n + s.size, 0);
      return (await stat(this.objectPath(fileId))).size;
    } catch {
      return undefined;
    }
  }

  openObject(fileId: string, range?: ByteRange): Readable {
    const path = this.objectPath(fileId);
    const segmentsOf = () => this.segmentsOf(fileId);
    return Readable.from(
      (async function* read() {
        const segments = await segmentsOf();
        if (!segments) {
          yield* createReadStream(path, { start: range?.start, end: range?.end, highWaterMark: 1 << 20 });
          return;
        }
        // Inclusive byte positions of the object, cut across the segments they fall in.
        const start = range?.start ?? 0;
        const end = range?.end ?? Infinity;
        let offset = 0;
        for (const s of segments) {
          const from = Math.max(start, offset);
          const to = Math.min(end, offset + s.size - 1);
          if (from <= to)
            yield* createReadStream(s.path, {
              start: from - offset,
              end: to - offset,
              highWaterMark: 1 << 20,
            });
          offset += s.size;
          if (offset > end) break;
        }
      })(),
      { objectMode: false },
    );
  }

  async deleteFile(fileId: string): Promise<void> {
    await rm(this.partsDir(fileId), { recursive: true, force: true });
    // Small parts live directly in parts/ as `<fileId>.<index>-<random>`.
    const prefix = `${safe(fileId)}.`;
    const flat = await readdir(join(this.root, 'parts')).catch(() => [] as string[]);
    for (const name of flat) if (name.startsWith(prefix)) await this.deletePart(name);
    this.#segments.delete(fileId);
    await rm(this.objectPath(fileId), { recursive: true, force: true });
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

/** Users' data: readable by the server's own user only, whatever the umask (it can only narrow these). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Removes the `.tmp` files a killed server left under a disk blob root (a large part being
 * received, an object being assembled): no row names them, so nothing else ever would. Run before
 * the server listens; returns how many were removed.
 */
export function sweepTemporaryFiles(root: string): number {
  let removed = 0;
  const sweep = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      // File types from the directory itself: parts/ holds every small part flat, and a stat each
      // would make start-up grow with them.
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // not created yet
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name.endsWith('.tmp')) {
        // A directory too: a segmented object being linked (objects/<fileId>.<random>.tmp/).
        rmSync(path, { recursive: true, force: true });
        removed++;
      } else if (depth > 0 && entry.isDirectory()) sweep(path, depth - 1);
    }
  };
  sweep(join(root, 'objects'), 0);
  sweep(join(root, 'parts'), 1);
  return removed;
}

/**
 * Parts up to this size are collected in memory and hashed on the event loop as they arrive: for
 * small files the round trip to the MD5 thread (and reading the part back) cost more than the hash.
 */
const SMALL_PART_BYTES = 1 << 20;

/** One stored piece of a segmented object. */
interface Segment {
  path: string;
  size: number;
}

/** Segment names sort as numbers do: position `i` as 10 digits. */
const segmentName = (i: number) => String(i).padStart(10, '0');

/** How many objects' segment lists are kept in memory (they never change once in place). */
const SEGMENT_CACHE = 4096;

/** IDs are `class-` + a fixed alphabet, but never let a caller-supplied string escape the root. */
function safe(id: string): string {
  if (!/^[a-z]+-[0-9A-Za-z]+$/.test(id)) throw new Error(`not a blob-safe id: ${JSON.stringify(id)}`);
  return id;
}

import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileChangedError, PartReadError } from '../../../src/errors.js';
import { paddingMember } from '../../../src/work/gzip.js';
import { INLINE_MAX, PartPool, type PartJob } from '../../../src/work/pool.js';
import { tempDir, writeRandomFile, writeTextFile } from '../../helpers/files.js';
import { gzipMembers } from '../../helpers/gzip-readers.js';
import { buildPartWorker } from './build-worker.js';

const MIN = 5 * 1024 * 1024;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('PartPool', () => {
  const tmp = tempDir('ua-pool-');
  let worker: ReturnType<typeof buildPartWorker>;
  let pool: PartPool;
  let textPath: string;
  let text: Buffer;
  const fds = new Map<string, number>();

  beforeAll(() => {
    worker = buildPartWorker();
    pool = new PartPool({ threads: 2, filename: worker.filename });
    textPath = join(tmp.dir, 'reads.fastq');
    text = writeTextFile(textPath, 3 * 1024 * 1024 + 123);
  });
  afterAll(async () => {
    for (const fd of fds.values()) closeSync(fd);
    await pool?.destroy();
    worker?.cleanup();
    tmp.cleanup();
  });

  /** The file's one descriptor, as read/source.ts opens it for an upload. */
  const fdOf = (path: string): number => {
    if (!fds.has(path)) fds.set(path, openSync(path, 'r'));
    return fds.get(path)!;
  };
  const job = ({ path, ...o }: Partial<PartJob>): PartJob => ({
    ...(path !== undefined ? { fd: fdOf(path), path } : {}),
    offset: 0,
    length: 0,
    buffer: new ArrayBuffer(0),
    compress: false,
    level: 6,
    last: false,
    minPartSize: MIN,
    ...o,
  });

  it('reads a range, hashes it and hands the same buffer back, moved rather than copied', async () => {
    const buffer = new ArrayBuffer(2 * 1024 * 1024);
    const r = await pool.run(job({ path: textPath, offset: 1_000_001, length: 1_500_000, buffer }));
    expect(buffer.byteLength).toBe(0); // detached: it went to the worker
    expect(r.buffer.byteLength).toBe(2 * 1024 * 1024);
    expect(r.size).toBe(1_500_000);
    expect(r.data.buffer).toBe(r.buffer);
    expect(Buffer.from(r.data).equals(text.subarray(1_000_001, 2_500_001))).toBe(true);
    expect(r.md5).toBe(md5(text.subarray(1_000_001, 2_500_001)));
  });

  it('compresses a range into one padded gzip member whose MD5 and size are of the compressed bytes', async () => {
    const r = await pool.run(
      job({
        path: textPath,
        offset: 4096,
        length: 1 << 20,
        buffer: new ArrayBuffer(1 << 20),
        compress: true,
        last: false,
      }),
    );
    expect(r.buffer.byteLength).toBe(1 << 20);
    expect(r.data.buffer).not.toBe(r.buffer);
    expect(r.size).toBe(r.data.length);
    // Padded to exactly the minimum with one empty member after the part's own.
    expect(r.size).toBe(MIN);
    const members = gzipMembers(Buffer.from(r.data));
    expect(members.map((m) => m.rawLength)).toEqual([1 << 20, 0]);
    expect(Buffer.from(r.data.subarray(members[1].offset)).equals(paddingMember(members[1].length))).toBe(
      true,
    );
    expect(r.md5).toBe(md5(r.data));
    expect(gunzipSync(r.data).equals(text.subarray(4096, 4096 + (1 << 20)))).toBe(true);
  });

  it("padding 'classic' gives the classic agent's part: the same member, then 20-byte empty members", async () => {
    const range = { path: textPath, offset: 4096, length: 1 << 20, compress: true, last: false };
    const ours = await pool.run(job({ ...range, buffer: new ArrayBuffer(1 << 20) }));
    const classic = await pool.run(job({ ...range, buffer: new ArrayBuffer(1 << 20), padding: 'classic' }));
    const member = gzipMembers(Buffer.from(ours.data))[0].length;
    expect(
      Buffer.from(classic.data.subarray(0, member)).equals(Buffer.from(ours.data.subarray(0, member))),
    ).toBe(true);
    expect(classic.size).toBe(member + Math.ceil((MIN - member) / 20) * 20);
    expect(gzipMembers(Buffer.from(classic.data))).toHaveLength(1 + Math.ceil((MIN - member) / 20));
    expect(classic.md5).toBe(md5(classic.data));
    expect(classic.md5).not.toBe(ours.md5);
  });

  it('does not pad the last part, and works from bytes already in the buffer (stdin)', async () => {
    const buffer = new ArrayBuffer(4096);
    const src = Buffer.from('tail of a stream\n');
    new Uint8Array(buffer).set(src);
    const r = await pool.run(job({ length: src.length, buffer, compress: true, last: true }));
    expect(r.size).toBeLessThan(100);
    expect(gunzipSync(r.data).equals(src)).toBe(true);
    expect(r.md5).toBe(md5(r.data));
    expect(r.buffer.byteLength).toBe(4096);
  });

  it('reports the raw MD5 of a compressed part on request, and of an uncompressed part always', async () => {
    const raw = text.subarray(0, 200_000);
    const zipped = await pool.run(
      job({
        path: textPath,
        length: raw.length,
        buffer: new ArrayBuffer(raw.length),
        compress: true,
        last: true,
        rawMd5: true,
      }),
    );
    expect(zipped.rawMd5).toBe(md5(raw));
    expect(zipped.md5).toBe(md5(zipped.data));
    expect(zipped.md5).not.toBe(zipped.rawMd5);
    const plain = await pool.run(job({ path: textPath, length: raw.length, buffer: zipped.buffer }));
    expect(plain.rawMd5).toBe(md5(raw));
    const unasked = await pool.run(
      job({ path: textPath, length: raw.length, buffer: plain.buffer, compress: true, last: true }),
    );
    expect(unasked.rawMd5).toBeUndefined();
  });

  it('sends an empty part as is, never compressed', async () => {
    const r = await pool.run(job({ length: 0, buffer: new ArrayBuffer(16), compress: true, last: true }));
    expect(r.size).toBe(0);
    expect(r.md5).toBe(md5(new Uint8Array(0)));
  });

  it('hashes incompressible data at parts of several sizes identically to crypto', async () => {
    const path = join(tmp.dir, 'random.bin');
    const data = writeRandomFile(path, 700_000);
    let buffer = new ArrayBuffer(1 << 20);
    for (const [offset, length] of [
      [0, 700_000],
      [1, 65_536],
      [699_999, 1],
    ]) {
      const r = await pool.run(job({ path, offset, length, buffer }));
      expect(r.md5).toBe(md5(data.subarray(offset, offset + length)));
      buffer = r.buffer;
    }
  });

  it('rejects with FileChangedError when the file is shorter than planned', async () => {
    const path = join(tmp.dir, 'short.txt');
    writeFileSync(path, 'c'.repeat(500));
    const short = await pool
      .run(job({ path, offset: 400, length: 200, buffer: new ArrayBuffer(200) }))
      .catch((e: unknown) => e);
    expect(short).toBeInstanceOf(FileChangedError);
    expect((short as Error).message).toContain('ended at 500 bytes');
    expect((short as Error).message).toContain(path);
  });

  it('rethrows a read failure as PartReadError with its system code and path', async () => {
    // A directory opens for reading but cannot be read: EISDIR from read(2).
    const dir = join(tmp.dir, 'a-dir');
    mkdirSync(dir);
    const err = await pool
      .run(job({ path: dir, length: 10, buffer: new ArrayBuffer(10) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartReadError);
    expect((err as PartReadError).sysCode).toBe('EISDIR');
    expect((err as PartReadError).path).toBe(dir);
    expect((err as Error).message).toContain('EISDIR');
  });

  it('rejects an aborted job with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await pool
      .run(job({ path: textPath, length: 10, buffer: new ArrayBuffer(10) }), ac.signal)
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
  });

  it('hashes tiny parts on the calling thread (buffer kept) and larger ones in a worker (buffer moved)', async () => {
    const path = join(tmp.dir, 'sizes.bin');
    const data = writeRandomFile(path, INLINE_MAX + 1);
    const small = new ArrayBuffer(INLINE_MAX);
    const r1 = await pool.run(job({ path, length: INLINE_MAX, buffer: small }));
    expect(r1.buffer).toBe(small);
    expect(r1.md5).toBe(md5(data.subarray(0, INLINE_MAX)));
    const big = new ArrayBuffer(INLINE_MAX + 1);
    const r2 = await pool.run(job({ path, length: INLINE_MAX + 1, buffer: big }));
    expect(big.byteLength).toBe(0); // detached: it went to the worker and came back as r2.buffer
    expect(r2.md5).toBe(md5(data));
  });

  it('reports read failures the same way from the worker as from the calling thread', async () => {
    const dir = join(tmp.dir, 'a-dir-big');
    mkdirSync(dir);
    const err = await pool
      .run(job({ path: dir, length: INLINE_MAX + 1, buffer: new ArrayBuffer(INLINE_MAX + 1) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartReadError);
    expect((err as PartReadError).sysCode).toBe('EISDIR');
    const short = await pool
      .run(
        job({
          path: textPath,
          offset: text.length - 10,
          length: INLINE_MAX + 1,
          buffer: new ArrayBuffer(INLINE_MAX + 1),
        }),
      )
      .catch((e: unknown) => e);
    expect(short).toBeInstanceOf(FileChangedError);
    expect((short as Error).message).toContain(`ended at ${text.length} bytes`);
  });
});

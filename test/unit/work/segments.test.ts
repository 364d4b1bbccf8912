/**
 * Parts given as segments (a tar batch): in-memory bytes, zeros and member files assembled into the
 * part buffer, in a worker and on the calling thread alike; each member opened, checked to be its
 * planned version and closed; a member that changed fails the part with FileChangedError naming it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileChangedError } from '../../../src/errors.js';
import { identityOf } from '../../../src/plan/inputs.js';
import type { PartSegment } from '../../../src/work/part-task.js';
import { INLINE_MAX, PartPool, type PartJob } from '../../../src/work/pool.js';
import { md5, tempDir, writeRandomFile } from '../../helpers/files.js';
import { buildPartWorker } from './build-worker.js';

const tmp = tempDir('ua-segments-');
let worker: ReturnType<typeof buildPartWorker>;
let pool: PartPool;
beforeAll(() => {
  worker = buildPartWorker();
  pool = new PartPool({ threads: 2, filename: worker.filename });
});
afterAll(async () => {
  await pool?.destroy();
  worker?.cleanup();
  tmp.cleanup();
});

/** A member file and its segment over [offset, offset + length), planned as it is now. */
function member(name: string, size: number) {
  const path = join(tmp.dir, name);
  const data = writeRandomFile(path, size);
  const identity = identityOf(statSync(path));
  const seg = (offset = 0, length = size): PartSegment => ({ file: path, path, identity, offset, length });
  return { path, data, seg };
}

const lengthOf = (s: PartSegment) => ('bytes' in s ? s.bytes.length : 'zeros' in s ? s.zeros : s.length);
const job = (segments: PartSegment[], buffer?: ArrayBuffer): PartJob => {
  const length = segments.reduce((n, s) => n + lengthOf(s), 0);
  return {
    segments,
    path: 'batch.tar',
    offset: 0,
    length,
    buffer: buffer ?? (new SharedArrayBuffer(length + 7) as unknown as ArrayBuffer),
    compress: false,
    level: 6,
    last: true,
    minPartSize: 5 << 20,
  };
};
const failure = (p: Promise<unknown>) =>
  p.then(
    () => new Error('resolved'),
    (e: unknown) => e as Error,
  );

describe('part segments', () => {
  for (const [where, size] of [
    ['on the calling thread', 1000],
    ['in a worker', INLINE_MAX + 5000],
  ] as const) {
    it(`assembles bytes, zeros and member ranges in order ${where}`, async () => {
      const a = member(`a-${size}`, size);
      const b = member(`b-${size}`, 3000);
      const header = Buffer.from('header bytes');
      // A reused buffer full of garbage: the zeros must be written, not assumed.
      const buffer = new SharedArrayBuffer(size + 4000) as unknown as ArrayBuffer;
      new Uint8Array(buffer).fill(0xee);
      const segments: PartSegment[] = [
        { bytes: header },
        a.seg(1, size - 1),
        { zeros: 5 },
        b.seg(0, 1),
        b.seg(2999, 1),
        { zeros: 2 },
      ];
      const want = Buffer.concat([
        header,
        a.data.subarray(1),
        Buffer.alloc(5),
        b.data.subarray(0, 1),
        b.data.subarray(2999),
        Buffer.alloc(2),
      ]);
      const r = await pool.run(job(segments, buffer));
      expect(r.size).toBe(want.length);
      expect(Buffer.from(r.data).equals(want)).toBe(true);
      expect(r.md5).toBe(md5(want));
    });
  }

  it('fails with FileChangedError naming the member rewritten in place, size and mtime restored', async () => {
    const m = member('rewritten', INLINE_MAX + 10);
    execFileSync('touch', ['-r', m.path, `${m.path}.ref`]);
    await new Promise((r) => setTimeout(r, 20)); // past the kernel's coarse timestamp tick
    const fd = openSync(m.path, 'r+');
    writeSync(fd, Buffer.from('X'), 0, 1, 0);
    closeSync(fd);
    execFileSync('touch', ['-r', `${m.path}.ref`, m.path]);
    const err = await failure(pool.run(job([{ bytes: Buffer.alloc(512) }, m.seg()])));
    expect(err).toBeInstanceOf(FileChangedError);
    expect((err as FileChangedError).path).toBe(m.path);
    expect(err.message).toMatch(/rewritten at .* with the same size and modification time/);
  });

  it('fails with FileChangedError for a member gone, truncated or replaced', async () => {
    const gone = member('gone', 10);
    unlinkSync(gone.path);
    const e1 = await failure(pool.run(job([gone.seg()])));
    expect(e1).toBeInstanceOf(FileChangedError);
    expect(e1.message).toContain(`${gone.path} changed while it was uploaded (it is gone (ENOENT))`);

    const short = member('short', 100);
    truncateSync(short.path, 50);
    const e2 = await failure(pool.run(job([short.seg()])));
    expect(e2.message).toContain('size was 100 bytes, now 50');

    // A member that ends inside its range although its stat matched (truncated between the check
    // and the read) is reported the same way, naming the member.
    const early = member('early', 60);
    const e3 = await failure(pool.run(job([early.seg(50, 40)])));
    expect(e3).toBeInstanceOf(FileChangedError);
    expect(e3.message).toContain(`${early.path} changed while it was uploaded (it ended at 60 bytes`);
  });

  it('refuses segments that do not add up to the part length', async () => {
    const j = { ...job([{ zeros: 10 }]), length: 11 };
    expect((await failure(pool.run(j))).name).toBe('RangeError');
  });
});

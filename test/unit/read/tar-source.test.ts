/**
 * TarSource: a tar batch read straight from its members, part by part, gives the layout's bytes;
 * open() and check() see every member that is not its planned version, naming it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileChangedError } from '../../../src/errors.js';
import { identityOf } from '../../../src/plan/inputs.js';
import { TarLayout } from '../../../src/read/tar-layout.js';
import { TarSource, type TarBatch } from '../../../src/read/tar-source.js';
import { runPart } from '../../../src/work/part-task.js';
import { tempDir, writeRandomFile } from '../../helpers/files.js';

const tmp = tempDir('ua-tar-source-');
afterAll(() => tmp.cleanup());

let n = 0;
/** A batch of fresh files of these sizes, planned as they are now. */
function batch(sizes: number[]): { batch: TarBatch; paths: string[]; data: Buffer[] } {
  const dir = join(tmp.dir, `b${n++}`);
  const paths = sizes.map((_, i) => join(dir, `f${i}.bin`));
  const data = sizes.map((s, i) => writeRandomFile(paths[i], s));
  const files = paths.map((absPath) => ({ absPath, ...identityOf(statSync(absPath)) }));
  const layout = TarLayout.of(
    files.map((f, i) => ({ name: `run/f${i}.bin`, size: f.size, mtimeMs: f.mtimeMs })),
  );
  return { batch: { layout, files }, paths, data };
}

/** Bytes [offset, offset + length) read through the source, as a part job on this thread. */
function read(source: TarSource, offset: number, length: number): Buffer {
  const r = runPart({
    ...source.reader(offset, length),
    offset,
    length,
    buffer: new ArrayBuffer(length),
    compress: false,
    level: 6,
    last: false,
    minPartSize: 0,
  });
  if (!r.ok) throw Object.assign(new Error(r.message), { name: r.name });
  return Buffer.from(r.buffer, 0, length);
}

const changed = (f: () => unknown): FileChangedError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FileChangedError);
    return err as FileChangedError;
  }
  throw new Error('no FileChangedError');
};

describe('TarSource', () => {
  it('reads the archive part by part, at any cut, as the layout lays it out', () => {
    const b = batch([0, 1, 512, 3000, 70_000, 5]);
    const source = TarSource.open(b.batch, 'batch.tar');
    const { layout } = b.batch;
    const whole = read(source, 0, layout.size);
    expect(whole.length).toBe(layout.size);
    b.data.forEach((d, i) => {
      const at = layout.dataOffset(i);
      expect(whole.subarray(at, at + d.length).equals(d)).toBe(true);
      expect(
        Buffer.from(whole.subarray(at - 512, at - 512 + 100))
          .toString()
          .replace(/\0+$/, ''),
      ).toBe(`run/f${i}.bin`);
    });
    for (const cut of [511, 4096, 10_007]) {
      const parts: Buffer[] = [];
      for (let at = 0; at < layout.size; at += cut)
        parts.push(read(source, at, Math.min(cut, layout.size - at)));
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
    }
    source.check();
    source.close();
    source.close();
    expect(() => source.check()).toThrow('check() after close()');
  });

  it('fails open() for a member changed since it was planned, naming it', () => {
    const b = batch([10, 20, 30]);
    writeFileSync(b.paths[1], 'x'.repeat(21));
    const err = changed(() => TarSource.open(b.batch, 'batch.tar'));
    expect(err.path).toBe(b.paths[1]);
    expect(err.message).toContain(`${b.paths[1]} changed while it was uploaded (size was 20 bytes, now 21)`);
  });

  it('fails check() for a member rewritten in place (size and mtime restored), replaced or deleted', async () => {
    const b = batch([100, 200, 300]);
    const source = TarSource.open(b.batch, 'batch.tar');
    await new Promise((r) => setTimeout(r, 20)); // past the kernel's coarse timestamp tick
    execFileSync('touch', ['-r', b.paths[2], `${b.paths[2]}.ref`]);
    const fd = openSync(b.paths[2], 'r+');
    writeSync(fd, Buffer.from('Z'), 0, 1, 10);
    closeSync(fd);
    execFileSync('touch', ['-r', `${b.paths[2]}.ref`, b.paths[2]]);
    expect(changed(() => source.check()).message).toMatch(
      /rewritten at .* with the same size and modification time/,
    );
    // The part that covers it fails in the reader too.
    expect(() => read(source, b.batch.layout.dataOffset(2), 300)).toThrow(/rewritten at/);

    const c = batch([5, 6]);
    const other = TarSource.open(c.batch, 'other.tar');
    writeFileSync(`${c.paths[0]}.new`, 'abcde');
    execFileSync('touch', ['-r', c.paths[0], `${c.paths[0]}.new`]);
    renameSync(`${c.paths[0]}.new`, c.paths[0]);
    expect(changed(() => other.check()).message).toContain('it was replaced by another file');
    unlinkSync(c.paths[0]);
    expect(changed(() => other.check()).message).toContain('it is gone (ENOENT)');
  });

  it('refuses a batch whose files do not match its layout', () => {
    const b = batch([10]);
    const files = [{ ...b.batch.files[0], size: 11 }];
    expect(() => TarSource.open({ layout: b.batch.layout, files }, 'x.tar')).toThrow(
      'do not match its layout',
    );
  });
});

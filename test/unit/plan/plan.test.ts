import { UsageError } from '../../../src/errors.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultOptions, type UaOptions } from '../../../src/config/options.js';
import { expandInputs, type UploadEntry } from '../../../src/plan/inputs.js';
import { planFile, readHead } from '../../../src/plan/plan.js';
import {
  duplicateCheck,
  duplicateKey,
  fileSignature,
  SIGNATURE_PROPERTY,
} from '../../../src/plan/signature.js';
import { tempDir, writeTextFile } from '../../helpers/files.js';

const MiB = 1024 * 1024;
const opts = (o: Partial<UaOptions> = {}): UaOptions => ({
  ...defaultOptions(),
  projects: ['project-P'],
  ...o,
});
let tmp: { dir: string; cleanup(): void };
beforeEach(() => (tmp = tempDir('ua-plan-')));
afterEach(() => tmp.cleanup());

function entryFor(path: string, o: UaOptions = opts()): UploadEntry {
  const [e] = expandInputs([path], o);
  return e;
}

describe('signature', () => {
  it('is "<size> <mtime s> <1|0> <chunk> <canonical path>" for a real file reached through a symlink', () => {
    const real = join(tmp.dir, 'data dir', 'reads.fq');
    writeTextFile(real, 12_345);
    utimesSync(real, 1_700_000_000.9, 1_700_000_000.9);
    const link = join(tmp.dir, 'link.fq');
    symlinkSync(real, link);
    const plan = planFile(entryFor(link), opts(), readHead(link));
    expect(plan.signature).toBe(`12345 1700000000 1 ${75 * MiB} ${realpathSync(real)}`);
    expect(plan.properties[SIGNATURE_PROPERTY]).toBe(plan.signature);
  });

  it('records the compress flag and the raised chunk size', () => {
    expect(fileSignature(10_000 * 5 * MiB + 1, 1_000_999, false, 5 * MiB + 1, 'C:\\x\\y z')).toBe(
      `${10_000 * 5 * MiB + 1} 1000 0 ${5 * MiB + 1} C:/x/y z`,
    );
    expect(duplicateKey('project-P', 5, 2500, '/a b')).toBe('project-P 5 2 /a b');
  });

  it('duplicateCheck rejects the same file twice for one project with the classic text', () => {
    const f = join(tmp.dir, 'a.txt');
    writeFileSync(f, 'x');
    const link = join(tmp.dir, 'b.txt');
    symlinkSync(f, link);
    const [a, b] = expandInputs([f, link], opts());
    expect(() =>
      duplicateCheck([
        { projectId: 'project-1', entry: a },
        { projectId: 'project-2', entry: b },
      ]),
    ).not.toThrow();
    let err: unknown;
    try {
      duplicateCheck([
        { projectId: 'project-1', entry: a },
        { projectId: 'project-1', entry: b },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      `File "${f}" and "${link}" have same Signature. You cannot upload two files with same signature to same project without using '--do-not-resume' flag`,
    );
  });
});

describe('planFile', () => {
  it('.fastq → .fastq.gz, application/x-gzip, user properties kept', () => {
    const f = join(tmp.dir, 'sample.fastq');
    writeTextFile(f, 1000);
    const o = opts({
      properties: { run: '7', [SIGNATURE_PROPERTY]: 'user value' },
      tags: ['t'],
      types: ['Reads'],
      details: { a: 1 },
      visibility: 'hidden',
    });
    const plan = planFile(entryFor(f, o), o, readHead(f));
    expect(plan).toMatchObject({
      compress: true,
      remoteName: 'sample.fastq.gz',
      media: 'application/x-gzip',
      tags: ['t'],
      types: ['Reads'],
      details: { a: 1 },
      hidden: true,
    });
    expect(plan.properties.run).toBe('7');
    expect(plan.properties[SIGNATURE_PROPERTY]).toBe(plan.signature);
    expect(plan.parts).toEqual([{ index: 1, offset: 0, length: 1000, last: true }]);
    expect(plan.signature?.split(' ')[2]).toBe('1');
  });

  it('does not recompress a gzip file, whatever its name', () => {
    const f = join(tmp.dir, 'reads.dat');
    writeFileSync(f, gzipSync(Buffer.from('ACGT\n'.repeat(1000))));
    const plan = planFile(entryFor(f), opts(), readHead(f));
    expect(plan).toMatchObject({ compress: false, remoteName: 'reads.dat', media: 'application/x-gzip' });
    expect(plan.signature?.split(' ')[2]).toBe('0');
  });

  it('--do-not-compress keeps the name and reports the sniffed media', () => {
    const text = join(tmp.dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const bin = join(tmp.dir, 'blob.bin');
    writeFileSync(bin, randomBytes(4096));
    const o = opts({ doNotCompress: true });
    expect(planFile(entryFor(text, o), o, readHead(text))).toMatchObject({
      compress: false,
      remoteName: 'notes.txt',
      media: 'text/plain',
    });
    expect(planFile(entryFor(bin, o), o, readHead(bin))).toMatchObject({
      compress: false,
      remoteName: 'blob.bin',
      media: 'application/octet-stream',
    });
  });

  it('an empty file is not compressed, has media "" and one empty part', () => {
    const f = join(tmp.dir, 'empty.txt');
    writeFileSync(f, '');
    const plan = planFile(entryFor(f), opts(), readHead(f));
    expect(plan).toMatchObject({
      compress: false,
      remoteName: 'empty.txt',
      media: '',
      parts: [{ index: 1, offset: 0, length: 0, last: true }],
    });
    expect(plan.signature).toMatch(/^0 \d+ 0 78643200 /);
  });

  it('uses the remote name given with --name, and the effective chunk size for parts', () => {
    const f = join(tmp.dir, 'x.txt');
    writeTextFile(f, 3005);
    const o = opts({ names: ['renamed'], chunkSize: 1000 });
    const plan = planFile(entryFor(f, o), o, readHead(f));
    expect(plan.remoteName).toBe('renamed.gz');
    expect(plan.chunkSize).toBe(1000);
    expect(plan.parts.map((p) => p.length)).toEqual([1000, 1000, 1000, 5]);
    expect(plan.details).toBeUndefined();
  });

  it('stdin: decided by the first chunk; no signature, no parts up front', () => {
    const o = opts({ readFromStdin: true });
    const [e] = expandInputs(['piped.txt'], o);
    expect(e).toMatchObject({
      stdin: true,
      name: 'piped.txt',
      folder: '/',
      projectSpec: 'project-P',
      source: 'stdin',
    });
    const text = planFile(e, o, Buffer.from('some text\n'));
    expect(text).toMatchObject({
      compress: true,
      remoteName: 'piped.txt.gz',
      media: 'application/x-gzip',
      parts: [],
      chunkSize: 75 * MiB,
    });
    expect(text.signature).toBeUndefined();
    expect(text.properties).toEqual({});
    const gz = planFile(e, o, gzipSync(Buffer.from('x')));
    expect(gz).toMatchObject({ compress: false, remoteName: 'piped.txt', media: 'application/x-gzip' });
    expect(planFile(e, o, new Uint8Array(0))).toMatchObject({
      compress: false,
      remoteName: 'piped.txt',
      media: '',
    });
  });
});

describe('readHead', () => {
  it('returns the first n bytes, or the whole of a shorter file', () => {
    const f = join(tmp.dir, 'r.bin');
    const data = randomBytes(100_000);
    writeFileSync(f, data);
    expect(Buffer.from(readHead(f)).equals(data.subarray(0, 65536))).toBe(true);
    expect(Buffer.from(readHead(f, 10))).toEqual(data.subarray(0, 10));
    const small = join(tmp.dir, 's.bin');
    writeFileSync(small, data.subarray(0, 3));
    expect(Buffer.from(readHead(small))).toEqual(data.subarray(0, 3));
    expect(statSync(small).size).toBe(3);
  });
  it('throws for a missing file', () => {
    mkdirSync(join(tmp.dir, 'd'));
    expect(() => readHead(join(tmp.dir, 'd', 'nope'))).toThrow(/ENOENT/);
  });
});

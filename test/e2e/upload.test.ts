import { writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe as suite, expect, it } from 'vitest';
import { md5, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { describe, downloadFile, downloadPlain, listFiles, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const e2e = usePlatformAndTempDir();

const ua = (args: string[], o: Parameters<typeof runUa>[1] = {}) =>
  runUa(['--project', e2e.tp.project, ...args], { ...o, env: { ...e2e.tp.env, ...o.env } });
const ids = (stdout: string) => stdout.trim().split('\n').filter(Boolean);

suite('byte-exact round trips (no compression)', () => {
  const cases: Array<[string, number]> = [
    ['empty', 0],
    ['one byte', 1],
    ['exactly one chunk', 5 * MiB],
    ['chunk + 1', 5 * MiB + 1],
    ['21 parts', 20 * 5 * MiB + 12345],
  ];
  for (const [label, size] of cases) {
    it(label, async () => {
      const path = join(e2e.tmp.dir, `rt-${size}.bin`);
      const data = writeRandomFile(path, size);
      const r = await ua(['--do-not-compress', '--chunk-size', '5M', '--wait-on-close', path]);
      expect(r.stderr).not.toContain('ERROR');
      expect(r.code).toBe(0);
      const [id] = ids(r.stdout);
      expect(id).toMatch(/^file-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$/);
      const d = await waitClosed(e2e.tp, id);
      expect(d.name).toBe(`rt-${size}.bin`);
      expect(d.size).toBe(size);
      // `parts` is not a default describe field (as on the platform): asked for by name.
      const { parts } = await describe(e2e.tp, id, { parts: true });
      expect(Object.keys(parts)).toHaveLength(Math.max(1, Math.ceil(size / (5 * MiB))));
      expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(data));
    });
  }
});

suite('compression', () => {
  it('gzips text per part with .gz and application/x-gzip; gunzip gives the source', async () => {
    const path = join(e2e.tmp.dir, 'reads.fastq');
    const data = writeTextFile(path, 11 * MiB + 777);
    const r = await ua(['--chunk-size', '5M', '--wait-on-close', path]);
    expect(r.code, r.stderr).toBe(0);
    const d = await waitClosed(e2e.tp, ids(r.stdout)[0]);
    expect(d.name).toBe('reads.fastq.gz');
    expect(d.media).toBe('application/x-gzip');
    const { parts } = await describe(e2e.tp, d.id, { parts: true });
    expect(Object.keys(parts)).toHaveLength(3);
    // Non-last compressed parts are padded to exactly the 5 MiB minimum with one empty gzip member.
    expect(parts['1'].size).toBe(5 * MiB);
    expect(parts['2'].size).toBe(5 * MiB);
    expect(md5(await downloadPlain(e2e.tp, d.id))).toBe(md5(data));
  });

  it('does not compress an already-gzipped file again', async () => {
    const path = join(e2e.tmp.dir, 'already.fastq.gz');
    const gz = gzipSync(writeTextFile(join(e2e.tmp.dir, 'src.fastq'), 200_000));
    writeFileSync(path, gz);
    const r = await ua(['--wait-on-close', path]);
    expect(r.code, r.stderr).toBe(0);
    const d = await waitClosed(e2e.tp, ids(r.stdout)[0]);
    expect(d.name).toBe('already.fastq.gz');
    expect(md5(await downloadFile(e2e.tp, d.id))).toBe(md5(gz));
  });
});

suite('inputs', () => {
  it('uploads a directory tree with --recursive into <folder>/<dir>/…, in sorted order', async () => {
    const root = join(e2e.tmp.dir, 'run1');
    const a = writeRandomFile(join(root, 'a.bin'), 1000);
    const b = writeRandomFile(join(root, 'lane2', 'b.bin'), 2000);
    const c = writeRandomFile(join(root, 'lane2', 'deeper', 'c.bin'), 3000);
    symlinkSync(root, join(root, 'lane2', 'loop')); // a loop must not hang the walk
    const r = await ua(['--do-not-compress', '--recursive', '--folder', '/runs', '--wait-on-close', root]);
    expect(r.code, r.stderr).toBe(0);
    const out = ids(r.stdout);
    expect(out).toHaveLength(3);
    const got = await Promise.all(out.map((id) => describe(e2e.tp, id)));
    expect(got.map((d) => `${d.folder}/${d.name}`)).toEqual([
      '/runs/run1/a.bin',
      '/runs/run1/lane2/b.bin',
      '/runs/run1/lane2/deeper/c.bin',
    ]);
    const bytes = await Promise.all(out.map((id) => downloadFile(e2e.tp, id)));
    expect(bytes.map(md5)).toEqual([a, b, c].map(md5));
  });

  it('expands a quoted glob and honours --exclude', async () => {
    const dir = join(e2e.tmp.dir, 'globs');
    const x = writeRandomFile(join(dir, 'x1.dat'), 100);
    writeRandomFile(join(dir, 'x2.skip.dat'), 100);
    const y = writeRandomFile(join(dir, 'y.dat'), 100);
    const r = await ua([
      '--do-not-compress',
      '--folder',
      '/globs',
      '--exclude',
      '*.skip.dat',
      join(dir, '*.dat'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = ids(r.stdout);
    expect(out).toHaveLength(2);
    expect((await Promise.all(out.map((id) => waitClosed(e2e.tp, id)))).map((d) => d.name)).toEqual([
      'x1.dat',
      'y.dat',
    ]);
    expect(md5(await downloadFile(e2e.tp, out[0]))).toBe(md5(x));
    expect(md5(await downloadFile(e2e.tp, out[1]))).toBe(md5(y));
  });

  it('uploads manifest entries for real (the classic agent uploaded no data for them)', async () => {
    const m1 = writeRandomFile(join(e2e.tmp.dir, 'man', 'one.bin'), 4321);
    const manifest = join(e2e.tmp.dir, 'man', 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        [e2e.tp.project]: [
          { path: join(e2e.tmp.dir, 'man', 'one.bin'), folder: '/manifest', name: 'renamed.bin' },
        ],
      }),
    );
    const r = await ua(['--do-not-compress', '--manifest', manifest]);
    expect(r.code, r.stderr).toBe(0);
    const d = await waitClosed(e2e.tp, ids(r.stdout)[0]);
    expect(`${d.folder}/${d.name}`).toBe('/manifest/renamed.bin');
    expect(md5(await downloadFile(e2e.tp, d.id))).toBe(md5(m1));
  });

  it('uploads stdin, empty stdin too', async () => {
    const data = Buffer.concat([Buffer.from('hello stdin\n'.repeat(1000))]);
    const r = await ua(['--read-from-stdin', '--wait-on-close', 'piped.txt'], { stdin: data });
    expect(r.code, r.stderr).toBe(0);
    const d = await waitClosed(e2e.tp, ids(r.stdout)[0]);
    expect(d.name).toBe('piped.txt.gz');
    expect(md5(await downloadPlain(e2e.tp, d.id))).toBe(md5(data));

    const e = await ua(['--read-from-stdin', '--wait-on-close', 'empty.txt'], { stdin: Buffer.alloc(0) });
    expect(e.code, e.stderr).toBe(0);
    const de = await waitClosed(e2e.tp, ids(e.stdout)[0]);
    expect(de.size).toBe(0);
    expect((await downloadFile(e2e.tp, de.id)).length).toBe(0);
  });

  it('keeps names with spaces and unicode', async () => {
    const path = join(e2e.tmp.dir, 'sp ace', 'Ünïcødé read 1.bin');
    mkdirSync(join(e2e.tmp.dir, 'sp ace'), { recursive: true });
    const data = writeRandomFile(path, 999);
    const r = await ua(['--do-not-compress', '--folder', '/ü n', path]);
    expect(r.code, r.stderr).toBe(0);
    const d = await waitClosed(e2e.tp, ids(r.stdout)[0]);
    expect(`${d.folder}/${d.name}`).toBe('/ü n/Ünïcødé read 1.bin');
    expect(md5(await downloadFile(e2e.tp, d.id))).toBe(md5(data));
  });
});

suite('bad input', () => {
  it('a missing file is one clear line, exit 1, and nothing is created', async () => {
    const before = (await listFiles(e2e.tp)).length;
    const ok = writeRandomFile(join(e2e.tmp.dir, 'fine.bin'), 10);
    expect(ok.length).toBe(10);
    const r = await ua(['--do-not-compress', join(e2e.tmp.dir, 'fine.bin'), join(e2e.tmp.dir, 'nope.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`File "${join(e2e.tmp.dir, 'nope.bin')}" does not exist`);
    expect(r.stdout).toBe('');
    expect((await listFiles(e2e.tp)).length).toBe(before);
  });

  it('a glob matching nothing is an error before anything is created', async () => {
    const r = await ua([join(e2e.tmp.dir, 'zzz-*.none')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No files match/);
  });

  it('bad flags print the classic messages', async () => {
    expect((await ua(['--chunk-size', '1M', 'x'])).stderr).toContain(
      'Minimum chunk size is 5242880 (5 MB): 1048576',
    );
    const bad = await ua(['--chunk-size', '12Q', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Invalid size argument: '12Q'");
    expect((await ua(['--bogus', 'x'])).code).toBe(1);
    const noToken = await runUa(['--project', e2e.tp.project, 'x'], {
      env: { DX_APISERVER_HOST: '127.0.0.1' },
    });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('No Authentication token found');
  });

  it('a bad token exits 3 with the classic line and never echoes the token', async () => {
    const secret = 'NotARealTokenButLongEnough1234';
    const r = await runUa(
      ['--project', e2e.tp.project, '--auth-token', secret, join(e2e.tmp.dir, 'fine.bin')],
      {
        env: { ...e2e.tp.env },
      },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Invalid authentication token');
    expect(r.stderr + r.stdout).not.toContain(secret);
  });

  it('a project without UPLOAD gives the classic line and exit 1', async () => {
    const r = await ua(['--do-not-compress', join(e2e.tmp.dir, 'fine.bin')], {});
    expect(r.code).toBe(0);
    const other = await runUa(
      ['--project', 'project-000000000000000000000000', join(e2e.tmp.dir, 'fine.bin')],
      {
        env: e2e.tp.env,
      },
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      '"project-000000000000000000000000" does not represent a valid project name or ID (with >=UPLOAD access)',
    );
  });
});

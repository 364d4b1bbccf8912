import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, listFiles, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const e2e = usePlatformAndTempDir();
const ua = (args: string[]) =>
  runUa(['--project', e2e.tp.project, '--do-not-compress', ...args], { env: e2e.tp.env });

/** Uploaded files under `folder`: path → stored MD5. */
async function stored(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listFiles(e2e.tp)) {
    const d = f.describe;
    if (d.folder !== folder && !d.folder.startsWith(`${folder}/`)) continue;
    await waitClosed(e2e.tp, f.id);
    out[`${d.folder}/${d.name}`] = md5(await downloadFile(e2e.tp, f.id));
  }
  return out;
}

function tree(name: string): { dir: string; sums: Record<string, string> } {
  const dir = join(e2e.tmp.dir, name);
  const sums: Record<string, string> = {};
  for (const [rel, size] of [
    ['a.fq', 1000],
    ['b.txt', 10],
    ['sub/c.fq', 70_000],
    ['sub/d.log', 5],
    ['tmp/e.fq', 300],
  ] as const)
    sums[rel] = md5(writeRandomFile(join(dir, rel), size));
  return { dir, sums };
}

it('--include and --exclude-from choose the set a walk uploads; the bytes stored are the sources', async () => {
  const { dir, sums } = tree('sel');
  const ex = join(e2e.tmp.dir, 'exclude.txt');
  writeFileSync(ex, '# scratch\n/tmp/**\n;\n*.log\n');
  const r = await ua(['--folder', '/sel', '--recursive', '--exclude-from', ex, dir]);
  expect(r.code, r.stderr).toBe(0);
  expect(await stored('/sel')).toEqual({
    '/sel/sel/a.fq': sums['a.fq'],
    '/sel/sel/b.txt': sums['b.txt'],
    '/sel/sel/sub/c.fq': sums['sub/c.fq'],
  });
  // --do-not-resume: the files sent above would otherwise be found by their signatures, not sent again.
  const inc = await ua([
    ...['--folder', '/inc', '--recursive', '--do-not-resume'],
    ...['--include', '*.fq', '--include', '*.txt', dir],
  ]);
  expect(inc.code, inc.stderr).toBe(0);
  expect(inc.stdout.trim().split('\n')).toHaveLength(4);
  expect(await stored('/inc')).toEqual({
    '/inc/sel/a.fq': sums['a.fq'],
    '/inc/sel/b.txt': sums['b.txt'],
    '/inc/sel/sub/c.fq': sums['sub/c.fq'],
    '/inc/sel/tmp/e.fq': sums['tmp/e.fq'],
  });
});

it('--files-from uploads exactly the listed files, one result line each in list order', async () => {
  const { dir, sums } = tree('ff');
  const list = join(e2e.tmp.dir, 'files.txt');
  writeFileSync(list, 'sub/d.log\n# not b.txt\n\ntmp/e.fq\n');
  const r = await ua(['--folder', '/ff', '--files-from', list, `${dir}/`]);
  expect(r.code, r.stderr).toBe(0);
  const ids = r.stdout.trim().split('\n');
  expect((await Promise.all(ids.map((id) => waitClosed(e2e.tp, id)))).map((d) => d.name)).toEqual([
    'd.log',
    'e.fq',
  ]);
  expect(await stored('/ff')).toEqual({
    '/ff/sub/d.log': sums['sub/d.log'],
    '/ff/tmp/e.fq': sums['tmp/e.fq'],
  });
});

it('a missing list file: one line, exit 1, nothing created', async () => {
  const before = (await listFiles(e2e.tp)).length;
  const r = await ua(['--files-from', join(e2e.tmp.dir, 'no-such-list.txt'), e2e.tmp.dir]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe(
    `ERROR: --files-from "${join(e2e.tmp.dir, 'no-such-list.txt')}": cannot read it (no such file); give a text file with one entry per line`,
  );
  expect(r.stdout).toBe('');
  expect((await listFiles(e2e.tp)).length).toBe(before);
});

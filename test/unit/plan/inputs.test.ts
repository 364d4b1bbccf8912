import { UsageError } from '../../../src/errors.js';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultOptions, type UaOptions } from '../../../src/config/options.js';
import { expandInputs, type UploadEntry } from '../../../src/plan/inputs.js';
import { tempDir } from '../../helpers/files.js';

const opts = (o: Partial<UaOptions> = {}): UaOptions => ({ ...defaultOptions(), projects: ['P'], ...o });
let tmp: { dir: string; cleanup(): void };
let root: string;
beforeEach(() => {
  tmp = tempDir('ua-inputs-');
  root = tmp.dir;
});
afterEach(() => tmp.cleanup());

function touch(rel: string, content = 'x'): string {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}
const where = (es: UploadEntry[]) => es.map((e) => `${e.folder}|${e.name}`);
function inputError(positionals: string[], o: Partial<UaOptions> = {}): string {
  try {
    expandInputs(positionals, opts(o));
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).showHelp).toBe(false);
    return (err as Error).message;
  }
  throw new Error('expandInputs accepted the inputs');
}

/** dir/{b.txt, a.txt, .hidden, sub/{c.txt, deeper/d.txt}} */
function tree(): string {
  touch('dir/b.txt', 'bb');
  touch('dir/a.txt', 'a');
  touch('dir/.hidden');
  touch('dir/sub/c.txt');
  touch('dir/sub/deeper/d.txt');
  return join(root, 'dir');
}

describe('files', () => {
  it('one entry per file, with index-matched projects, folders and names', () => {
    const a = touch('a.txt', 'abc');
    const b = touch('b.txt');
    const es = expandInputs(
      [a, b],
      opts({ projects: ['P1', 'P2'], folders: ['/x', '/y'], names: ['A', 'B'] }),
    );
    expect(es.map((e) => [e.order, e.projectSpec, e.folder, e.name, e.source, e.argIndex])).toEqual([
      [0, 'P1', '/x', 'A', 'file', 0],
      [1, 'P2', '/y', 'B', 'file', 1],
    ]);
    expect(es[0]).toMatchObject({ localPath: a, absPath: a, size: 3 });
    expect(es[0].mtimeMs).toBeGreaterThan(0);
  });

  it('defaults to the basename, the one folder and the project context', () => {
    const a = touch('a.txt');
    const [e] = expandInputs([a], opts({ projects: [], folders: ['/only'] }), 'project-ctx');
    expect(e).toMatchObject({ projectSpec: 'project-ctx', folder: '/only', name: 'a.txt' });
    expect(inputError([a], { projects: [] })).toMatch(/^A project must be specified/);
  });

  it('a missing path, a dangling symlink and a non-regular file get the classic texts', () => {
    expect(inputError([join(root, 'nope.txt')])).toBe(`File "${join(root, 'nope.txt')}" does not exist`);
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    expect(inputError([join(root, 'dangling')])).toBe(`File "${join(root, 'dangling')}" does not exist`);
    expect(inputError(['/dev/null'])).toBe('Argument /dev/null is not a regular file or directory.');
  });
});

describe('directories', () => {
  it('`dir` uploads its top-level files, sorted, into <folder>/dir', () => {
    const es = expandInputs([tree()], opts({ folders: ['/up'] }));
    expect(where(es)).toEqual(['/up/dir|.hidden', '/up/dir|a.txt', '/up/dir|b.txt']);
    expect(es.every((e) => e.source === 'directory' && e.argIndex === 0)).toBe(true);
    expect(es[1]).toMatchObject({ localPath: join(root, 'dir', 'a.txt'), size: 1 });
  });

  it('`dir/` appends nothing to the folder (classic basename ".")', () => {
    const es = expandInputs([`${tree()}/`], opts({ folders: ['/up/'] }));
    expect(where(es)).toEqual(['/up/|.hidden', '/up/|a.txt', '/up/|b.txt']);
  });

  it('--name names the remote folder made for a directory', () => {
    const es = expandInputs([tree()], opts({ names: ['renamed'] }));
    expect(where(es)).toEqual(['/renamed|.hidden', '/renamed|a.txt', '/renamed|b.txt']);
  });

  it('--recursive descends, each subdirectory appending its name, in sorted order', () => {
    const es = expandInputs([tree()], opts({ recursive: true }));
    expect(where(es)).toEqual([
      '/dir|.hidden',
      '/dir|a.txt',
      '/dir|b.txt',
      '/dir/sub|c.txt',
      '/dir/sub/deeper|d.txt',
    ]);
    expect(es.map((e) => e.order)).toEqual([0, 1, 2, 3, 4]);
  });

  it('follows symlinks but survives a symlink loop, walking each real directory once', () => {
    const dir = tree();
    symlinkSync(dir, join(dir, 'sub', 'loop'));
    symlinkSync(join(dir, 'a.txt'), join(dir, 'sub', 'z-link.txt'));
    const warnings: string[] = [];
    const es = expandInputs([dir], opts({ recursive: true }), undefined, {
      onWarning: (m) => warnings.push(m),
    });
    expect(where(es)).toEqual([
      '/dir|.hidden',
      '/dir|a.txt',
      '/dir|b.txt',
      '/dir/sub|c.txt',
      '/dir/sub/deeper|d.txt',
      '/dir/sub|z-link.txt',
    ]);
    expect(es[5].canonicalPath).toBe(es[1].canonicalPath);
    expect(warnings).toEqual([
      `Not descending into "${join(dir, 'sub', 'loop')}": it is the same directory as "${dir}" (symlink)`,
    ]);
  });

  it('an empty directory yields nothing', () => {
    mkdirSync(join(root, 'empty'));
    expect(expandInputs([join(root, 'empty')], opts({ recursive: true }))).toEqual([]);
  });

  it('counts files towards the 1000-file limit unless --override-file-limit', () => {
    for (let i = 0; i < 1001; i++) touch(`many/f${String(i).padStart(4, '0')}`, '');
    const many = join(root, 'many');
    expect(inputError([many])).toBe(
      'The number of files to upload is limited to 1000; add --override-file-limit to upload more in one run',
    );
    expect(expandInputs([many], opts({ overrideFileLimit: true }))).toHaveLength(1001);
  });
});

describe('relative arguments', () => {
  it('`.`, `dir`, `dir/` and a relative glob, resolved against the working directory', () => {
    const cwd = process.cwd();
    tree();
    touch('g/a.fq');
    try {
      process.chdir(join(root, 'dir'));
      expect(where(expandInputs(['.'], opts({ folders: ['/f'] })))).toEqual([
        '/f|.hidden',
        '/f|a.txt',
        '/f|b.txt',
      ]);
      process.chdir(root);
      const es = expandInputs(['dir', 'dir/', 'g/*.fq'], opts());
      expect(where(es)).toEqual([
        '/dir|.hidden',
        '/dir|a.txt',
        '/dir|b.txt',
        '/|.hidden',
        '/|a.txt',
        '/|b.txt',
        '/|a.fq',
      ]);
      expect(es[1]).toMatchObject({ localPath: join('dir', 'a.txt'), absPath: join(root, 'dir', 'a.txt') });
      expect(es[6]).toMatchObject({ localPath: 'g/a.fq', absPath: join(root, 'g', 'a.fq') });
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('--exclude', () => {
  it('skips by base name or by path relative to the directory, and prunes matching subdirectories', () => {
    const dir = tree();
    touch('dir/sub/skip.tmp');
    const byName = expandInputs([dir], opts({ recursive: true, exclude: ['*.tmp', 'b.txt'] }));
    expect(where(byName)).toEqual(['/dir|.hidden', '/dir|a.txt', '/dir/sub|c.txt', '/dir/sub/deeper|d.txt']);
    const byPath = expandInputs([dir], opts({ recursive: true, exclude: ['sub/deeper'] }));
    expect(where(byPath)).toEqual([
      '/dir|.hidden',
      '/dir|a.txt',
      '/dir|b.txt',
      '/dir/sub|c.txt',
      '/dir/sub|skip.tmp',
    ]);
    const deepGlob = expandInputs([dir], opts({ recursive: true, exclude: ['sub/**'] }));
    expect(where(deepGlob)).toEqual(['/dir|.hidden', '/dir|a.txt', '/dir|b.txt']);
  });

  it('applies to file arguments by base name', () => {
    const a = touch('a.log');
    const b = touch('b.txt');
    expect(expandInputs([a, b], opts({ exclude: ['*.log'] })).map((e) => e.name)).toEqual(['b.txt']);
  });

  it('applies to glob matches', () => {
    touch('g/x.fq');
    touch('g/y.fq');
    touch('g/nested/z.fq');
    expect(
      expandInputs([`${root}/g/**/*.fq`], opts({ exclude: ['y.fq', 'nested/**'] })).map((e) => e.name),
    ).toEqual(['x.fq']);
  });
});

describe('globs', () => {
  it('expands a pattern that is not a path, sorted, files only, no dotfiles, flat into the folder', () => {
    touch('g/b.fq');
    touch('g/a.fq');
    touch('g/.c.fq');
    touch('g/d.txt');
    mkdirSync(join(root, 'g', 'dir.fq'));
    touch('g/sub/e.fq');
    const es = expandInputs([`${root}/g/*.fq`], opts({ folders: ['/in'] }));
    expect(es.map((e) => e.localPath)).toEqual([join(root, 'g', 'a.fq'), join(root, 'g', 'b.fq')]);
    expect(where(es)).toEqual(['/in|a.fq', '/in|b.fq']);
    expect(es.every((e) => e.source === 'glob')).toBe(true);
    expect(where(expandInputs([`${root}/g/**/*.fq`], opts()))).toEqual(['/|a.fq', '/|b.fq', '/|e.fq']);
  });

  it('a file whose name has glob magic is taken literally when it exists', () => {
    const odd = touch('odd[1].txt');
    const es = expandInputs([odd], opts());
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({ name: 'odd[1].txt', source: 'file' });
  });

  it('a pattern matching nothing is an error with a hint', () => {
    const p = `${root}/nothing/*.fq`;
    expect(inputError([p])).toBe(
      `No files match "${p}"; check the path, or quote the pattern so that ua expands it rather than the shell`,
    );
  });

  it('one --name cannot name several matches', () => {
    touch('g/a.fq');
    touch('g/b.fq');
    expect(inputError([`${root}/g/*.fq`], { names: ['one'] })).toBe(
      `A single --name ("one") was given for "${root}/g/*.fq", which matches 2 files`,
    );
    expect(expandInputs([`${root}/g/a*.fq`], opts({ names: ['one'] }))[0].name).toBe('one');
  });
});

describe('--manifest', () => {
  function manifest(content: unknown): string {
    return touch('manifest.json', typeof content === 'string' ? content : JSON.stringify(content));
  }

  it('uploads entries with projects in sorted key order and entries in array order, then the other positionals', () => {
    const a = touch('a.txt');
    const b = touch('b.txt');
    const c = touch('c.txt');
    const m = manifest({
      'zeta-project': [{ path: a, folder: '/z', name: 'A' }],
      'alpha-project': [
        { path: b, folder: '/a1', name: 'B', extra: 1 },
        { path: c, folder: '/a2', name: 'C' },
      ],
    });
    const es = expandInputs(
      [m, a],
      opts({ manifest: true, projects: ['P0', 'P1'], names: ['ignored', 'last'] }),
    );
    expect(es.map((e) => [e.order, e.projectSpec, e.folder, e.name, e.source])).toEqual([
      [0, 'alpha-project', '/a1', 'B', 'manifest'],
      [1, 'alpha-project', '/a2', 'C', 'manifest'],
      [2, 'zeta-project', '/z', 'A', 'manifest'],
      [3, 'P1', '/', 'last', 'file'],
    ]);
  });

  it('reports every classic error, with the typos fixed', () => {
    const missing = join(root, 'no-manifest.json');
    expect(inputError([missing], { manifest: true })).toBe(
      `file('${missing}') cannot be opened for reading...`,
    );
    let m = manifest('{oops');
    expect(inputError([m], { manifest: true })).toMatch(
      new RegExp(`^An error occurred while trying to parse the manifest file '${m}' \\(`),
    );
    m = manifest([1]);
    expect(inputError([m], { manifest: true })).toBe(
      `The manifest file '${m}' does not contain a valid JSON hash.`,
    );
    m = manifest({ P: {} });
    expect(inputError([m], { manifest: true })).toBe(
      `The manifest file '${m}' does not contain a valid JSON hash value for project 'P'.`,
    );
    m = manifest({ P: ['x'] });
    expect(inputError([m], { manifest: true })).toBe(
      `The manifest file '${m}' contains an invalid entry for project 'P' at index '0'.`,
    );
    for (const key of ['path', 'folder', 'name']) {
      const entry: Record<string, string> = { path: touch('f.txt'), folder: '/', name: 'n' };
      delete entry[key];
      m = manifest({ P: [{ path: touch('ok.txt'), folder: '/', name: 'ok' }, entry] });
      expect(inputError([m], { manifest: true })).toBe(
        `The manifest file '${m}' contains an invalid entry for project 'P' at index '1' - missing key '${key}'.`,
      );
    }
    m = manifest({ P: [{ path: touch('f.txt'), folder: 7, name: 'n' }] });
    expect(inputError([m], { manifest: true })).toBe(
      `The manifest file '${m}' contains an invalid entry for project 'P' at index '0' - key 'folder' must be a string.`,
    );
  });

  it('checks every listed path up front', () => {
    const gone = join(root, 'gone.txt');
    const m = manifest({ P: [{ path: gone, folder: '/', name: 'g' }] });
    expect(inputError([m], { manifest: true })).toBe(
      `File "${gone}" does not exist (listed in the manifest file '${m}' for project 'P')`,
    );
    const m2 = manifest({ P: [{ path: root, folder: '/', name: 'd' }] });
    expect(inputError([m2], { manifest: true })).toBe(`Argument ${root} is not a regular file or directory.`);
  });
});

describe('stdin', () => {
  it('one entry named by the positional (which need not exist)', () => {
    const es = expandInputs(['does/not/exist.txt'], opts({ readFromStdin: true, folders: ['/s'] }));
    expect(es).toEqual([
      {
        order: 0,
        localPath: 'does/not/exist.txt',
        absPath: '',
        canonicalPath: '',
        size: 0,
        mtimeMs: 0,
        projectSpec: 'P',
        folder: '/s',
        name: 'exist.txt',
        source: 'stdin',
        argIndex: 0,
        stdin: true,
      },
    ]);
    expect(expandInputs(['x'], opts({ readFromStdin: true, names: ['given'] }))[0].name).toBe('given');
  });
});

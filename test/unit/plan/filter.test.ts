import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultOptions, type UaOptions } from '../../../src/config/options.js';
import { UsageError } from '../../../src/errors.js';
import { buildFilter, compileGlob } from '../../../src/plan/filter.js';
import { expandInputs, type UploadEntry } from '../../../src/plan/inputs.js';
import { tempDir } from '../../helpers/files.js';

const opts = (o: Partial<UaOptions> = {}): UaOptions => ({ ...defaultOptions(), projects: ['P'], ...o });
let tmp: { dir: string; cleanup(): void };
beforeEach(() => (tmp = tempDir('ua-filter-')));
afterEach(() => tmp.cleanup());

function touch(rel: string, content = 'x'): string {
  const p = join(tmp.dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}
const where = (es: UploadEntry[]) => es.map((e) => `${e.folder}|${e.name}`);
function usageError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

/** run/{a.fq, b.txt, .hid.fq, sub/{c.fq, d.txt, deep/e.fq}, tmp/f.fq} */
function run(): string {
  for (const f of ['a.fq', 'b.txt', '.hid.fq', 'sub/c.fq', 'sub/d.txt', 'sub/deep/e.fq', 'tmp/f.fq'])
    touch(`run/${f}`);
  return join(tmp.dir, 'run');
}

describe('patterns (rclone glob rules)', () => {
  const m = (glob: string, path: string) => compileGlob(glob).re.test(path);
  it('unanchored patterns match whole trailing path elements; /x is anchored at the base', () => {
    expect(m('file.jpg', 'file.jpg')).toBe(true);
    expect(m('file.jpg', 'directory/file.jpg')).toBe(true);
    expect(m('file.jpg', 'afile.jpg')).toBe(false);
    expect(m('file.jpg', 'directory/afile.jpg')).toBe(false);
    expect(m('/file.jpg', 'file.jpg')).toBe(true);
    expect(m('/file.jpg', 'directory/file.jpg')).toBe(false);
  });
  it('* and ? stay within a path element, ** crosses them', () => {
    expect(m('/*.jpg', 'file.jpg')).toBe(true);
    expect(m('/*.jpg', 'dir/file.jpg')).toBe(false);
    expect(m('/**.jpg', 'dir/sub/file.jpg')).toBe(true);
    expect(m('*.jpg', 'dir/file.jpg')).toBe(true);
    expect(m('dir/**', 'subdir/dir/subsubdir/anyfile')).toBe(true);
    expect(m('dir/**', 'subdir/file.png')).toBe(false);
    expect(m('*.t?t', 'dir/file.tzt')).toBe(true);
    expect(m('a?c', 'a/c')).toBe(false);
    expect(m('*', '.hidden')).toBe(true); // no dotfile exception, as in rclone
  });
  it('classes, alternates, escapes and {{regexp}}', () => {
    expect(m('*.[a-z]', 'dir/file.b')).toBe(true);
    expect(m('*.[a-z]', 'file.0')).toBe(false);
    expect(m('*.[!a-z]', 'file.0')).toBe(true);
    expect(m('*.{jpg,png}', 'dir/file.png')).toBe(true);
    expect(m('*.{jpg,png}', 'file.gif')).toBe(false);
    expect(m('{a,b{c,d}}.x', 'bd.x')).toBe(true);
    expect(m('*.\\?\\?\\?', 'file.???')).toBe(true);
    expect(m('*.\\?\\?\\?', 'file.abc')).toBe(false);
    expect(m('??[^[:punct:]]*', 'ab!c')).toBe(false);
    expect(m('??[[:alpha:]]*', 'abcd')).toBe(true);
    expect(m('*.{{jpe?g}}', 'dir/file.jpeg')).toBe(true);
    expect(m('*.{{jpe?g}}', 'file.jpeeg')).toBe(false);
    expect(m('[]]x', ']x')).toBe(true);
    expect(m('a.b', 'axb')).toBe(false); // regex characters are literal
  });
  it('a bad pattern is one line naming the option and the pattern', () => {
    expect(usageError(() => buildFilter({ include: ['*.[fq'] }))).toBe(
      '--include "*.[fq": has an unclosed [; escape it with \\ to match it literally',
    );
    expect(usageError(() => buildFilter({ exclude: ['{a,b'] }))).toMatch(
      /^--exclude "\{a,b": has an unclosed \{/,
    );
  });
  it('first match wins; includes come before excludes; an include implies - /** at the end', () => {
    const f = buildFilter({ include: ['*.fq'], exclude: ['bad.fq', '*.txt'] });
    expect(f.file('bad.fq')).toBe(true); // rclone: --include is tried first
    expect(f.file('x.txt')).toBe(false);
    expect(f.file('x.bam')).toBe(false); // the implied - /**
    const only = buildFilter({ exclude: ['*.txt'] });
    expect(only.file('x.bam')).toBe(true); // no rule matched: included
    const dirRule = buildFilter({ exclude: ['tmp/'] });
    expect(dirRule.file('tmp')).toBe(true); // a directory rule never matches a file
    expect(dirRule.descend('a/tmp')).toBe(false);
    expect(dirRule.accepts('a/tmp/x')).toBe(false);
  });
});

describe('--include / --exclude-from in a walk, a glob and file arguments', () => {
  it('--include selects by glob and walks every directory', () => {
    const dir = run();
    const es = expandInputs([dir], opts({ recursive: true, include: ['*.fq'] }));
    expect(where(es)).toEqual([
      '/run|.hid.fq',
      '/run|a.fq',
      '/run/sub|c.fq',
      '/run/sub/deep|e.fq',
      '/run/tmp|f.fq',
    ]);
    const top = expandInputs([dir], opts({ recursive: true, include: ['/*.fq'] }));
    expect(where(top)).toEqual(['/run|.hid.fq', '/run|a.fq']);
    const deep = expandInputs([dir], opts({ recursive: true, include: ['/sub/**'] }));
    expect(where(deep)).toEqual(['/run/sub|c.fq', '/run/sub|d.txt', '/run/sub/deep|e.fq']);
  });

  it('--exclude-from reads patterns, skipping blank lines and # ; comments; mixes with --exclude', () => {
    const dir = run();
    const list = touch('ex.txt', '# comments and blanks are skipped\n\n  *.txt  \n; tmp/**\n/tmp/\n');
    const es = expandInputs([dir], opts({ recursive: true, exclude: ['.hid*'], excludeFrom: [list] }));
    expect(where(es)).toEqual(['/run|a.fq', '/run/sub|c.fq', '/run/sub/deep|e.fq']);
    // A glob's matches are filtered relative to its static part, directory rules included.
    const globbed = expandInputs([`${dir}/**/*.fq`], opts({ excludeFrom: [list], include: [] }));
    expect(globbed.map((e) => e.name)).toEqual(['a.fq', 'c.fq', 'e.fq']);
  });

  it('applies to file arguments by their base name', () => {
    const dir = run();
    const es = expandInputs([join(dir, 'a.fq'), join(dir, 'b.txt')], opts({ include: ['*.fq'] }));
    expect(es.map((e) => e.name)).toEqual(['a.fq']);
  });

  it('a missing list file is one clear line', () => {
    expect(usageError(() => expandInputs([run()], opts({ excludeFrom: [join(tmp.dir, 'nope.txt')] })))).toBe(
      `--exclude-from "${join(tmp.dir, 'nope.txt')}": cannot read it (no such file); give a text file with one entry per line`,
    );
  });
});

describe('--files-from', () => {
  it('uploads exactly the listed files, in list order, where a walk of the root would put them', () => {
    const dir = run();
    const list = touch('list.txt', '# picked\nsub/deep/e.fq\n/b.txt\n\n; not this\nsub/deep/e.fq\na.fq\n');
    const es = expandInputs([dir], opts({ filesFrom: [list], folders: ['/in'] }));
    expect(where(es)).toEqual(['/in/run/sub/deep|e.fq', '/in/run|b.txt', '/in/run|a.fq']);
    expect(es[0].absPath).toBe(join(dir, 'sub/deep/e.fq'));
    // A root given as `dir/` adds no folder of its own, as for a walk.
    expect(where(expandInputs([`${dir}/`], opts({ filesFrom: [list] })))).toEqual([
      '/sub/deep|e.fq',
      '/|b.txt',
      '/|a.fq',
    ]);
  });

  it('refuses what it cannot do, one line each', () => {
    const dir = run();
    const list = (text: string) => touch('l.txt', text);
    const err = (text: string, o: Partial<UaOptions> = {}, pos = [dir]) =>
      usageError(() => expandInputs(pos, opts({ filesFrom: [list(text)], ...o })));
    expect(err('missing.fq\n')).toBe(
      `"missing.fq" (listed in --files-from ${join(tmp.dir, 'l.txt')}) does not exist under "${dir}"; fix the list or the directory`,
    );
    expect(err('sub\n')).toMatch(/"sub" .* is a directory; --files-from lists files, one per line$/);
    expect(err('../x\n')).toMatch(/is not a file below/);
    expect(err('a.fq\n', { include: ['*.fq'] })).toBe(
      '--files-from cannot be combined with --include: the list alone says which files to upload',
    );
    expect(err('a.fq\n', {}, [dir, dir])).toMatch(/^--files-from needs exactly one directory argument/);
    expect(err('a.fq\n', {}, [join(dir, 'a.fq')])).toMatch(/is not a directory$/);
    expect(usageError(() => expandInputs([dir], opts({ filesFrom: [join(tmp.dir, 'none')] })))).toBe(
      `--files-from "${join(tmp.dir, 'none')}": cannot read it (no such file); give a text file with one entry per line`,
    );
  });
});

describe('standard input', () => {
  it('one list may be -, read from stdin; two readers of stdin are refused', () => {
    const dir = run();
    expect(
      usageError(() =>
        expandInputs([dir], opts({ excludeFrom: ['-'], readFromStdin: true, recursive: true })),
      ),
    ).toBe('--exclude-from - and --read-from-stdin would all read standard input; give the lists as files');
    expect(usageError(() => expandInputs([dir], opts({ excludeFrom: ['-', '-'] })))).toMatch(
      /^--exclude-from - and --exclude-from - would all read/,
    );
  });
});

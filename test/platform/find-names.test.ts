import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { newFile } from './file-helpers.js';

/**
 * Names with the path-resolution special characters (`\`, `:`, `/`, `*`, `?`) in findDataObjects.
 * An exact `name` is matched literally. In `{glob}` a backslash before a special character makes
 * it literal and is a backslash itself before anything else, because of what dx sends: `dx describe
 * PATH` resolves the last component with findDataObjects `{glob}`, after dxpy's unescape_name_str has
 * turned only each `\\` into `\` (its other unescapes never match), so `dx describe 'back\\slash.txt'`
 * arrives as `back\slash.txt` and must find that file.
 */
let tp: TestPlatform;
let project: string;
const ids: Record<string, string> = {};

const NAMES = [
  'back\\slash.txt',
  'backslash.txt',
  'a\\b.txt',
  'a:b.txt',
  'a/b.txt',
  'a*b.txt',
  'a?b.txt',
  'aXb.txt',
  'trailing\\',
  'two\\\\slashes',
  'x🧬y',
  'colon\\:kept',
];

beforeAll(async () => {
  tp = await startTestPlatform();
  project = tp.platform.admin.createProject({ name: 'names', owner: tp.user });
  for (const name of NAMES) ids[name] = await newFile(tp, { project, name });
});
afterAll(() => tp.stop());

async function found(name: unknown): Promise<string[]> {
  const r = await tp.call('system/findDataObjects', {
    scope: { project },
    name,
    describe: { fields: { name: true } },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.results as Array<{ describe: { name: string } }>).map((x) => x.describe.name).sort();
}

/** What dxpy sends as the glob for a path component typed on the command line. */
const dxGlob = (typed: string) => typed.replace(/\\\\/g, '\\');

group('an exact name', () => {
  it.each(NAMES)('%j matches itself and nothing else: no character in it is special', async (name) => {
    expect(await found(name)).toEqual([name]);
  });

  it('an escape sequence in an exact name is two characters, not an escape', async () => {
    expect(await found('back\\\\slash.txt')).toEqual([]);
    expect(await found('a\\*b.txt')).toEqual([]);
    expect(await found('colon\\:kept')).toEqual(['colon\\:kept']);
  });
});

group('a glob', () => {
  it.each([
    ['a backslash before a letter is a backslash', 'back\\slash.txt', ['back\\slash.txt']],
    ['an escaped backslash is one backslash', 'back\\\\slash.txt', ['back\\slash.txt']],
    ['an escaped backslash before a letter', 'a\\\\b.txt', ['a\\b.txt']],
    ['an escaped colon', 'a\\:b.txt', ['a:b.txt']],
    ['an escaped slash', 'a\\/b.txt', ['a/b.txt']],
    ['an escaped star', 'a\\*b.txt', ['a*b.txt']],
    ['an escaped question mark', 'a\\?b.txt', ['a?b.txt']],
    ['a backslash at the end', 'trailing\\', ['trailing\\']],
    ['an escaped backslash at the end', 'trailing\\\\', ['trailing\\']],
    ['two escaped backslashes', 'two\\\\\\\\slashes', ['two\\\\slashes']],
    ['an escaped backslash, then an escaped colon', 'colon\\\\\\:kept', ['colon\\:kept']],
    ['a star among escapes', '*\\*b.txt', ['a*b.txt']],
    [
      'an unescaped question mark is any one character',
      'a?b.txt',
      ['a*b.txt', 'a/b.txt', 'a:b.txt', 'a?b.txt', 'aXb.txt', 'a\\b.txt'].sort(),
    ],
    ['`?` is one character, even outside the BMP', 'x?y', ['x🧬y']],
    ['an unescaped star is any run', 'back*', ['back\\slash.txt', 'backslash.txt'].sort()],
  ])('%s: %j', async (_label, glob, want) => {
    expect(await found({ glob })).toEqual(want);
  });
});

group('dx describe PATH, as dxpy turns PATH into a glob', () => {
  it.each([
    ['back\\\\slash.txt', 'back\\slash.txt'],
    ['back\\slash.txt', 'back\\slash.txt'],
    ['a\\\\b.txt', 'a\\b.txt'],
    ['a\\:b.txt', 'a:b.txt'],
    ['a\\/b.txt', 'a/b.txt'],
    ['a\\*b.txt', 'a*b.txt'],
    ['a\\?b.txt', 'a?b.txt'],
    ['trailing\\\\', 'trailing\\'],
    ['two\\\\\\\\\\\\\\\\slashes', 'two\\\\slashes'],
    ['colon\\\\\\:kept', 'colon\\:kept'],
  ])('dx describe %j finds %j alone', async (typed, name) => {
    expect(await found({ glob: dxGlob(typed) })).toEqual([name]);
  });
});

group('findProjects', () => {
  it('escapes globs the same way and matches exact names literally', async () => {
    const owner = tp.user;
    const star = tp.platform.admin.createProject({ name: 'run*1', owner });
    const other = tp.platform.admin.createProject({ name: 'runX1', owner });
    const slash = tp.platform.admin.createProject({ name: 'run\\1', owner });
    const find = async (name: unknown) => {
      const r = await tp.call('system/findProjects', { name });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.results as Array<{ id: string }>).map((x) => x.id).sort();
    };
    expect(await find({ glob: 'run\\*1' })).toEqual([star]);
    expect(await find({ glob: 'run*1' })).toEqual([star, other, slash].sort());
    expect(await find({ glob: 'run\\1' })).toEqual([slash]);
    expect(await find('run\\1')).toEqual([slash]);
    expect(await find('run*1')).toEqual([star]);
  });
});

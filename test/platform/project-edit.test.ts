/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { storedBlobs, uploadWhole, waitClosed } from './file-helpers.js';

/**
 * `/project-xxxx/move`, `/project-xxxx/removeFolder`, `listFolder` as `dx ls -l` asks for it,
 * and `/…/setVisibility`, through real HTTP. Every test works in a project of its own, so
 * folder listings are exact. Levels are covered by route-permissions.test.ts.
 */
let tp: TestPlatform;
let uploader: string; // an UPLOAD member of every project made by fresh()

async function ok(route: string, input: Record<string, unknown>, token?: string): Promise<any> {
  const r = await tp.call(route, input, token);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}
async function fails(route: string, input: Record<string, unknown>, type: string, token?: string) {
  const r = await tp.call(route, input, token);
  expect(r.body?.error?.type, `${route}: ${JSON.stringify(r.body)}`).toBe(type);
  return r.body.error.message as string;
}

let n = 0;
function fresh(): string {
  const a = tp.platform.admin;
  const p = a.createProject({ name: `edit-${++n}`, owner: tp.user });
  a.invite(p, 'user-edit-uploader', 'UPLOAD');
  return p;
}
const record = async (project: string, folder: string, extra: Record<string, unknown> = {}) =>
  (await ok('record/new', { project, folder, parents: true, name: `r${++n}`, ...extra })).id as string;
const list = (project: string, folder: string, more: Record<string, unknown> = {}) =>
  ok(`${project}/listFolder`, { folder, includeHidden: true, ...more });
const ids = (l: any) => l.objects.map((o: any) => o.id).sort();

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
  const u = tp.platform.admin.createUser('edit-uploader');
  uploader = tp.platform.admin.createToken({ user: u }).token;
});
afterAll(() => tp.stop());

group('move', () => {
  it('moves objects and folders with their contents, as dx-toolkit’s test_move does', async () => {
    const p = fresh();
    await ok(`${p}/newFolder`, { folder: '/a/b/c/d', parents: true });
    const r = await Promise.all([0, 1, 2, 3].map(() => record(p, '/')));
    const deep = await record(p, '/a/b/c/d/e');
    expect(
      await ok(`${p}/move`, { destination: '/a', objects: [r[0], r[1]], folders: ['/a/b/c/d'] }),
    ).toEqual({
      id: p,
    });
    const root = await list(p, '/');
    expect(ids(root)).toEqual([r[2], r[3]].sort());
    expect(root.folders).toEqual(['/a']);
    const a = await list(p, '/a');
    expect(ids(a)).toEqual([r[0], r[1]].sort());
    expect(a.folders).toEqual(['/a/b', '/a/d']);
    expect((await list(p, '/a/b/c')).folders).toEqual([]);
    expect((await list(p, '/a/d')).folders).toEqual(['/a/d/e']);
    expect((await ok(`${deep}/describe`, {})).folder).toBe('/a/d/e');
    expect((await ok(`${r[0]}/describe`, {})).folder).toBe('/a');
    // The folders a project describes and findDataObjects' folder scope follow the move.
    expect((await ok(`${p}/describe`, { fields: { folders: true } })).folders).toEqual(
      expect.arrayContaining(['/a/d', '/a/d/e']),
    );
    const found = await ok('system/findDataObjects', { scope: { project: p, folder: '/a/d' } });
    expect(found.results).toEqual([{ project: p, id: deep }]);
  });

  it('puts a named object or folder inside a named folder directly into the destination', async () => {
    const p = fresh();
    const inner = await record(p, '/x/y');
    const loose = await record(p, '/x/y/z');
    await ok(`${p}/newFolder`, { folder: '/dest' });
    await ok(`${p}/move`, { destination: '/dest', objects: [inner], folders: ['/x', '/x/y/z'] });
    expect((await list(p, '/dest')).folders).toEqual(['/dest/x', '/dest/z']);
    expect(ids(await list(p, '/dest'))).toEqual([inner]);
    expect(ids(await list(p, '/dest/z'))).toEqual([loose]);
    expect((await list(p, '/dest/x')).folders).toEqual(['/dest/x/y']);
    // A folder already in the destination stays; moving it there again changes nothing.
    await ok(`${p}/move`, { destination: '/dest', folders: ['/dest/x'] });
    expect((await list(p, '/dest')).folders).toEqual(['/dest/x', '/dest/z']);
  });

  it('refuses a missing destination, object or folder, a folder into itself, the root and a taken name', async () => {
    const p = fresh();
    const r = await record(p, '/f/g');
    await ok(`${p}/newFolder`, { folder: '/other/g', parents: true });
    const notFolder = await fails(`${p}/move`, { destination: '/nope', objects: [r] }, 'ResourceNotFound');
    expect(notFolder).toBe(`The folder /nope could not be found in ${p}`);
    await fails(`${p}/move`, { destination: '/', folders: ['/nope'] }, 'ResourceNotFound');
    const missing = 'record-012301230123012301230123';
    expect(await fails(`${p}/move`, { destination: '/', objects: [missing] }, 'ResourceNotFound')).toBe(
      `The entity ${missing} could not be found`,
    );
    for (const destination of ['/f', '/f/g', '/f/g/h']) {
      await fails(`${p}/move`, { destination, folders: ['/f'] }, 'InvalidInput');
    }
    await fails(`${p}/move`, { destination: '/other', folders: ['/'] }, 'InvalidInput');
    await fails(`${p}/move`, { destination: '/other', folders: ['/f/g'] }, 'InvalidState');
    for (const bad of [
      {},
      { destination: 'rel' },
      { destination: '/', objects: 'x' },
      { destination: '/', folders: [1] },
    ]) {
      await fails(`${p}/move`, bad, 'InvalidInput');
    }
    // Nothing moved.
    expect((await ok(`${r}/describe`, {})).folder).toBe('/f/g');
    expect((await list(p, '/')).folders).toEqual(['/f', '/other']);
  });

  it('UPLOAD moves open objects only; a closed object or a folder needs CONTRIBUTE', async () => {
    const p = fresh();
    const open = await record(p, '/');
    const closed = await record(p, '/', { close: true });
    await ok(`${p}/newFolder`, { folder: '/in' });
    await ok(`${p}/move`, { destination: '/in', objects: [open] }, uploader);
    const denied = `CONTRIBUTE permission required in ${p} to perform this action`;
    expect(
      await fails(`${p}/move`, { destination: '/in', objects: [closed] }, 'PermissionDenied', uploader),
    ).toBe(denied);
    expect(
      await fails(`${p}/move`, { destination: '/', folders: ['/in'] }, 'PermissionDenied', uploader),
    ).toBe(denied);
    expect((await ok(`${closed}/describe`, {})).folder).toBe('/');
    expect((await ok(`${open}/describe`, {})).folder).toBe('/in');
  });
});

group('removeFolder', () => {
  it('removes empty folders, normalising the path; a non-empty one needs recurse (test_new_list_remove_folders)', async () => {
    const p = fresh();
    await ok(`${p}/newFolder`, { folder: '/a/b/c/d', parents: true });
    const message = await fails(`${p}/removeFolder`, { folder: '/a' }, 'InvalidState');
    expect(message).toContain('folder is not empty');
    await ok(`${p}/removeFolder`, { folder: '/a/b/c/d' });
    await ok(`${p}/removeFolder`, { folder: '/a//b////c/' });
    await ok(`${p}/removeFolder`, { folder: '/a/b' });
    expect(await ok(`${p}/removeFolder`, { folder: '/a', partial: true })).toEqual({
      id: p,
      completed: true,
    });
    expect((await list(p, '/')).folders).toEqual([]);
    // A hidden object alone makes a folder non-empty too.
    const hidden = await record(p, '/h', { hidden: true });
    await fails(`${p}/removeFolder`, { folder: '/h' }, 'InvalidState');
    expect((await ok(`${hidden}/describe`, {})).folder).toBe('/h');
  });

  it('with recurse removes the objects (and a file’s bytes) and the subfolders, and nothing outside', async () => {
    const p = fresh();
    const file = await uploadWhole(tp, [Buffer.from('bytes in a folder')], {
      project: p,
      folder: '/run',
      parents: true,
    });
    await waitClosed(tp, file);
    const deep = await record(p, '/run/sub/deeper', { hidden: true });
    const sibling = await record(p, '/runs');
    const outside = await record(p, '/');
    expect(storedBlobs(tp, file)).toEqual([`db:objects/${file}`]);
    expect(await ok(`${p}/removeFolder`, { folder: '/run', recurse: true })).toEqual({ id: p });
    for (const id of [file, deep]) expect((await tp.call(`${id}/describe`, {})).status).toBe(404);
    expect(storedBlobs(tp, file)).toEqual([]);
    expect(ids(await list(p, '/'))).toEqual([outside]);
    expect((await list(p, '/')).folders).toEqual(['/runs']);
    expect(ids(await list(p, '/runs'))).toEqual([sibling]);
    const found = await ok('system/findDataObjects', { scope: { project: p }, visibility: 'either' });
    expect(found.results.map((r: any) => r.id).sort()).toEqual([outside, sibling].sort());
  });

  it('refuses the root, a missing folder (unless force) and bad input; needs CONTRIBUTE', async () => {
    const p = fresh();
    await fails(`${p}/removeFolder`, { folder: '/', recurse: true, force: true }, 'InvalidInput');
    expect(await fails(`${p}/removeFolder`, { folder: '/gone' }, 'ResourceNotFound')).toBe(
      `The folder /gone could not be found in ${p}`,
    );
    expect(await ok(`${p}/removeFolder`, { folder: '/gone', force: true, partial: true })).toEqual({
      id: p,
      completed: true,
    });
    for (const bad of [{}, { folder: 'x' }, { folder: '/x', recurse: 'yes' }, { folder: '/x', partial: 1 }]) {
      await fails(`${p}/removeFolder`, bad, 'InvalidInput');
    }
    await ok(`${p}/newFolder`, { folder: '/kept' });
    const message = await fails(`${p}/removeFolder`, { folder: '/kept' }, 'PermissionDenied', uploader);
    expect(message).toBe(`CONTRIBUTE permission required in ${p} to perform this action`);
    expect((await list(p, '/')).folders).toEqual(['/kept']);
  });

  it('in a protected project, removing objects needs ADMINISTER; an empty folder does not', async () => {
    const p = fresh();
    const contributor = tp.platform.admin.createUser(`contrib-${++n}`);
    tp.platform.admin.invite(p, contributor, 'CONTRIBUTE');
    const token = tp.platform.admin.createToken({ user: contributor }).token;
    const r = await record(p, '/full');
    await ok(`${p}/newFolder`, { folder: '/empty' });
    await ok(`${p}/update`, { protected: true });
    const message = await fails(
      `${p}/removeFolder`,
      { folder: '/full', recurse: true },
      'PermissionDenied',
      token,
    );
    expect(message).toBe(`ADMINISTER permission required in ${p} to perform this action`);
    expect((await ok(`${r}/describe`, {})).folder).toBe('/full');
    await ok(`${p}/removeFolder`, { folder: '/empty' }, token);
    await ok(`${p}/removeFolder`, { folder: '/full', recurse: true });
    expect((await list(p, '/')).folders).toEqual([]);
  });
});

group('listFolder as dx ls -l asks', () => {
  it('describes each object with the fields asked for, and flags folders with subfolders on request', async () => {
    const p = fresh();
    const file = await uploadWhole(tp, [Buffer.from('twelve bytes')], {
      project: p,
      folder: '/ls',
      parents: true,
    });
    await waitClosed(tp, file);
    const rec = await record(p, '/ls');
    await ok(`${p}/newFolder`, { folder: '/ls/sub/leaf', parents: true });
    await ok(`${p}/newFolder`, { folder: '/ls/flat' });
    const fields = {
      id: true,
      class: true,
      folder: true,
      length: true,
      modified: true,
      name: true,
      project: true,
      size: true,
      state: true,
    };
    const l = await ok(`${p}/listFolder`, { folder: '/ls', describe: { fields } });
    expect(l.folders).toEqual(['/ls/flat', '/ls/sub']);
    const byId = Object.fromEntries(l.objects.map((o: any) => [o.id, o.describe]));
    expect(Object.keys(byId).sort()).toEqual([file, rec].sort());
    expect(byId[file]).toEqual({
      id: file,
      class: 'file',
      folder: '/ls',
      modified: expect.any(Number),
      name: 'f.bin',
      project: p,
      size: 12,
      state: 'closed',
    });
    expect(Object.keys(byId[rec]).sort()).toEqual([
      'class',
      'folder',
      'id',
      'modified',
      'name',
      'project',
      'state',
    ]);
    const plain = await ok(`${p}/listFolder`, { folder: '/ls', describe: true, only: 'objects' });
    expect(plain.folders).toBeUndefined();
    expect(plain.objects.find((o: any) => o.id === file).describe).toMatchObject({
      id: file,
      size: 12,
      hidden: false,
    });
    const flagged = await ok(`${p}/listFolder`, { folder: '/ls', only: 'folders', hasSubfolderFlags: true });
    expect(flagged).toEqual({
      folders: [
        ['/ls/flat', false],
        ['/ls/sub', true],
      ],
    });
    await fails(`${p}/listFolder`, { folder: '/ls', describe: 'yes' }, 'InvalidInput');
    await fails(`${p}/listFolder`, { folder: '/ls', hasSubfolderFlags: 'yes' }, 'InvalidInput');
  });
});

group('setVisibility', () => {
  it('hides and unhides an open file or record; a closed one is InvalidState (dxpy test_close_dxrecord)', async () => {
    const p = fresh();
    const rec = await record(p, '/');
    expect(await ok(`${rec}/setVisibility`, { hidden: true }, uploader)).toEqual({ id: rec });
    expect((await ok(`${rec}/describe`, {})).hidden).toBe(true);
    expect((await list(p, '/', { includeHidden: false })).objects).toEqual([]);
    await ok(`${rec}/setVisibility`, { hidden: false, project: p });
    expect((await ok(`${rec}/describe`, {})).hidden).toBe(false);
    const file = (await ok('file/new', { project: p, name: 'vis' })).id;
    await ok(`${file}/setVisibility`, { hidden: true });
    const found = await ok('system/findDataObjects', { scope: { project: p }, visibility: 'hidden' });
    expect(found.results).toEqual([{ project: p, id: file }]);
    await ok(`${rec}/close`, {});
    const message = await fails(`${rec}/setVisibility`, { hidden: true }, 'InvalidState');
    expect(message).toBe(`Cannot change the visibility of ${rec} because it is in state closed`);
    await fails(`${file}/setVisibility`, { hidden: 'yes' }, 'InvalidInput');
    await fails(`${file}/setVisibility`, {}, 'InvalidInput');
    await fails(`${file}/setVisibility`, { hidden: false, project: tp.project }, 'ResourceNotFound');
    expect((await ok(`${file}/describe`, {})).hidden).toBe(true);
  });
});

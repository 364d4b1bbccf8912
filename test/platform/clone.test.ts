/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { downloadBytes, storedBlobs, uploadWhole, waitClosed } from './file-helpers.js';

/**
 * `/project-xxxx/clone` through real HTTP: the same object IDs appear in the destination, each
 * copy with its own metadata and the data shared, and every route sees the right copy. Levels
 * are in route-permissions.test.ts; the re-keying of an older data dir in clone-upgrade.test.ts.
 */
let tp: TestPlatform;

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
const project = (region?: string) =>
  tp.platform.admin.createProject({ name: `clone-${++n}`, owner: tp.user, ...(region ? { region } : {}) });
const record = async (p: string, extra: Record<string, unknown> = {}) =>
  (await ok('record/new', { project: p, name: `r${++n}`, parents: true, ...extra })).id as string;
const list = (p: string, folder = '/') => ok(`${p}/listFolder`, { folder, includeHidden: true });
const ids = (l: any) => l.objects.map((o: any) => o.id).sort();

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
});
afterAll(() => tp.stop());

group('clone', () => {
  it('copies closed objects and folders into the destination, as dx-toolkit’s test_clone does', async () => {
    const src = project();
    const dest = project();
    await ok(`${src}/newFolder`, { folder: '/a/b/c/d', parents: true });
    const r = await Promise.all([0, 1, 2, 3].map(() => record(src)));
    const inD = await record(src, { folder: '/a/b/c/d/e', close: true });
    const input = { project: dest, destination: '/', objects: [r[0], r[1]], folders: ['/a/b/c/d'] };
    // Open records: refused, and nothing at all is cloned.
    expect(await fails(`${src}/clone`, input, 'InvalidState')).toBe(
      `Cannot clone ${r[0]} because it is in state open`,
    );
    expect(await list(dest)).toEqual({ objects: [], folders: [] });
    for (const id of [r[0], r[1]]) await ok(`${id}/close`, {});
    expect(await ok(`${src}/clone`, input)).toEqual({ id: src, project: dest, exists: [] });
    const root = await list(dest);
    expect(ids(root)).toEqual([r[0], r[1]].sort());
    expect(root.folders).toEqual(['/d']);
    expect(ids(await list(dest, '/d/e'))).toEqual([inD]);
    // Nothing changed in the source.
    expect(ids(await list(src))).toEqual([...r].sort());
    expect((await ok(`${inD}/describe`, { project: src })).folder).toBe('/a/b/c/d/e');
    // Again: every object is already there, wherever it is, and is left alone.
    await ok(`${dest}/move`, { destination: '/d', objects: [r[0]] });
    const again = await ok(`${src}/clone`, input);
    expect(again.exists.sort()).toEqual([r[0], r[1], inD].sort());
    expect((await ok(`${r[0]}/describe`, { project: dest })).folder).toBe('/d');
  });

  it('gives each copy its own metadata; describe, download, find and listProjects see the right one', async () => {
    const src = project();
    const dest = project();
    const bytes = Buffer.from('shared bytes of a cloned file');
    const file = await uploadWhole(tp, [bytes], {
      project: src,
      name: 'reads.fq',
      properties: { run: 'r1' },
      tags: ['t'],
    });
    await waitClosed(tp, file);
    await ok(`${dest}/newFolder`, { folder: '/in' });
    await ok(`${src}/clone`, { project: dest, destination: '/in', objects: [file] });
    await ok(`${file}/rename`, { project: dest, name: 'copy.fq' });
    await ok(`${file}/setProperties`, { project: dest, properties: { run: 'r2' } });
    const a = await ok(`${file}/describe`, { project: src, properties: true });
    const b = await ok(`${file}/describe`, { project: dest, properties: true });
    expect(a).toMatchObject({
      id: file,
      project: src,
      folder: '/',
      name: 'reads.fq',
      properties: { run: 'r1' },
    });
    expect(b).toMatchObject({
      id: file,
      project: dest,
      folder: '/in',
      name: 'copy.fq',
      properties: { run: 'r2' },
    });
    for (const d of [a, b])
      expect(d).toMatchObject({ state: 'closed', size: bytes.length, tags: ['t'], created: a.created });
    expect((await tp.call(`${file}/download`, { project: dest })).status).toBe(200);
    expect((await downloadBytes(tp, file)).bytes).toEqual(bytes);
    expect(await ok(`${file}/listProjects`, {})).toEqual({ [src]: 'ADMINISTER', [dest]: 'ADMINISTER' });
    // Found once per copy; a property filter matches each copy's own values.
    const both = await ok('system/findDataObjects', { class: 'file', name: { glob: '*.fq' } });
    expect(
      both.results
        .filter((x: any) => x.id === file)
        .map((x: any) => x.project)
        .sort(),
    ).toEqual([src, dest].sort());
    for (const [run, where] of [
      ['r1', src],
      ['r2', dest],
    ]) {
      const found = await ok('system/findDataObjects', {
        properties: { run },
        describe: { fields: { name: true } },
      });
      expect(found.results).toEqual([
        { project: where, id: file, describe: { id: file, name: where === src ? 'reads.fq' : 'copy.fq' } },
      ]);
    }
    const listed = await ok(`${dest}/listFolder`, {
      folder: '/in',
      describe: { fields: { project: true, name: true } },
    });
    expect(listed.objects).toEqual([{ id: file, describe: { id: file, project: dest, name: 'copy.fq' } }]);
    const many = await ok('system/describeDataObjects', { objects: [file] });
    expect(many.results[0].describe.id).toBe(file);
  });

  it('removing one copy keeps the other and the bytes; removing the last frees them', async () => {
    const src = project();
    const dest = project();
    const bytes = Buffer.from('kept while a copy remains');
    const file = await uploadWhole(tp, [bytes], { project: src, properties: { k: 'v' } });
    await waitClosed(tp, file);
    await ok(`${src}/clone`, { project: dest, objects: [file] });
    await ok(`${src}/removeObjects`, { objects: [file] });
    expect(storedBlobs(tp, file)).toEqual([`db:objects/${file}`]);
    await fails(`${file}/describe`, { project: src }, 'ResourceNotFound');
    expect((await ok(`${file}/describe`, {})).project).toBe(dest);
    expect((await downloadBytes(tp, file)).bytes).toEqual(bytes);
    expect((await ok('system/findDataObjects', { properties: { k: 'v' } })).results).toEqual([
      { project: dest, id: file },
    ]);
    await ok(`${dest}/removeObjects`, { objects: [file] });
    expect(storedBlobs(tp, file)).toEqual([]);
    expect((await tp.call(`${file}/describe`, {})).status).toBe(404);
    expect((await ok('system/findDataObjects', { properties: { k: 'v' } })).results).toEqual([]);
  });

  it('clones the root’s contents into the destination, skips hidden objects of folders, creates parents', async () => {
    const src = project();
    const dest = project();
    const top = await record(src, { close: true });
    const sub = await record(src, { folder: '/s', close: true });
    const hiddenInFolder = await record(src, { folder: '/s', hidden: true, close: true });
    const hiddenNamed = await record(src, { hidden: true, close: true });
    await fails(`${src}/clone`, { project: dest, destination: '/x/y', folders: ['/'] }, 'ResourceNotFound');
    const out = await ok(`${src}/clone`, {
      project: dest,
      destination: '/x/y',
      parents: true,
      folders: ['/'],
      objects: [hiddenNamed],
    });
    expect(out).toEqual({ id: src, project: dest, exists: [] });
    expect(ids(await list(dest, '/x/y'))).toEqual([top, hiddenNamed].sort());
    expect(ids(await list(dest, '/x/y/s'))).toEqual([sub]);
    expect((await tp.call(`${hiddenInFolder}/describe`, { project: dest })).status).toBe(404);
  });

  it('refuses other regions, a restricted source, the same container and what is not there', async () => {
    const src = project();
    const azure = project('azure:westeurope');
    const dest = project();
    const r = await record(src, { close: true });
    expect(await fails(`${src}/clone`, { project: azure, objects: [r] }, 'InvalidState')).toContain(
      'different regions',
    );
    await fails(`${src}/clone`, { project: src, objects: [r] }, 'InvalidInput');
    const missing = 'record-012301230123012301230123';
    expect(await fails(`${src}/clone`, { project: dest, objects: [missing] }, 'ResourceNotFound')).toBe(
      `The entity ${missing} could not be found`,
    );
    await fails(`${src}/clone`, { project: dest, folders: ['/nope'] }, 'ResourceNotFound');
    await fails(
      `${src}/clone`,
      { project: 'project-012301230123012301230123', objects: [r] },
      'ResourceNotFound',
    );
    for (const bad of [
      {},
      { project: 'x' },
      { project: dest, objects: 'x' },
      { project: dest, parents: 1 },
    ]) {
      await fails(`${src}/clone`, bad, 'InvalidInput');
    }
    await ok(`${src}/update`, { restricted: true });
    await fails(`${src}/clone`, { project: dest, objects: [r] }, 'PermissionDenied');
    expect(await list(dest)).toEqual({ objects: [], folders: [] });
    // The container form is routed too (this server makes no containers, so none is found).
    const c = 'container-012301230123012301230123';
    expect(await fails(`${c}/clone`, { project: dest }, 'ResourceNotFound')).toBe(
      `The entity ${c} could not be found`,
    );
  });

  it('VIEW on the source and UPLOAD on the destination suffice', async () => {
    const src = project();
    const dest = project();
    const r = await record(src, { close: true });
    const a = tp.platform.admin;
    const bob = a.createUser(`bob-${++n}`);
    a.invite(src, bob, 'VIEW');
    a.invite(dest, bob, 'VIEW');
    const token = a.createToken({ user: bob }).token;
    expect(await fails(`${src}/clone`, { project: dest, objects: [r] }, 'PermissionDenied', token)).toBe(
      `UPLOAD permission required in ${dest} to perform this action`,
    );
    a.invite(dest, bob, 'UPLOAD');
    expect((await ok(`${src}/clone`, { project: dest, objects: [r] }, token)).exists).toEqual([]);
    // bob sees only the copies he may: his levels, not alice's.
    expect(await ok(`${r}/listProjects`, {}, token)).toEqual({ [src]: 'VIEW', [dest]: 'UPLOAD' });
  });
});

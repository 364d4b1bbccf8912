import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.stop());

async function newProject(input: Record<string, unknown>, token?: string): Promise<string> {
  const res = await tp.call('project/new', input, token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.id as string;
}

describe('project/new and describe', () => {
  it('creates a project whose creator is ADMINISTER, with the given metadata', async () => {
    const id = await newProject({
      name: 'reads',
      summary: 'sum',
      description: 'desc',
      tags: ['a', 'b'],
      properties: { k: 'v' },
      protected: true,
      externalUploadRestricted: true,
      region: 'aws:eu-central-1',
    });
    expect(id).toMatch(/^project-[0-9BFGJKPQVXYZbfgjkpqvxyz]{24}$/);
    const d = (await tp.call(`${id}/describe`)).body;
    expect(d).toMatchObject({
      id,
      class: 'project',
      name: 'reads',
      summary: 'sum',
      description: 'desc',
      level: 'ADMINISTER',
      region: 'aws:eu-central-1',
      billTo: tp.user,
      createdBy: { user: tp.user },
      folders: ['/'],
      tags: ['a', 'b'],
      properties: { k: 'v' },
      protected: true,
      restricted: false,
      externalUploadRestricted: true,
      containsPHI: false,
      permissions: { [tp.user]: 'ADMINISTER' },
    });
    expect(d.created).toBeTypeOf('number');
    expect(d.defaultSymlink).toBeUndefined();
    expect(d.fileUploadParameters).toBeUndefined();
  });

  it.each([
    [{}, 'name is required'],
    [{ name: '' }, 'name must not be empty'],
    [{ name: 'x', region: 'mars:1' }, 'region mars:1 is not permitted'],
    [{ name: 'x', tags: 'a' }, 'tags must be an array of strings'],
    [
      { name: 'x', defaultSymlink: { drive: 'nope', container: 'b' } },
      'defaultSymlink.drive must be a drive ID',
    ],
  ])('refuses bad input %j with InvalidInput', async (input, message) => {
    const res = await tp.call('project/new', input);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ type: 'InvalidInput', message });
  });

  it('selects fields with {fields} and gives fileUploadParameters per cloud', async () => {
    const aws = await tp.call(`${tp.project}/describe`, { fields: { id: true, fileUploadParameters: true } });
    expect(aws.body).toEqual({
      id: tp.project,
      fileUploadParameters: {
        minimumPartSize: 5242880,
        maximumPartSize: 5368709120,
        maximumFileSize: 5497558138880,
        maximumNumParts: 10000,
        emptyLastPartAllowed: true,
      },
    });
    const az = await newProject({ name: 'azure', region: 'azure:westus' });
    const legacy = await tp.call(`${az}/describe`, { fileUploadParameters: true });
    expect(legacy.body.name).toBe('azure'); // legacy flag: defaults plus the flag
    expect(legacy.body.fileUploadParameters).toEqual({
      minimumPartSize: 1,
      maximumPartSize: 4194304,
      maximumFileSize: 209715200000,
      maximumNumParts: 50000,
      emptyLastPartAllowed: false,
    });
  });

  it('update changes flags and defaultSymlink, and bumps modified', async () => {
    const id = await newProject({ name: 'to-update' });
    const before = (await tp.call(`${id}/describe`)).body;
    // The drive must exist and be the caller's (a working defaultSymlink: test/platform/symlink-*.test.ts).
    const symlink = { drive: 'drive-000000000000000000000000', container: 'bucket', prefix: '/p' };
    const refused = await tp.call(`${id}/update`, { name: 'renamed', defaultSymlink: symlink });
    expect(refused.body.error.type).toBe('ResourceNotFound');
    const res = await tp.call(`${id}/update`, { name: 'renamed', restricted: true });
    expect(res.body).toEqual({ id });
    const after = (await tp.call(`${id}/describe`)).body;
    expect(after).toMatchObject({ name: 'renamed', restricted: true });
    expect(after.defaultSymlink).toBeUndefined();
    expect(after.modified).toBeGreaterThanOrEqual(before.modified);
    await tp.call(`${id}/update`, { defaultSymlink: null });
    expect((await tp.call(`${id}/describe`)).body.defaultSymlink).toBeUndefined();
  });
});

describe('folders', () => {
  it('newFolder with parents creates every level; listFolder lists direct children', async () => {
    const p = await newProject({ name: 'folders' });
    expect((await tp.call(`${p}/newFolder`, { folder: '//a///b/c/', parents: true })).body).toEqual({
      id: p,
    });
    await tp.call(`${p}/newFolder`, { folder: '/a/d' });
    expect((await tp.call(`${p}/listFolder`, {})).body).toEqual({ objects: [], folders: ['/a'] });
    expect((await tp.call(`${p}/listFolder`, { folder: '/a/', only: 'folders' })).body).toEqual({
      folders: ['/a/b', '/a/d'],
    });
    expect((await tp.call(`${p}/describe`, { fields: { folders: true } })).body.folders).toEqual([
      '/',
      '/a',
      '/a/b',
      '/a/b/c',
      '/a/d',
    ]);
  });

  it('refuses a missing parent, an existing folder without parents, and bad names', async () => {
    const p = await newProject({ name: 'folder-errors' });
    const missing = await tp.call(`${p}/newFolder`, { folder: '/x/y' });
    expect([missing.status, missing.body.error.type]).toEqual([404, 'ResourceNotFound']);
    await tp.call(`${p}/newFolder`, { folder: '/x' });
    const again = await tp.call(`${p}/newFolder`, { folder: '/x' });
    expect(again.body.error.type).toBe('InvalidState');
    expect((await tp.call(`${p}/newFolder`, { folder: '/x', parents: true })).status).toBe(200);
    for (const folder of ['x', '', '/a/../b', '/a/./b', '/a\u0001b', 7]) {
      const bad = await tp.call(`${p}/newFolder`, { folder });
      expect(bad.body.error.type, JSON.stringify(folder)).toBe('InvalidInput');
    }
    const list = await tp.call(`${p}/listFolder`, { folder: '/nope' });
    expect(list.body.error.type).toBe('ResourceNotFound');
  });
  it('listFolder lists the objects directly in the folder, hidden ones on request', async () => {
    const p = await newProject({ name: 'with-objects' });
    const mk = async (name: string, folder: string, hidden = false) => {
      const res = await tp.call('file/new', { project: p, folder, name, parents: true, hidden });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.id as string;
    };
    const shown = await mk('a.txt', '/data');
    const hidden = await mk('b.txt', '/data', true);
    await mk('c.txt', '/data/deeper');
    const plain = await tp.call(`${p}/listFolder`, { folder: '/data' });
    expect(plain.body).toEqual({ objects: [{ id: shown }], folders: ['/data/deeper'] });
    const all = await tp.call(`${p}/listFolder`, {
      folder: '/data',
      includeHidden: true,
      describe: true,
      only: 'objects',
    });
    expect(all.body.folders).toBeUndefined();
    expect(all.body.objects.map((o: { id: string }) => o.id).sort()).toEqual([shown, hidden].sort());
    const names = all.body.objects.map((o: { describe: { name: string } }) => o.describe.name).sort();
    expect(names).toEqual(['a.txt', 'b.txt']);
  });
});

describe('members', () => {
  it('invite by handle or ID answers accepted; decreasePermissions lowers and removes', async () => {
    const p = await newProject({ name: 'members' });
    const carol = tp.platform.admin.createUser('Carol');
    const { token } = tp.platform.admin.createToken({ user: carol });
    expect((await tp.call(`${p}/invite`, { invitee: 'CAROL', level: 'CONTRIBUTE' })).body).toEqual({
      id: 'user-carol',
      state: 'accepted',
    });
    expect((await tp.call(`${p}/describe`, {}, token)).body.level).toBe('CONTRIBUTE');
    expect((await tp.call(`${p}/describe`)).body.permissions).toEqual({
      [tp.user]: 'ADMINISTER',
      [carol]: 'CONTRIBUTE',
    });
    const raise = await tp.call(`${p}/decreasePermissions`, { [carol]: 'ADMINISTER' });
    expect(raise.body.error.type).toBe('InvalidInput');
    await tp.call(`${p}/decreasePermissions`, { [carol]: 'VIEW' });
    expect((await tp.call(`${p}/describe`, {}, token)).body.level).toBe('VIEW');
    await tp.call(`${p}/decreasePermissions`, { [carol]: null });
    expect((await tp.call(`${p}/describe`, {}, token)).body.error.type).toBe('PermissionDenied');
  });

  it('invite refuses unknown users and bad levels', async () => {
    expect((await tp.call(`${tp.project}/invite`, { invitee: 'nobody', level: 'VIEW' })).body.error).toEqual({
      type: 'ResourceNotFound',
      message: 'The entity user-nobody could not be found',
    });
    const bad = await tp.call(`${tp.project}/invite`, { invitee: tp.user, level: 'OWNER' });
    expect(bad.body.error.type).toBe('InvalidInput');
  });

  it('leave removes the caller', async () => {
    const p = await newProject({ name: 'leavable' });
    const dave = tp.platform.admin.createUser('dave');
    const { token } = tp.platform.admin.createToken({ user: dave });
    tp.platform.admin.invite(p, dave, 'UPLOAD');
    expect((await tp.call(`${p}/leave`, {}, token)).body).toEqual({ id: p });
    expect((await tp.call(`${p}/describe`, {}, token)).status).toBe(401);
  });
});

describe('system/findProjects', () => {
  let erin: string;
  let token: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    erin = tp.platform.admin.createUser('erin');
    token = tp.platform.admin.createToken({ user: erin }).token;
    for (const [name, level] of [
      ['seq-run-1', 'VIEW'],
      ['seq-run-2', 'UPLOAD'],
      ['seq-run-3', 'ADMINISTER'],
      ['other', 'CONTRIBUTE'],
    ] as const) {
      ids[name] = tp.platform.admin.createProject({ name, owner: tp.user });
      tp.platform.admin.invite(ids[name], erin, level);
    }
  });
  const find = async (input: Record<string, unknown>) => {
    const res = await tp.call('system/findProjects', input, token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as {
      results: Array<{ id: string; level: string; describe?: { name: string } }>;
      next: unknown;
    };
  };

  it('finds by exact name at the UPLOAD minimum, as ua asks', async () => {
    expect((await find({ name: 'seq-run-2', level: 'UPLOAD' })).results).toEqual([
      { id: ids['seq-run-2'], level: 'UPLOAD' },
    ]);
    expect((await find({ name: 'seq-run-1', level: 'UPLOAD' })).results).toEqual([]);
    expect((await find({ name: 'seq-run-1' })).results).toEqual([{ id: ids['seq-run-1'], level: 'VIEW' }]);
  });

  it('matches glob and regexp names and the level minimum', async () => {
    const glob = await find({ name: { glob: 'seq-run-?' }, level: 'UPLOAD' });
    expect(glob.results.map((r) => r.id).sort()).toEqual([ids['seq-run-2'], ids['seq-run-3']].sort());
    const re = await find({ name: { regexp: '^(other|seq-run-1)$' } });
    expect(re.results.map((r) => r.id).sort()).toEqual([ids['other'], ids['seq-run-1']].sort());
    expect((await find({ level: 'ADMINISTER' })).results.map((r) => r.id)).toEqual([ids['seq-run-3']]);
  });

  it('describes results on request and pages with limit/starting/next', async () => {
    const first = await find({ limit: 3, describe: { fields: { name: true } } });
    expect(first.results).toHaveLength(3);
    const nameOf = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    for (const r of first.results) expect(r.describe).toEqual({ name: nameOf[r.id] });
    expect(first.next).toBeTypeOf('string');
    const second = await find({ limit: 3, starting: first.next });
    expect(second.results).toHaveLength(1);
    expect(second.results[0].describe).toBeUndefined();
    expect(second.next).toBeNull();
    const seen = [...first.results, ...second.results].map((r) => r.id);
    expect(seen.sort()).toEqual(Object.values(ids).sort()); // every project exactly once
  });

  it('refuses a bad regexp and a bad level', async () => {
    expect((await tp.call('system/findProjects', { name: { regexp: '(' } }, token)).body.error.type).toBe(
      'InvalidInput',
    );
    expect((await tp.call('system/findProjects', { level: 'NONE' }, token)).body.error.type).toBe(
      'InvalidInput',
    );
  });
});

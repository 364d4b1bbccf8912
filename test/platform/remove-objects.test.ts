/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { afterAll, beforeAll, describe as group, expect, it, vi } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import {
  newFile,
  putTo,
  signPart,
  storedBlobs,
  uploadPart,
  uploadWhole,
  waitClosed,
} from './file-helpers.js';

/** `/project-xxxx/removeObjects` through real HTTP: the objects go, and so do a file's bytes. */
let tp: TestPlatform;
let uploaderToken: string;
let contributorToken: string;

async function ok(route: string, input: Record<string, unknown>, token?: string): Promise<any> {
  const r = await tp.call(route, input, token);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
  const a = tp.platform.admin;
  const member = (handle: string, level: 'UPLOAD' | 'CONTRIBUTE') => {
    const u = a.createUser(handle);
    a.invite(tp.project, u, level);
    return a.createToken({ user: u }).token;
  };
  uploaderToken = member('rm-uploader', 'UPLOAD');
  contributorToken = member('rm-contributor', 'CONTRIBUTE');
});
afterAll(() => tp.stop());

async function expectGone(p: TestPlatform, id: string, name: string): Promise<void> {
  const d = await p.call(`${id}/describe`, {});
  expect(d.status).toBe(404);
  expect(d.body.error).toEqual({ type: 'ResourceNotFound', message: `The entity ${id} could not be found` });
  const found = await p.call('system/findDataObjects', { name, visibility: 'either' });
  expect(found.body.results).toEqual([]);
  const scoped = await p.call('system/findDataObjects', {
    scope: { project: p.project },
    visibility: 'either',
  });
  expect(scoped.body.results.map((r: any) => r.id)).not.toContain(id);
  const listed = await p.call(`${p.project}/listFolder`, { folder: '/', includeHidden: true });
  expect(listed.body.objects.map((o: any) => o.id)).not.toContain(id);
  expect((await p.call(`${id}/getDetails`, {})).status).toBe(404);
}

group('removeObjects', () => {
  it('removes closed and open files, records and executables, and frees a file’s bytes', async () => {
    const closed = await uploadWhole(tp, [Buffer.from('closed bytes')], { name: 'rm-closed' });
    await waitClosed(tp, closed);
    // Its 12 bytes are a row of the database (blobs/inline.ts), not a file.
    expect(storedBlobs(tp, closed)).toEqual([`db:objects/${closed}`]);
    const open = await newFile(tp, { name: 'rm-open', hidden: true });
    expect((await uploadPart(tp, open, 1, Buffer.from('part'))).status).toBe(200);
    expect(storedBlobs(tp, open)).not.toEqual([]);
    const record = (await ok('record/new', { project: tp.project, name: 'rm-record' })).id;
    const applet = (await ok('applet/new', { project: tp.project, name: 'rm-applet' })).id;
    const workflow = (await ok('workflow/new', { project: tp.project, name: 'rm-workflow' })).id;
    const kept = (await ok('record/new', { project: tp.project, name: 'rm-kept' })).id;

    const late = Buffer.from('late');
    const signed = await signPart(tp, open, 2, late);
    const objects = [closed, open, record, applet, workflow];
    expect(await ok(`${tp.project}/removeObjects`, { objects })).toEqual({ id: tp.project });
    for (const [id, name] of [
      [closed, 'rm-closed'],
      [open, 'rm-open'],
      [record, 'rm-record'],
      [applet, 'rm-applet'],
      [workflow, 'rm-workflow'],
    ]) {
      await expectGone(tp, id, name);
    }
    expect(storedBlobs(tp, closed)).toEqual([]);
    expect(storedBlobs(tp, open)).toEqual([]);
    expect((await ok(`${kept}/describe`, {})).name).toBe('rm-kept');
    // Its upload URLs are of no use now (§4.5), and keep nothing.
    expect((await putTo(signed.url, signed.headers, late)).status).not.toBe(200);
    expect(storedBlobs(tp, open)).toEqual([]);
    // A run of a removed applet is refused; removing it again is ResourceNotFound.
    expect((await tp.call(`${applet}/run`, { input: {} })).body.error.type).toBe('ResourceNotFound');
    expect((await tp.call(`${tp.project}/removeObjects`, { objects: [record] })).body.error).toEqual({
      type: 'ResourceNotFound',
      message: `The entity ${record} could not be found`,
    });
  });

  it('removes nothing when one ID is not in the project, unless force', async () => {
    const a = (await ok('record/new', { project: tp.project, name: 'rm-a' })).id;
    const b = (await ok('record/new', { project: tp.project, name: 'rm-b' })).id;
    const other = tp.platform.admin.createProject({ name: 'rm-other', owner: tp.user });
    const elsewhere = (await ok('record/new', { project: other, name: 'rm-elsewhere' })).id;
    const missing = 'file-012301230123012301230123';
    for (const stray of [missing, elsewhere, 'job-012301230123012301230123', 'not-an-id']) {
      const r = await tp.call(`${tp.project}/removeObjects`, { objects: [a, stray, b] });
      expect(r.status, JSON.stringify(r.body)).toBe(404);
      expect(r.body.error.message).toBe(`The entity ${stray} could not be found`);
      expect((await ok(`${a}/describe`, {})).id).toBe(a);
    }
    await ok(`${tp.project}/removeObjects`, { objects: [a, missing, elsewhere, b, a], force: true });
    await expectGone(tp, a, 'rm-a');
    await expectGone(tp, b, 'rm-b');
    expect((await ok(`${elsewhere}/describe`, {})).project).toBe(other);
    expect(await ok(`${tp.project}/removeObjects`, { objects: [] })).toEqual({ id: tp.project });
  });

  it('needs CONTRIBUTE, and ADMINISTER in a protected project', async () => {
    const id = (await ok('record/new', { project: tp.project, name: 'rm-perm' })).id;
    const r = await tp.call(`${tp.project}/removeObjects`, { objects: [id] }, uploaderToken);
    expect(r.status).toBe(401);
    expect(r.body.error).toEqual({
      type: 'PermissionDenied',
      message: `CONTRIBUTE permission required in ${tp.project} to perform this action`,
    });
    expect((await ok(`${id}/describe`, {})).id).toBe(id);
    await ok(`${tp.project}/update`, { protected: true });
    try {
      const p = await tp.call(`${tp.project}/removeObjects`, { objects: [id] }, contributorToken);
      expect(p.body.error.message).toBe(
        `ADMINISTER permission required in ${tp.project} to perform this action`,
      );
      await ok(`${tp.project}/removeObjects`, { objects: [id] }); // alice administers
    } finally {
      await ok(`${tp.project}/update`, { protected: false });
    }
    await expectGone(tp, id, 'rm-perm');
    const c = (await ok('record/new', { project: tp.project, name: 'rm-contrib' })).id;
    await ok(`${tp.project}/removeObjects`, { objects: [c] }, contributorToken);
    await expectGone(tp, c, 'rm-contrib');
  });

  it('checks its input', async () => {
    for (const input of [{}, { objects: 'record-x' }, { objects: [1] }, { objects: [], force: 'yes' }]) {
      expect((await tp.call(`${tp.project}/removeObjects`, input)).body.error.type).toBe('InvalidInput');
    }
    const r = await tp.call('project-012301230123012301230123/removeObjects', { objects: [] });
    expect(r.body.error.type).toBe('ResourceNotFound');
  });
});

it('removes a file that is closing while its assembly runs, then frees the assembled bytes', async () => {
  const slow = await startTestPlatform({ closingDelayMs: 60_000 });
  const stderr = vi.spyOn(process.stderr, 'write');
  try {
    // Hold every assembly before it writes the object, so the removal lands mid-assembly.
    const blobs = slow.platform.deps.blobs;
    const assemble = blobs.assemble.bind(blobs);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    blobs.assemble = async (...args) => {
      await gate;
      return assemble(...args);
    };
    const id = await uploadWhole(slow, [Buffer.from('closing bytes')], { name: 'rm-closing' });
    expect((await slow.call(`${id}/describe`, {})).body.state).toBe('closing');
    expect(slow.platform.deps.assemblies.has(id)).toBe(true);
    const removing = slow.call(`${slow.project}/removeObjects`, { objects: [id] });
    await expect.poll(() => slow.call(`${id}/describe`, {}).then((r) => r.status)).toBe(404);
    release();
    expect((await removing).body).toEqual({ id: slow.project });
    await expectGone(slow, id, 'rm-closing');
    expect(slow.platform.deps.assemblies.size).toBe(0);
    expect(storedBlobs(slow, id)).toEqual([]);
    // The assembly saw its file gone and stopped quietly.
    expect(stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.includes(id))).toEqual([]);
  } finally {
    stderr.mockRestore();
    await slow.stop();
  }
});

import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.stop());

group('records', () => {
  it('creates, describes, edits and closes a record at once', async () => {
    const made = await tp.call('record/new', {
      project: tp.project,
      name: 'sentinel',
      folder: '/runs',
      parents: true,
      types: ['UploadSentinel'],
      details: { files: ['file-x'] },
      properties: { run: '7' },
    });
    expect(made.status).toBe(200);
    const id = made.body.id as string;
    expect(id).toMatch(/^record-/);
    const d = (await tp.call(`${id}/describe`, { details: true, properties: true })).body;
    expect(d).toMatchObject({
      id,
      class: 'record',
      state: 'open',
      name: 'sentinel',
      folder: '/runs',
      types: ['UploadSentinel'],
    });
    expect(d.details).toEqual({ files: ['file-x'] });
    expect(d.properties).toEqual({ run: '7' });
    expect(d.parts).toBeUndefined();

    await tp.call(`${id}/addTags`, { tags: ['done'] });
    expect((await tp.call(`${id}/close`, {})).body).toEqual({ id });
    expect((await tp.call(`${id}/describe`, {})).body).toMatchObject({ state: 'closed', tags: ['done'] });
    expect((await tp.call(`${id}/close`, {})).body).toEqual({ id });

    const found = await tp.call('system/findDataObjects', {
      class: 'record',
      properties: { run: '7' },
      state: 'closed',
    });
    expect(found.body.results.map((r: { id: string }) => r.id)).toEqual([id]);
    const files = await tp.call('system/findDataObjects', { class: 'file', properties: { run: '7' } });
    expect(files.body.results).toEqual([]);
  });

  it('honours nonces and close: true', async () => {
    const input = { project: tp.project, name: 'r', close: true, nonce: 'rec-nonce-1' };
    const a = await tp.call('record/new', input);
    const b = await tp.call('record/new', input);
    expect(b.body).toEqual(a.body);
    expect((await tp.call(`${a.body.id}/describe`, {})).body.state).toBe('closed');
    expect((await tp.call('record/new', { ...input, name: 'other' })).body.error.type).toBe('InvalidInput');
  });

  it('needs UPLOAD to create', async () => {
    const viewer = tp.platform.admin.createUser('rec-viewer');
    tp.platform.admin.invite(tp.project, viewer, 'VIEW');
    const vt = tp.platform.admin.createToken({ user: viewer }).token;
    const r = await tp.call('record/new', { project: tp.project }, vt);
    expect(r.body.error.type).toBe('PermissionDenied');
  });
});

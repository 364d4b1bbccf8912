/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { newFile, uploadPart, waitClosed } from './file-helpers.js';

/**
 * `/…/setDetails` and `/…/getDetails`: the request body is the details and getDetails answers
 * them as they are (dxpy's set_details/get_details); only an open object's details may change.
 */
let tp: TestPlatform;
let viewerToken: string;
let uploaderToken: string;

async function ok(route: string, input: Record<string, unknown>, token?: string): Promise<any> {
  const r = await tp.call(route, input, token);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 400 });
  const a = tp.platform.admin;
  const viewer = a.createUser('details-viewer');
  a.invite(tp.project, viewer, 'VIEW');
  viewerToken = a.createToken({ user: viewer }).token;
  const uploader = a.createUser('details-uploader');
  a.invite(tp.project, uploader, 'UPLOAD');
  uploaderToken = a.createToken({ user: uploader }).token;
});
afterAll(() => tp.stop());

const invalidState = (id: string, state: string) => ({
  type: 'InvalidState',
  message: `Cannot set details of ${id} because it is in state ${state}`,
});

group('details', () => {
  it('replaces an open record’s details; describe shows them only when asked', async () => {
    const id = (await ok('record/new', { project: tp.project, details: { first: true } })).id;
    expect(await ok(`${id}/getDetails`, {})).toEqual({ first: true });
    const details = { files: ['file-a', 'file-b'], nested: { n: 1, list: [null, 'x'] }, project: 'kept' };
    expect(await ok(`${id}/setDetails`, details)).toEqual({ id });
    // The whole body is the details, a `project` key included (there is no hint here).
    expect(await ok(`${id}/getDetails`, {})).toEqual(details);
    const plain = await ok(`${id}/describe`, {});
    expect(plain.details).toBeUndefined();
    expect(plain.modified).toBeGreaterThanOrEqual(plain.created);
    expect((await ok(`${id}/describe`, { details: true })).details).toEqual(details);
    expect((await ok(`${id}/describe`, { fields: { details: true } })).details).toEqual(details);
    expect(await ok(`${id}/setDetails`, {})).toEqual({ id });
    expect(await ok(`${id}/getDetails`, {})).toEqual({});
  });

  it('refuses a closed record with InvalidState and leaves its details', async () => {
    const id = (await ok('record/new', { project: tp.project, details: { v: 1 }, close: true })).id;
    const r = await tp.call(`${id}/setDetails`, { v: 2 });
    expect(r.status).toBe(422);
    expect(r.body.error).toEqual(invalidState(id, 'closed'));
    // Whatever the caller's level: CONTRIBUTE (alice administers) and UPLOAD alike.
    expect((await tp.call(`${id}/setDetails`, { v: 2 }, uploaderToken)).body.error).toEqual(
      invalidState(id, 'closed'),
    );
    expect(await ok(`${id}/getDetails`, {})).toEqual({ v: 1 });
  });

  it('sets an open file’s details, and refuses while closing and once closed', async () => {
    const id = await newFile(tp, { details: { step: 0 } });
    expect(await ok(`${id}/setDetails`, { step: 1 }, uploaderToken)).toEqual({ id });
    expect(await ok(`${id}/getDetails`, {}, viewerToken)).toEqual({ step: 1 });
    expect((await uploadPart(tp, id, 1, Buffer.from('bytes'))).status).toBe(200);
    await ok(`${id}/close`, {});
    expect((await tp.call(`${id}/setDetails`, { step: 2 })).body.error).toEqual(invalidState(id, 'closing'));
    await waitClosed(tp, id);
    expect((await tp.call(`${id}/setDetails`, { step: 2 })).body.error).toEqual(invalidState(id, 'closed'));
    expect(await ok(`${id}/getDetails`, {})).toEqual({ step: 1 });
    expect((await ok(`${id}/describe`, { details: true })).details).toEqual({ step: 1 });
  });

  it('needs UPLOAD to set and VIEW to get', async () => {
    const id = (await ok('record/new', { project: tp.project, details: { a: 1 } })).id;
    const r = await tp.call(`${id}/setDetails`, { a: 2 }, viewerToken);
    expect(r.status).toBe(401);
    expect(r.body.error).toEqual({
      type: 'PermissionDenied',
      message: `UPLOAD permission required in ${tp.project} to perform this action`,
    });
    expect(await ok(`${id}/getDetails`, {}, viewerToken)).toEqual({ a: 1 });
    const outsider = tp.platform.admin.createUser('details-outsider');
    const ot = tp.platform.admin.createToken({ user: outsider }).token;
    expect((await tp.call(`${id}/getDetails`, {}, ot)).body.error.type).toBe('PermissionDenied');
  });

  it('applets and workflows are closed: getDetails answers, setDetails is InvalidState', async () => {
    const id = (await ok('applet/new', { project: tp.project, details: { d: 1 } })).id;
    expect(await ok(`${id}/getDetails`, {})).toEqual({ d: 1 });
    expect((await tp.call(`${id}/setDetails`, { d: 2 })).body.error).toEqual(invalidState(id, 'closed'));
  });

  it('answers ResourceNotFound for an unknown object', async () => {
    for (const route of ['setDetails', 'getDetails']) {
      const r = await tp.call(`record-012301230123012301230123/${route}`, {});
      expect(r.status).toBe(404);
      expect(r.body.error.type).toBe('ResourceNotFound');
    }
  });
});

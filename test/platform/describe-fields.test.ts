import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describe, newFile, uploadPart, waitClosed } from './file-helpers.js';

/**
 * A closed file's `parts` and any file's `archivalState` are not default describe fields, as on the
 * platform: they come only when asked for, by `fields` (alone, or with `defaultFields: true` as dxpy asks) or by
 * the `parts: true` switch, in every describe a caller can get (the route, findDataObjects,
 * describeDataObjects, listFolder).
 */
let tp: TestPlatform;
let id: string;
let openId: string;
const part = randomBytes(321);
const PARTS = { '1': { state: 'complete', size: 321, md5: '' } };

beforeAll(async () => {
  tp = await startTestPlatform();
  id = await newFile(tp, { name: 'd.bin' });
  expect((await uploadPart(tp, id, 1, part)).status).toBe(200);
  PARTS['1'].md5 = (await describe(tp, id, { fields: { parts: true } })).parts['1'].md5;
  expect((await tp.call(`${id}/close`, {})).status).toBe(200);
  await waitClosed(tp, id);
  openId = await newFile(tp, { name: 'open.bin' });
  expect((await uploadPart(tp, openId, 1, part)).status).toBe(200);
});
afterAll(() => tp.stop());

group('/file-xxxx/describe', () => {
  it('by default: neither parts nor archivalState', async () => {
    const d = await describe(tp, id);
    expect(d).toMatchObject({ id, state: 'closed', name: 'd.bin', size: 321 });
    expect(d).not.toHaveProperty('parts');
    expect(d).not.toHaveProperty('archivalState');
  });

  it("an open file's parts are a default field: the classic agent resumes from a describe with no input", async () => {
    const d = await describe(tp, openId);
    expect(d).toMatchObject({ state: 'open', parts: PARTS });
    expect(d).not.toHaveProperty('archivalState');
  });

  it.each([
    ['fields alone', { fields: { parts: true } }, () => ({ parts: PARTS })],
    ['fields: archivalState', { fields: { archivalState: true } }, () => ({ archivalState: 'live' })],
    [
      'fields: both',
      { fields: { parts: true, archivalState: true } },
      () => ({ parts: PARTS, archivalState: 'live' }),
    ],
    ['fields: parts false', { fields: { parts: false, state: true } }, () => ({ state: 'closed' })],
  ])('%s: exactly what was asked (and the id)', async (_label, input, want) => {
    expect(await describe(tp, id, input)).toEqual({ id, ...want() });
  });

  it('defaultFields with fields: the defaults and the field (dxpy: fields={"parts"}, default_fields=True)', async () => {
    const plain = await describe(tp, id);
    const d = await describe(tp, id, { fields: { parts: true }, defaultFields: true });
    expect(d).toEqual({ ...plain, parts: PARTS });
  });

  it('parts: true: the defaults and parts, still no archivalState; with fields, on top of them', async () => {
    const plain = await describe(tp, id);
    expect(await describe(tp, id, { parts: true })).toEqual({ ...plain, parts: PARTS });
    expect(await describe(tp, id, { parts: false })).toEqual(plain);
    expect(await describe(tp, id, { parts: true, fields: { name: true } })).toEqual({
      id,
      name: 'd.bin',
      parts: PARTS,
    });
  });

  it('parts must be a boolean', async () => {
    const r = await tp.call(`${id}/describe`, { parts: 'yes' });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe('InvalidInput');
  });

  it('a record has no parts to add', async () => {
    const r = await tp.call('record/new', { project: tp.project, name: 'rec' });
    expect(await describe(tp, r.body.id, { parts: true })).not.toHaveProperty('parts');
  });
});

group('describes inside other answers', () => {
  const scope = () => ({ project: tp.project });

  it('findDataObjects: describe true has no parts; fields or parts: true add them', async () => {
    const find = async (describe: unknown) => {
      const r = await tp.call('system/findDataObjects', { scope: scope(), name: 'd.bin', describe });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.results[0].describe;
    };
    expect(await find(true)).not.toHaveProperty('parts');
    expect(await find({ project: tp.project })).not.toHaveProperty('parts');
    expect((await find({ parts: true })).parts).toEqual(PARTS);
    expect((await find({ fields: { parts: true }, defaultFields: true })).parts).toEqual(PARTS);
  });

  it('describeDataObjects: per class and per object', async () => {
    const r = await tp.call('system/describeDataObjects', {
      objects: [id, { id, describe: { parts: true } }],
      classDescribeOptions: { '*': { fields: { archivalState: true } } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.results[0].describe).toEqual({ id, archivalState: 'live' });
    expect(r.body.results[1].describe).toEqual({ id, archivalState: 'live', parts: PARTS });
  });

  it('listFolder: describe true has no parts', async () => {
    const r = await tp.call(`${tp.project}/listFolder`, { folder: '/', describe: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const mine = (r.body.objects as Array<{ id: string; describe: object }>).find((o) => o.id === id);
    expect(mine?.describe).not.toHaveProperty('parts');
  });
});

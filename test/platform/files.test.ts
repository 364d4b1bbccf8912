import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startPlatform } from '../../src/platform/index.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import {
  MiB,
  describe,
  downloadBytes,
  md5hex,
  newFile,
  uploadPart,
  uploadWhole,
  waitClosed,
} from './file-helpers.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.stop());

group('a multi-part upload through the raw API', () => {
  it('stores, closes, describes and downloads the exact bytes', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 17), randomBytes(123_457)];
    const id = await newFile(tp, {
      name: 'reads.bin',
      folder: '/runs/1',
      parents: true,
      media: 'application/octet-stream',
    });
    const open = await describe(tp, id);
    expect(open).toMatchObject({
      id,
      class: 'file',
      project: tp.project,
      folder: '/runs/1',
      name: 'reads.bin',
      state: 'open',
    });
    // An open file's `parts` are a default field (the classic agent resumes from them);
    // `archivalState` comes only when asked for (object-describe.ts).
    expect(open.parts).toEqual({});
    expect(open).not.toHaveProperty('archivalState');
    expect((await describe(tp, id, { parts: true })).parts).toEqual({});

    // Upload out of order: the server must not care.
    for (const i of [2, 0, 1]) {
      const put = await uploadPart(tp, id, i + 1, parts[i]);
      expect(put.status).toBe(200);
      expect(put.body).toBe(''); // the classic agent requires an empty 2xx body
    }
    const before = await describe(tp, id, { parts: true });
    expect(before.parts).toEqual(
      Object.fromEntries(
        parts.map((p, i) => [String(i + 1), { state: 'complete', size: p.length, md5: md5hex(p) }]),
      ),
    );

    // Freeze the clock so `closing` is observable without depending on timing.
    const deps = tp.platform.deps;
    const realNow = deps.now;
    const frozen = realNow();
    deps.now = () => frozen;
    try {
      expect((await tp.call(`${id}/close`, {})).body).toEqual({ id });
      expect((await describe(tp, id)).state).toBe('closing');
      const dl = await tp.call(`${id}/download`, {});
      expect(dl.status).toBe(422);
      expect(dl.body.error.type).toBe('InvalidState');
      const up = await tp.call(`${id}/upload`, { index: 4, size: 1, md5: md5hex(Buffer.from('x')) });
      expect(up.body.error.type).toBe('InvalidState');
      // A retried close is answered like the first one.
      expect((await tp.call(`${id}/close`, {})).body).toEqual({ id });
    } finally {
      deps.now = realNow;
    }
    await waitClosed(tp, id);
    const closed = await describe(tp, id, {
      fields: { parts: true, archivalState: true },
      defaultFields: true,
    });
    const whole = Buffer.concat(parts);
    expect(closed).toMatchObject({
      state: 'closed',
      size: whole.length,
      archivalState: 'live',
      createdBy: { user: tp.user },
    });
    expect(Object.keys(closed.parts)).toEqual(['1', '2', '3']);

    const dl = await downloadBytes(tp, id);
    expect(dl.status).toBe(200);
    expect(dl.headers['content-disposition']).toContain('reads.bin');
    expect(md5hex(dl.bytes)).toBe(md5hex(whole));
    expect(dl.bytes.equals(whole)).toBe(true);

    const ranged = await downloadBytes(tp, id, `bytes=${5 * MiB - 3}-${5 * MiB + 4}`);
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes ${5 * MiB - 3}-${5 * MiB + 4}/${whole.length}`);
    expect(ranged.bytes.equals(whole.subarray(5 * MiB - 3, 5 * MiB + 5))).toBe(true);
    const tail = await downloadBytes(tp, id, 'bytes=-10');
    expect(tail.bytes.equals(whole.subarray(whole.length - 10))).toBe(true);
    expect((await downloadBytes(tp, id, `bytes=${whole.length}-`)).status).toBe(416);
  });

  it('closes an empty file made of one 0-byte part and downloads 0 bytes', async () => {
    const id = await uploadWhole(tp, [Buffer.alloc(0)]);
    expect((await waitClosed(tp, id)).size).toBe(0);
    const dl = await downloadBytes(tp, id);
    expect(dl.status).toBe(200);
    expect(dl.bytes.length).toBe(0);
  });
});

group('close validation', () => {
  it('refuses zero parts, a gap and a small non-last part with InvalidState', async () => {
    const none = await newFile(tp);
    const r0 = await tp.call(`${none}/close`, {});
    expect(r0.status).toBe(422);
    expect(r0.body.error).toMatchObject({ type: 'InvalidState' });
    expect(r0.body.error.message).toMatch(/0 parts cannot be closed/);

    const gap = await newFile(tp);
    await uploadPart(tp, gap, 1, randomBytes(5 * MiB));
    await uploadPart(tp, gap, 3, randomBytes(10));
    const r1 = await tp.call(`${gap}/close`, {});
    expect(r1.body.error.type).toBe('InvalidState');
    expect(r1.body.error.message).toMatch(/part 2 is missing/);

    const small = await newFile(tp);
    await uploadPart(tp, small, 1, randomBytes(5 * MiB - 1));
    await uploadPart(tp, small, 2, randomBytes(10));
    const r2 = await tp.call(`${small}/close`, {});
    expect(r2.body.error.type).toBe('InvalidState');
    expect(r2.body.error.message).toMatch(/part 1 is 5242879 bytes/);
    // The refused files are still open and usable.
    expect((await describe(tp, small)).state).toBe('open');
  });
});

group('file/new', () => {
  it('replays the same nonce and refuses it with another input', async () => {
    const input = { project: tp.project, name: 'n.txt', nonce: 'nonce-' + md5hex(randomBytes(8)) };
    const a = await tp.call('file/new', input);
    const b = await tp.call('file/new', input);
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    const c = await tp.call('file/new', { ...input, name: 'other.txt' });
    expect(c.status).toBe(422);
    expect(c.body.error.type).toBe('InvalidInput');
  });

  it('applies defaults and the given metadata', async () => {
    const id = await newFile(tp, {
      name: undefined,
      tags: ['a'],
      types: ['Reads'],
      properties: { k: 'v' },
      details: { x: 1 },
      hidden: true,
    });
    const d = await describe(tp, id, { properties: true, details: true });
    expect(d).toMatchObject({
      name: id,
      folder: '/',
      hidden: true,
      tags: ['a'],
      types: ['Reads'],
      media: '',
    });
    expect(d.properties).toEqual({ k: 'v' });
    expect(d.details).toEqual({ x: 1 });
    const picked = await describe(tp, id, { fields: { state: true, properties: true } });
    expect(picked).toEqual({ id, state: 'open', properties: { k: 'v' } });
  });

  it('needs parents for a missing folder chain, and a project the caller can upload to', async () => {
    const r = await tp.call('file/new', { project: tp.project, folder: '/x/y/z' });
    expect(r.body.error.type).toBe('ResourceNotFound');
    const bad = await tp.call('file/new', { project: 'project-000000000000000000000000' });
    expect(bad.body.error.type).toBe('ResourceNotFound');
    const noProject = await tp.call('file/new', {});
    expect(noProject.body.error.type).toBe('InvalidInput');
  });
});

group('permissions', () => {
  it('VIEW can describe and download but not create, upload or close; UPLOAD can', async () => {
    const admin = tp.platform.admin;
    const viewer = admin.createUser('viewer');
    const uploader = admin.createUser('uploader');
    admin.invite(tp.project, viewer, 'VIEW');
    admin.invite(tp.project, uploader, 'UPLOAD');
    const vt = admin.createToken({ user: viewer }).token;
    const ut = admin.createToken({ user: uploader }).token;
    const part = randomBytes(1000);
    const upInput = { index: 1, size: part.length, md5: md5hex(part) };

    const denied = await tp.call('file/new', { project: tp.project }, vt);
    expect(denied.status).toBe(401);
    expect(denied.body.error.type).toBe('PermissionDenied');
    const id = await newFile(tp, {}, ut);
    expect((await tp.call(`${id}/upload`, upInput, vt)).body.error.type).toBe('PermissionDenied');
    expect((await tp.call(`${id}/upload`, upInput, ut)).status).toBe(200);
    await uploadPart(tp, id, 1, part);
    expect((await tp.call(`${id}/close`, {}, vt)).body.error.type).toBe('PermissionDenied');
    expect((await tp.call(`${id}/describe`, {}, vt)).status).toBe(200);
    expect((await tp.call(`${id}/close`, {}, ut)).status).toBe(200);
    await waitClosed(tp, id);
    // Closed objects' metadata needs CONTRIBUTE.
    expect((await tp.call(`${id}/rename`, { name: 'z' }, ut)).body.error.type).toBe('PermissionDenied');
    expect((await tp.call(`${id}/rename`, { name: 'z' })).status).toBe(200);
    const dl = await tp.call(`${id}/download`, {}, vt);
    expect(dl.status).toBe(200);
    const stranger = admin.createToken({ user: admin.createUser('stranger') }).token;
    expect((await tp.call(`${id}/describe`, {}, stranger)).body.error.type).toBe('PermissionDenied');
  });
});

group('metadata edits', () => {
  it('sets and deletes properties, renames, and adds and removes tags', async () => {
    const id = await newFile(tp, { properties: { a: '1', b: '2' }, tags: ['t1'] });
    expect((await tp.call(`${id}/setProperties`, { properties: { a: null, c: '3' } })).body).toEqual({ id });
    await tp.call(`${id}/rename`, { name: 'renamed' });
    await tp.call(`${id}/addTags`, { tags: ['t2', 't1'] });
    await tp.call(`${id}/removeTags`, { tags: ['t1'] });
    const d = await describe(tp, id, { properties: true });
    expect(d).toMatchObject({ name: 'renamed', tags: ['t2'], properties: { b: '2', c: '3' } });
    expect((await tp.call(`${id}/setProperties`, { properties: { a: 1 } })).body.error.type).toBe(
      'InvalidInput',
    );
  });
});

group('restart', () => {
  it('keeps files, parts and bytes across a stop and a start on the same data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ua-files-restart-'));
    try {
      const first = await startTestPlatform({ dataDir });
      const a = [randomBytes(5 * MiB), randomBytes(999)];
      const closedId = await uploadWhole(first, a);
      await waitClosed(first, closedId);
      const openId = await newFile(first);
      const p1 = randomBytes(4321);
      await uploadPart(first, openId, 1, p1);
      // Stopped right after close: the restarted server must finish (or redo) the assembly.
      const b = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(3)];
      const closingId = await uploadWhole(first, b);
      await first.stop();

      const second = await startPlatform({ dataDir, quiet: true });
      try {
        const t = {
          ...first,
          platform: second,
          url: second.url,
          call: (r: string, i: unknown = {}, tok = first.token) => callApi(second.url, r, i, tok),
        };
        expect((await describe(t, openId, { parts: true })).parts).toEqual({
          '1': { state: 'complete', size: p1.length, md5: md5hex(p1) },
        });
        const dl = await downloadBytes(t, closedId);
        expect(dl.bytes.equals(Buffer.concat(a))).toBe(true);
        await waitClosed(t, closingId);
        expect((await downloadBytes(t, closingId)).bytes.equals(Buffer.concat(b))).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

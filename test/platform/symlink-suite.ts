/** The auto-symlink behaviour both clouds must show; each symlink-<cloud>.test.ts runs it. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import {
  downloadFile,
  md5,
  putPart,
  randomBytes,
  rawUpload,
  startSymlinkEnv,
  type CloudName,
  type SymlinkEnv,
} from './symlink-harness.js';

const MiB = 1024 * 1024;

export function defineSymlinkSuite(cloud: CloudName, getEnv: (env: SymlinkEnv) => void = () => {}): void {
  let env: SymlinkEnv;
  beforeAll(async () => {
    env = await startSymlinkEnv(cloud);
    getEnv(env);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('uploads a multi-part file straight into the container; describe and download agree with the source', async () => {
    const data = randomBytes(11 * MiB + 12345);
    const { id, describe } = await rawUpload(env, { name: 'reads.fq', folder: '/run1/lane2', data });
    const key = `incoming/run1/lane2/reads.fq`;
    expect((await env.readObject(key)).equals(data)).toBe(true);
    expect(describe.drive).toBe(env.drive);
    expect(describe.symlinkPath).toEqual({ container: env.container, object: key });
    expect(describe.md5).toBe(md5(data));
    expect(describe.size).toBe(data.length);
    // No media type was given: the platform infers one from the bytes it read back for the MD5.
    expect(describe.media).toBe('application/octet-stream');
    expect(Object.keys(describe.parts)).toEqual(['1', '2', '3']);
    expect(describe.parts['3']).toEqual({
      state: 'complete',
      size: 12345 + MiB,
      md5: md5(data.subarray(10 * MiB)),
    });
    const url = (await env.tp.call(`${id}/download`, {})).body.url as string;
    expect(url.startsWith(env.cloud === 'aws' ? env.s3!.endpoint : env.az!.endpoint)).toBe(true);
    expect((await downloadFile(env.tp, id)).equals(data)).toBe(true);
  });

  it('stores an empty file as an empty object', async () => {
    const { id, describe } = await rawUpload(env, { name: 'empty.txt', data: Buffer.alloc(0) });
    expect((await env.readObject('incoming/empty.txt')).length).toBe(0);
    expect(describe.md5).toBe(md5(Buffer.alloc(0)));
    expect(describe.media).toBe('inode/x-empty');
    expect((await downloadFile(env.tp, id)).length).toBe(0);
  });

  it('a presigned download of a non-ASCII name: the bytes, and the name in RFC 5987 filename*', async () => {
    const data = randomBytes(100);
    const name = 'données 数据 "q".bin';
    const { id } = await rawUpload(env, { name, data });
    const res = await request((await env.tp.call(`${id}/download`, {})).body.url as string);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(body.equals(data)).toBe(true);
    const cd = String(res.headers['content-disposition']);
    expect(cd).toMatch(/^attachment; filename="donn_es __ _q_.bin"; filename\*=UTF-8''/);
    expect(decodeURIComponent(cd.slice(cd.indexOf("''") + 2))).toBe(name);
  });

  it('infers text/plain for a text file uploaded without a media type', async () => {
    const data = Buffer.from('chr1\t100\t200\nchr2\t5\t9\n');
    const { describe } = await rawUpload(env, { name: 'regions.bed', data });
    expect(describe.media).toBe('text/plain');
  });

  // S3 answers InvalidPart (s3rver does through the test harness, test/helpers/s3rver-list-parts.ts).
  it('refuses to close while a part is missing from the container, and the file stays open', async () => {
    const n = await env.tp.call('file/new', { project: env.project, name: 'half.bin' });
    const id = n.body.id as string;
    const a = randomBytes(5 * MiB);
    await putPart(env.tp, id, 1, a);
    // Part 2 is announced (URL handed out) but never PUT.
    const u = await env.tp.call(`${id}/upload`, { index: 2, size: 10, md5: md5(Buffer.alloc(10)) });
    expect(u.status).toBe(200);
    const c = await env.tp.call(`${id}/close`, {});
    expect(c.status).toBe(422);
    expect(c.body.error.type).toBe('InvalidState');
    expect(c.body.error.message).toMatch(/not every part is in the container/);
    expect((await env.tp.call(`${id}/describe`, {})).body.state).toBe('open');
    // Sending the missing bytes lets the same file close, byte-exact.
    const b = Buffer.alloc(10);
    await putPart(env.tp, id, 2, b);
    expect((await env.tp.call(`${id}/close`, {})).status).toBe(200);
    const { waitClosed } = await import('../helpers/remote.js');
    await waitClosed(env.tp, id);
    expect((await env.readObject('incoming/half.bin')).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('clobbering: after rename and a new upload with the old name, the old symlink fails its MD5 check', async () => {
    const first = randomBytes(3000);
    const old = await rawUpload(env, { name: 'file.txt', data: first });
    expect(
      (await env.tp.call(`${old.id}/rename`, { project: env.project, name: 'file.old.txt' })).status,
    ).toBe(200);
    const second = randomBytes(4000);
    const neu = await rawUpload(env, { name: 'file.txt', data: second });
    expect((await env.readObject('incoming/file.txt')).equals(second)).toBe(true);
    expect((await downloadFile(env.tp, neu.id)).equals(second)).toBe(true);
    const r = await env.tp.call(`${old.id}/download`, {});
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe('InvalidState');
    expect(r.body.error.message).toContain('Checksum mismatch');
    expect(r.body.error.message).toContain(md5(first));
    expect(r.body.error.message).toContain(md5(second));
  });

  it('registers an object the client uploaded itself (/file/new with drive, md5sum, symlinkPath)', async () => {
    // One PUT: the cloud states the object's MD5 (S3 ETag, Azure Content-MD5), so a wrong md5sum is refused.
    const data = randomBytes(7000);
    const key = 'incoming/x/direct.bin';
    await env.writeObject(key, data);
    const reg = (md5sum: string, object = key) =>
      env.tp.call('file/new', {
        project: env.tp.project,
        name: 'reg.bin',
        drive: env.drive,
        md5sum,
        symlinkPath: { container: `us-east-1:${env.container}`, object },
      });
    const bad = await reg(md5(Buffer.from('other')));
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/does not match/);
    expect(bad.body.error.message).toContain(md5(data));
    const missing = await reg(md5(data), 'no/such/key');
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toContain('does not exist');
    const ok = await reg(md5(data));
    expect(ok.status).toBe(200);
    const d = (await env.tp.call(`${ok.body.id}/describe`, {})).body;
    expect(d).toMatchObject({ state: 'closed', drive: env.drive, md5: md5(data), size: data.length });
    expect(d.symlinkPath).toEqual({ container: env.container, object: key });
    expect((await downloadFile(env.tp, ok.body.id)).equals(data)).toBe(true);
  });

  it('registers a multipart object by its md5sum without reading it; a wrong one fails the first download', async () => {
    // Uploaded in parts (S3 multipart / Azure block list): no stated MD5, so registration trusts
    // md5sum (the platform does not carry the bytes) and the first download checks it.
    const data = randomBytes(6 * MiB + 1);
    const src = await rawUpload(env, { name: 'multi.bin', folder: '/y', data });
    const key = src.describe.symlinkPath.object as string;
    const reg = (md5sum: string, name: string) =>
      env.tp.call('file/new', {
        project: env.tp.project,
        name,
        drive: env.drive,
        md5sum,
        symlinkPath: { container: env.container, object: key },
      });
    const wrong = await reg(md5(Buffer.from('other')), 'wrong.bin');
    if (wrong.status === 422) {
      // The cloud stated an MD5 after all (e.g. computed at commit): refused up front.
      expect(wrong.body.error.message).toMatch(/does not match/);
    } else {
      expect(wrong.status).toBe(200);
      const r = await env.tp.call(`${wrong.body.id}/download`, {});
      expect(r.status).toBe(422);
      expect(r.body.error.message).toContain('Checksum mismatch');
      expect(r.body.error.message).toContain(md5(data));
    }
    const right = await reg(md5(data), 'right.bin');
    expect(right.status).toBe(200);
    expect((await downloadFile(env.tp, right.body.id)).equals(data)).toBe(true);
    expect((await downloadFile(env.tp, right.body.id)).equals(data)).toBe(true); // now by its verified ETag
  });

  it('drive describe never returns the secret; wrong credentials are refused naming the drive', async () => {
    const d = (await env.tp.call(`${env.drive}/describe`, {})).body;
    expect(d).toMatchObject({ id: env.drive, name: 'lab-drive', cloud });
    expect(JSON.stringify(d)).not.toContain(cloud === 'aws' ? 'secretAccessKey":"S3RVER' : env.az!.key);
    const wrong =
      cloud === 'aws'
        ? env.driveInput('bad-drive', { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' })
        : env.driveInput('bad-drive', {
            account: 'devstoreaccount1',
            key: Buffer.from('wrong key').toString('base64'),
          });
    const r = await env.tp.call('drive/new', wrong);
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe('InvalidInput');
    expect(r.body.error.message).toContain('"bad-drive"');
    expect(r.body.error.message).toContain('cannot access the given cloud');
    const u = await env.tp.call(`${env.drive}/update`, {
      credentials: (wrong as { credentials: object }).credentials,
    });
    expect(u.status).toBe(422);
    expect(u.body.error.message).toContain(env.drive);
    // The drive still works with its old credentials.
    const data = randomBytes(100);
    const { id } = await rawUpload(env, { name: 'after-bad-rotation.bin', data });
    expect((await downloadFile(env.tp, id)).equals(data)).toBe(true);
  });

  it('keeps platform.db owner-only (it holds drive credentials)', () => {
    expect(statSync(join(env.tp.platform.dataDir, 'platform.db')).mode & 0o777).toBe(0o600);
  });

  it('refuses a defaultSymlink naming a missing container or a drive the caller does not own', async () => {
    const r = await env.tp.call('project/new', {
      name: 'x',
      defaultSymlink: { drive: env.drive, container: 'no-such-container' },
    });
    expect(r.status).toBe(422);
    const bob = env.tp.platform.admin.createUser('bob');
    const { token } = env.tp.platform.admin.createToken({ user: bob });
    const b = await env.tp.call(
      'project/new',
      { name: 'y', defaultSymlink: { drive: env.drive, container: env.container } },
      token,
    );
    expect(b.status).toBe(401);
    expect((await env.tp.call(`${env.drive}/describe`, {}, token)).status).toBe(401);
  });
}

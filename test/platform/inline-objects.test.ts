import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { INLINE_PART_BYTES, InlineBlobStore } from '../../src/platform/blobs/inline.js';
import { DiskBlobStore } from '../../src/platform/blobs/disk.js';
import { openAdmin } from '../../src/platform/admin.js';
import { openDb } from '../../src/platform/store/db.js';
import { storeOf } from '../../src/platform/store/store.js';
import { tempDir } from '../helpers/files.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import {
  downloadBytes,
  md5hex,
  MiB,
  newFile,
  putTo,
  storedBlobs,
  uploadPart,
  uploadWhole,
  waitClosed,
} from './file-helpers.js';

/**
 * Small parts and single-part objects live as rows of the server's database (blobs/inline.ts), the
 * rest as files. Every byte goes through real HTTP and is compared with what was sent.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function platform(): Promise<TestPlatform> {
  const tp = await startTestPlatform({ closingDelayMs: 0 });
  cleanups.push(() => tp.stop());
  return tp;
}

it('a small file is one row, no file, and downloads byte-exact, whole and by range', async () => {
  const tp = await platform();
  const bytes = randomBytes(4096);
  const id = await uploadWhole(tp, [bytes]);
  await waitClosed(tp, id);
  expect(storedBlobs(tp, id)).toEqual([`db:objects/${id}`]);
  const whole = await downloadBytes(tp, id);
  expect(whole.headers['content-length']).toBe('4096');
  expect(whole.bytes.equals(bytes)).toBe(true);
  const tail = await downloadBytes(tp, id, 'bytes=-7');
  expect(tail.status).toBe(206);
  expect(tail.bytes.equals(bytes.subarray(4089))).toBe(true);
  const middle = await downloadBytes(tp, id, 'bytes=100-199');
  expect(middle.headers['content-range']).toBe('bytes 100-199/4096');
  expect(middle.bytes.equals(bytes.subarray(100, 200))).toBe(true);
  const d = (await tp.call(`${id}/describe`, { fields: { size: true, parts: true } })).body;
  expect(d.size).toBe(4096);
  expect(d.parts['1']).toMatchObject({ size: 4096, md5: md5hex(bytes), state: 'complete' });
});

it('the limit is inclusive: a part of exactly INLINE_PART_BYTES is a row, one byte more is a file', async () => {
  const tp = await platform();
  const at = randomBytes(INLINE_PART_BYTES);
  const over = randomBytes(INLINE_PART_BYTES + 1);
  const a = await uploadWhole(tp, [at]);
  const b = await uploadWhole(tp, [over]);
  await waitClosed(tp, a);
  await waitClosed(tp, b);
  expect(storedBlobs(tp, a)).toEqual([`db:objects/${a}`]);
  expect(storedBlobs(tp, b)).toEqual([`objects/${b}`]);
  expect((await downloadBytes(tp, a)).bytes.equals(at)).toBe(true);
  expect((await downloadBytes(tp, b)).bytes.equals(over)).toBe(true);
});

it('an empty file is an empty row and downloads as 0 bytes', async () => {
  const tp = await platform();
  const id = await uploadWhole(tp, [Buffer.alloc(0)]);
  await waitClosed(tp, id);
  expect(storedBlobs(tp, id)).toEqual([`db:objects/${id}`]);
  const got = await downloadBytes(tp, id);
  expect(got.status).toBe(200);
  expect(got.headers['content-length']).toBe('0');
  expect(got.bytes).toHaveLength(0);
});

it('a short last part of a multi-part file becomes a segment file; no row and no part name is left', async () => {
  const tp = await platform();
  const first = randomBytes(5 * MiB);
  const last = randomBytes(1000);
  const id = await uploadWhole(tp, [first, last]);
  await waitClosed(tp, id);
  // The large part's directory stays, empty (as for any multi-part file); no part name is left in it.
  expect(storedBlobs(tp, id)).toEqual([`objects/${id}`, `parts/${id}/`]);
  expect(readdirSync(join(tp.platform.dataDir, 'blobs', 'parts', id))).toEqual([]);
  const segments = readdirSync(join(tp.platform.dataDir, 'blobs', 'objects', id));
  expect(segments).toHaveLength(2);
  const got = await downloadBytes(tp, id);
  expect(got.bytes.equals(Buffer.concat([first, last]))).toBe(true);
  const across = await downloadBytes(tp, id, `bytes=${5 * MiB - 10}-${5 * MiB + 9}`);
  expect(across.bytes.equals(Buffer.concat([first, last]).subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
});

it('a part PUT again keeps only the newest attempt; a PUT that fails its MD5 stores nothing', async () => {
  const tp = await platform();
  const id = await newFile(tp);
  expect((await uploadPart(tp, id, 1, Buffer.from('first try'))).status).toBe(200);
  const second = Buffer.from('second try wins');
  expect((await uploadPart(tp, id, 1, second)).status).toBe(200);
  expect(storedBlobs(tp, id)).toHaveLength(1);
  // Signed for one body, sent another of the same size: BadDigest, nothing kept.
  const signed = await tp.call(`${id}/upload`, { index: 2, size: 4, md5: md5hex(Buffer.from('abcd')) });
  const bad = await putTo(signed.body.url, signed.body.headers, Buffer.from('abce'));
  expect(bad.status).toBe(400);
  expect(bad.body).toContain('BadDigest');
  expect(storedBlobs(tp, id)).toHaveLength(1);
  expect((await tp.call(`${id}/close`, {})).status).toBe(200);
  await waitClosed(tp, id);
  expect(storedBlobs(tp, id)).toEqual([`db:objects/${id}`]);
  expect((await downloadBytes(tp, id)).bytes.equals(second)).toBe(true);
});

it('removing a small file frees its row', async () => {
  const tp = await platform();
  const id = await uploadWhole(tp, [Buffer.from('short-lived')]);
  await waitClosed(tp, id);
  expect((await tp.call(`${tp.project}/removeObjects`, { objects: [id] })).status).toBe(200);
  expect(storedBlobs(tp, id)).toEqual([]);
});

it('assembling again after a stop before the file was recorded as assembled (the part already moved) keeps the object', async () => {
  const tmp = tempDir('ua-inline-');
  cleanups.push(() => tmp.cleanup());
  const store = storeOf(openDb(tmp.dir, { groupCommit: true }));
  cleanups.push(() => store.close());
  const blobs = new InlineBlobStore(new DiskBlobStore(join(tmp.dir, 'blobs')), store);
  const bytes = Buffer.from('assembled once, recorded later');
  const expected = { size: bytes.length, md5: md5hex(bytes) };
  const part = await blobs.putPart('file-abc', 1, Readable.from([bytes]), expected);
  expect(await blobs.assemble('file-abc', [part.key], expected)).toEqual(expected);
  await blobs.deletePart(part.key);
  expect(await blobs.assemble('file-abc', [part.key], expected)).toEqual(expected);
  const read: Buffer[] = [];
  for await (const chunk of blobs.openObject('file-abc')) read.push(chunk as Buffer);
  expect(Buffer.concat(read).equals(bytes)).toBe(true);
  await expect(blobs.assemble('file-xyz', ['db:file-xyz.1-000000000000'], expected)).rejects.toThrow(
    /missing/,
  );
});

const BIN = fileURLToPath(new URL('../../bin/ua-platform.js', import.meta.url));

/** `ua-platform serve` as its own process, so it can be killed with SIGKILL. */
async function serve(dir: string) {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data', dir, '--port', '0', '--closing-delay-ms', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
  return { child, url };
}

it('a small part acknowledged before a kill -9 is there after the restart, and the file closes byte-exact', async () => {
  const tmp = tempDir('ua-inline-kill-');
  cleanups.push(() => tmp.cleanup());
  const admin = openAdmin(tmp.dir);
  const user = admin.createUser('kim');
  const project = admin.createProject({ name: 'p', owner: user });
  const { token } = admin.createToken({ user });
  admin.close();
  const bytes = randomBytes(3000);
  const first = await serve(tmp.dir);
  const call = (url: string, route: string, input: object) => callApi(url, route, input, token);
  const id = (await call(first.url, 'file/new', { project, name: 'k.bin' })).body.id as string;
  const signed = (await call(first.url, `${id}/upload`, { index: 1, size: bytes.length, md5: md5hex(bytes) }))
    .body;
  const put = await putTo(signed.url, signed.headers, bytes);
  expect(put.status).toBe(200);
  const exited = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  await exited;
  const second = await serve(tmp.dir);
  expect((await call(second.url, `${id}/close`, {})).status).toBe(200);
  let state = '';
  for (let i = 0; i < 200 && state !== 'closed'; i++) {
    state = (await call(second.url, `${id}/describe`, {})).body.state as string;
    if (state !== 'closed') await new Promise((r) => setTimeout(r, 25));
  }
  expect(state).toBe('closed');
  const link = (await call(second.url, `${id}/download`, {})).body.url as string;
  const got = Buffer.from(await (await fetch(link)).arrayBuffer());
  expect(got.equals(bytes)).toBe(true);
  expect(existsSync(join(tmp.dir, 'blobs', 'objects', id))).toBe(false);
});

/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, expect, it } from 'vitest';
import { DiskBlobStore } from '../../src/platform/blobs/disk.js';
import { startPlatform } from '../../src/platform/index.js';
import { tempDir } from '../helpers/files.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { downloadBytes, md5hex, MiB, uploadWhole, waitClosed } from './file-helpers.js';

/**
 * Close without copying: a multi-part file's object is a directory of hard links to its parts
 * (blobs/disk.ts), streamed in order on download. Every byte goes through real HTTP.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function platformOn(dataDir?: string): Promise<TestPlatform> {
  const tp = await startTestPlatform({ closingDelayMs: 0, ...(dataDir ? { dataDir } : {}) });
  cleanups.push(() => tp.stop());
  return tp;
}

/** The same data dir served again: alice (and her project) are already there; a new token for her. */
async function reopen(dir: string, first: TestPlatform): Promise<TestPlatform> {
  const platform = await startPlatform({ dataDir: dir, quiet: true, closingDelayMs: 0 });
  cleanups.push(() => platform.stop());
  const { token } = platform.admin.createToken({ user: first.user });
  return {
    ...first,
    platform,
    token,
    url: platform.url,
    call: (route, input = {}, t = token) => callApi(platform.url, route, input, t),
    stop: () => platform.stop(),
  };
}

function dataDir(): string {
  const tmp = tempDir('ua-platform-segments-');
  cleanups.push(tmp.cleanup);
  return tmp.dir;
}

/** Three 5 MiB parts and a short last one: part boundaries at 5, 10 and 15 MiB. */
const PARTS = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
const WHOLE = Buffer.concat(PARTS);

async function ok(tp: TestPlatform, route: string, input: Record<string, unknown>): Promise<any> {
  const r = await tp.call(route, input);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

async function expectRange(tp: TestPlatform, id: string, range: string, start: number, end: number) {
  const got = await downloadBytes(tp, id, range);
  expect(got.status, range).toBe(206);
  expect(got.headers['content-range']).toBe(`bytes ${start}-${end}/${WHOLE.length}`);
  expect(got.headers['content-length']).toBe(String(end - start + 1));
  expect(got.bytes.equals(WHOLE.subarray(start, end + 1)), range).toBe(true);
}

it('a multi-part file closes into linked segments, downloads byte-exact, and Ranges cross part boundaries', async () => {
  const tp = await platformOn();
  const id = await uploadWhole(tp, PARTS);
  await waitClosed(tp, id);
  const object = join(tp.platform.dataDir, 'blobs', 'objects', id);
  expect(statSync(object).isDirectory()).toBe(true);
  expect(readdirSync(object)).toHaveLength(4);
  // The parts' own names go once `closed` is durable (assembly.ts), just after a describe can say
  // closed: wait for that. The object's links keep their bytes (nothing was copied).
  const partsDir = join(tp.platform.dataDir, 'blobs', 'parts', id);
  for (let i = 0; i < 200 && readdirSync(partsDir).length > 0; i++)
    await new Promise((r) => setTimeout(r, 25));
  expect(readdirSync(partsDir)).toEqual([]);
  for (const name of readdirSync(object)) expect(statSync(join(object, name)).nlink).toBe(1);

  const all = await downloadBytes(tp, id);
  expect(all.status).toBe(200);
  expect(all.headers['content-length']).toBe(String(WHOLE.length));
  expect(md5hex(all.bytes)).toBe(md5hex(WHOLE));

  const B = 5 * MiB;
  await expectRange(tp, id, 'bytes=0-0', 0, 0);
  await expectRange(tp, id, `bytes=${WHOLE.length - 1}-`, WHOLE.length - 1, WHOLE.length - 1);
  await expectRange(tp, id, `bytes=${B - 1}-${B}`, B - 1, B); // the last byte of one part, the first of the next
  await expectRange(tp, id, `bytes=${B}-${2 * B - 1}`, B, 2 * B - 1); // exactly part 2
  await expectRange(tp, id, `bytes=${B - 10}-${3 * B + 10}`, B - 10, 3 * B + 10); // parts 1 to 4
  await expectRange(tp, id, 'bytes=-1500', WHOLE.length - 1500, WHOLE.length - 1); // suffix: parts 3 and 4
  await expectRange(tp, id, `bytes=${3 * B + 500}-`, 3 * B + 500, WHOLE.length - 1);
  await expectRange(tp, id, `bytes=10-${WHOLE.length + 99}`, 10, WHOLE.length - 1);

  const { url } = await ok(tp, `${id}/download`, {});
  const head = await request(url, { method: 'HEAD' });
  await head.body.dump();
  expect(head.statusCode).toBe(200);
  expect(head.headers['content-length']).toBe(String(WHOLE.length));
  const past = await request(url, { headers: { range: `bytes=${WHOLE.length}-` } });
  await past.body.dump();
  expect(past.statusCode).toBe(416);
  expect(past.headers['content-range']).toBe(`bytes */${WHOLE.length}`);
});

it('a 1-part file is still a plain object, and 0-byte files download byte-exact', async () => {
  const tp = await platformOn();
  const one = randomBytes(3 * MiB + 7);
  const single = await uploadWhole(tp, [one]);
  const empty = await uploadWhole(tp, [Buffer.alloc(0)]);
  await waitClosed(tp, single);
  await waitClosed(tp, empty);
  const objects = join(tp.platform.dataDir, 'blobs', 'objects');
  expect(statSync(join(objects, single)).isFile()).toBe(true);
  // An empty object is a row of the database (blobs/inline.ts), not a file.
  expect(existsSync(join(objects, empty))).toBe(false);
  expect((await downloadBytes(tp, single)).bytes.equals(one)).toBe(true);
  const tail = await downloadBytes(tp, single, 'bytes=-7');
  expect(tail.bytes.equals(one.subarray(one.length - 7))).toBe(true);
  const got = await downloadBytes(tp, empty);
  expect(got.status).toBe(200);
  expect(got.headers['content-length']).toBe('0');
  expect(got.bytes).toHaveLength(0);
});

it('a server restarted after close serves the same bytes', async () => {
  const dir = dataDir();
  const first = await platformOn(dir);
  const id = await uploadWhole(first, PARTS);
  await waitClosed(first, id);
  await first.stop();

  const tp = await reopen(dir, first);
  expect(md5hex((await downloadBytes(tp, id)).bytes)).toBe(md5hex(WHOLE));
  await expectRange(tp, id, `bytes=${5 * MiB - 3}-${10 * MiB + 3}`, 5 * MiB - 3, 10 * MiB + 3);
});

it('removing one clone keeps the segments; removing the last frees them', async () => {
  const tp = await platformOn();
  const dest = tp.platform.admin.createProject({ name: 'dest', owner: tp.user });
  const id = await uploadWhole(tp, PARTS);
  await waitClosed(tp, id);
  await ok(tp, `${tp.project}/clone`, { project: dest, objects: [id] });
  const object = join(tp.platform.dataDir, 'blobs', 'objects', id);
  await ok(tp, `${tp.project}/removeObjects`, { objects: [id] });
  expect(readdirSync(object)).toHaveLength(4);
  expect(md5hex((await downloadBytes(tp, id)).bytes)).toBe(md5hex(WHOLE));
  await ok(tp, `${dest}/removeObjects`, { objects: [id] });
  expect(existsSync(object)).toBe(false);
  expect(existsSync(join(tp.platform.dataDir, 'blobs', 'parts', id))).toBe(false);
});

it('a data dir from before segmented objects (a copied object file, parts deleted) still serves its files', async () => {
  const dir = dataDir();
  const first = await platformOn(dir);
  const id = await uploadWhole(first, PARTS);
  await waitClosed(first, id);
  await first.stop();
  // What the copying assembly left: objects/<id> is one file of the whole bytes, the parts gone.
  const object = join(dir, 'blobs', 'objects', id);
  rmSync(object, { recursive: true });
  writeFileSync(object, WHOLE);
  rmSync(join(dir, 'blobs', 'parts', id), { recursive: true, force: true });

  const tp = await reopen(dir, first);
  expect(statSync(object).isFile()).toBe(true);
  expect((await downloadBytes(tp, id)).bytes.equals(WHOLE)).toBe(true);
  await expectRange(tp, id, `bytes=${5 * MiB - 1}-${5 * MiB}`, 5 * MiB - 1, 5 * MiB);
  await ok(tp, `${first.project}/removeObjects`, { objects: [id] });
  expect(existsSync(object)).toBe(false);
});

it('the disk store: a half-linked object is swept at start, and a retried assembly replaces a stale one', async () => {
  const dir = dataDir();
  const store = new DiskBlobStore(join(dir, 'blobs'));
  const id = 'file-Segments1';
  const keys: string[] = [];
  for (const [i, p] of PARTS.entries())
    keys.push((await store.putPart(id, i + 1, Readable.from([p]), { size: p.length, md5: md5hex(p) })).key);
  // A stale object from an attempt that stopped before it was recorded, with a wrong segment.
  mkdirSync(join(dir, 'blobs', 'objects', id), { recursive: true });
  writeFileSync(join(dir, 'blobs', 'objects', id, '0000000000'), 'stale');
  const made = await store.assemble(id, keys);
  expect(made).toEqual({ size: WHOLE.length, md5: null });
  const chunks: Buffer[] = [];
  for await (const c of store.openObject(id, { start: 2, end: WHOLE.length - 3 })) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks).equals(WHOLE.subarray(2, WHOLE.length - 2))).toBe(true);
  expect(await store.objectSize(id)).toBe(WHOLE.length);

  // A server killed while linking leaves objects/<id>.<random>.tmp/: start-up removes it, not the parts.
  const tmp = join(dir, 'blobs', 'objects', `${id}.abcd.tmp`);
  mkdirSync(tmp);
  writeFileSync(join(tmp, '0000000000'), 'x');
  const p = await startPlatform({ dataDir: dir, quiet: true });
  cleanups.push(() => p.stop());
  expect(existsSync(tmp)).toBe(false);
  expect(readdirSync(join(dir, 'blobs', 'parts', id))).toHaveLength(3);
});

/* eslint-disable @typescript-eslint/no-explicit-any -- describe outputs are free-form JSON in tests */
import { realpathSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { expect } from 'vitest';
import { md5 } from './files.js';
import type { TestPlatform } from './platform.js';

/**
 * The classic agent's signature of a local file (`size mtime-seconds compress-flag chunk-size realpath`),
 * as an earlier run (classic or ua) leaves it in `.system-fileSignature`.
 */
export function classicSignature(path: string, chunk: number, compressed = false): string {
  const st = statSync(path);
  return `${st.size} ${Math.floor(st.mtimeMs / 1000)} ${compressed ? 1 : 0} ${chunk} ${realpathSync(path)}`;
}

/** Sends part `index` of an open file as a client does: /upload for a signed URL, then the PUT. */
export async function putPart(tp: TestPlatform, fileId: string, index: number, bytes: Buffer): Promise<void> {
  const r = await tp.call(`${fileId}/upload`, { index, size: bytes.length, md5: md5(bytes) });
  expect(r.status).toBe(200);
  const res = await request(r.body.url, { method: 'PUT', headers: r.body.headers, body: bytes });
  await res.body.dump();
  expect(res.statusCode).toBe(200);
}

/** Downloads a closed file through the platform's signed URL: the stored bytes, exactly. */
export async function downloadFile(tp: TestPlatform, fileId: string): Promise<Buffer> {
  const r = await tp.call(`${fileId}/download`, {});
  if (r.status !== 200) throw new Error(`download ${fileId}: ${r.status} ${JSON.stringify(r.body)}`);
  const res = await request(r.body.url as string);
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`GET ${fileId}: ${res.statusCode} ${body.toString()}`);
  return body;
}

/** Downloads and, when the remote object is gzip, gunzips it (multi-member aware). */
export async function downloadPlain(tp: TestPlatform, fileId: string): Promise<Buffer> {
  const b = await downloadFile(tp, fileId);
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
}

export async function describe(tp: TestPlatform, id: string, input: object = {}): Promise<any> {
  const r = await tp.call(`${id}/describe`, input);
  if (r.status !== 200) throw new Error(`describe ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Waits until a file is closed (the server keeps files `closing` for a short while). */
export async function waitClosed(tp: TestPlatform, id: string, timeoutMs = 20_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await describe(tp, id);
    if (d.state === 'closed') return d;
    if (Date.now() > until) throw new Error(`${id} still ${d.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every file object in a project (any state, hidden too). */
export async function listFiles(tp: TestPlatform, project = tp.project): Promise<any[]> {
  const r = await tp.call('system/findDataObjects', {
    class: 'file',
    scope: { project, folder: '/', recurse: true },
    visibility: 'either',
    describe: true,
  });
  return r.body.results;
}

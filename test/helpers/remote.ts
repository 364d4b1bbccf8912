/* eslint-disable @typescript-eslint/no-explicit-any -- describe outputs are free-form JSON in tests */
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import type { TestPlatform } from './platform.js';

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

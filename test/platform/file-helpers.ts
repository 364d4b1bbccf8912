import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { expect } from 'vitest';
import { md5 as md5hex } from '../helpers/files.js';
import type { TestPlatform } from '../helpers/platform.js';

/** Raw-API helpers for the files tests: every byte goes through real HTTP to the real server. */

export const MiB = 1024 * 1024;

export { md5hex };

export async function newFile(
  tp: TestPlatform,
  input: Record<string, unknown> = {},
  token?: string,
): Promise<string> {
  const res = await tp.call('file/new', { project: tp.project, name: 'f.bin', ...input }, token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.id as string;
}

export interface PutResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** PUT bytes to a signed URL with exactly the headers the server asked for (no Authorization). */
export async function putTo(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<PutResult> {
  const res = await request(url, { method: 'PUT', headers, body });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

export async function signPart(
  tp: TestPlatform,
  fileId: string,
  index: number,
  bytes: Uint8Array,
  token?: string,
): Promise<{ url: string; headers: Record<string, string>; expires: number }> {
  const res = await tp.call(`${fileId}/upload`, { index, size: bytes.length, md5: md5hex(bytes) }, token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** `/upload` then PUT, the way the classic agent does it. */
export async function uploadPart(
  tp: TestPlatform,
  fileId: string,
  index: number,
  bytes: Uint8Array,
): Promise<PutResult> {
  const { url, headers } = await signPart(tp, fileId, index, bytes);
  return putTo(url, headers, bytes);
}

export async function describe(tp: TestPlatform, id: string, input: Record<string, unknown> = {}) {
  const res = await tp.call(`${id}/describe`, input);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Polls describe until the file is closed, as clients do; fails (not hangs) after ~20 s. */
export async function waitClosed(tp: TestPlatform, id: string) {
  for (let i = 0; i < 400; i++) {
    const d = await describe(tp, id);
    if (d.state === 'closed') return d;
    expect(d.state).toBe('closing');
    await sleep(50);
  }
  throw new Error(`${id} never closed`);
}

export async function downloadBytes(tp: TestPlatform, id: string, range?: string) {
  const res = await tp.call(`${id}/download`, {});
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const got = await request(res.body.url, { headers: range ? { range } : {} });
  return { status: got.statusCode, headers: got.headers, bytes: Buffer.from(await got.body.arrayBuffer()) };
}

/** Uploads `parts` (index = position + 1) and closes; returns the file ID. */
export async function uploadWhole(
  tp: TestPlatform,
  parts: Uint8Array[],
  input: Record<string, unknown> = {},
) {
  const id = await newFile(tp, input);
  for (const [i, p] of parts.entries()) expect((await uploadPart(tp, id, i + 1, p)).status).toBe(200);
  const closed = await tp.call(`${id}/close`, {});
  expect(closed.status, JSON.stringify(closed.body)).toBe(200);
  return id;
}

/**
 * Every place a file's bytes are kept: its object and parts on disk (`objects/<id>`, `parts/<id>/`,
 * `parts/<id>.<n>-…`) and, for small ones, its rows in the database (`db:objects/<id>`,
 * `db:parts/<key>`). Read from a second, read-only connection while the server runs (WAL).
 */
export function storedBlobs(tp: TestPlatform, id: string): string[] {
  const root = join(tp.platform.dataDir, 'blobs');
  const found: string[] = [];
  if (existsSync(join(root, 'objects', id))) found.push(`objects/${id}`);
  if (existsSync(join(root, 'parts', id))) found.push(`parts/${id}/`);
  const flat = existsSync(join(root, 'parts')) ? readdirSync(join(root, 'parts')) : [];
  for (const name of flat) if (name.startsWith(`${id}.`)) found.push(`parts/${name}`);
  const db = new Database(join(tp.platform.dataDir, 'platform.db'), { readonly: true });
  try {
    if (db.prepare('SELECT 1 FROM inline_objects WHERE file_id = ?').get(id)) found.push(`db:objects/${id}`);
    const parts = db.prepare('SELECT key FROM inline_parts WHERE file_id = ?').all(id) as Array<{
      key: string;
    }>;
    for (const p of parts) found.push(`db:parts/${p.key}`);
  } finally {
    db.close();
  }
  return found;
}

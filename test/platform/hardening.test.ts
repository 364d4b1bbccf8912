/**
 * ua-platform against what a fault campaign threw at it: file modes of users' data, URLs behind a
 * port mapping or a proxy, temporary files a kill -9 left, deeply nested bodies, hostile names.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { MiB, downloadBytes, md5hex, newFile, uploadPart, uploadWhole, waitClosed } from './file-helpers.js';

const tmp = tempDir('ua-hardening-');
let tp: TestPlatform;
const dataDir = join(tmp.dir, 'a', 'new', 'data');
beforeAll(async () => {
  tp = await startTestPlatform({ dataDir, quiet: true, closingDelayMs: 20 });
});
afterAll(async () => {
  await tp?.stop();
  tmp.cleanup();
});

/** Every path under `dir` with its permission bits. */
function modes(dir: string): Array<[string, number, boolean]> {
  const out: Array<[string, number, boolean]> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    out.push([p, st.mode & 0o777, st.isDirectory()]);
    if (st.isDirectory()) out.push(...modes(p));
  }
  return out;
}

/** POST with a Host header of our choosing (undici sets its own). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are free-form JSON here
function postWithHost(route: string, body: unknown, host: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: tp.platform.port,
        path: `/${route}`,
        method: 'POST',
        headers: {
          host,
          authorization: `Bearer ${tp.token}`,
          'content-type': 'application/json',
          'content-length': data.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

group('users data on disk', () => {
  it('creates the data dir 0700, and every file under it 0600 (db, key, parts, objects)', async () => {
    const small = await uploadWhole(tp, [randomBytes(1000)]);
    const big = await uploadWhole(tp, [randomBytes(5 * MiB), randomBytes(2 * MiB + 3)]);
    await waitClosed(tp, small);
    await waitClosed(tp, big);
    const open = await newFile(tp, { name: 'open.bin' }); // its part stays in parts/
    expect((await uploadPart(tp, open, 1, randomBytes(3 * MiB))).status).toBe(200);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const all = modes(dataDir);
    expect(all.filter(([, , d]) => !d).length).toBeGreaterThanOrEqual(5);
    for (const [p, mode, isDir] of all) expect([p, mode.toString(8)]).toEqual([p, isDir ? '700' : '600']);
  });
});

group('signed URLs follow the address the client used', () => {
  it('takes the Host header for part and download URLs; a malformed Host falls back to the listening address', async () => {
    const id = await newFile(tp, { name: 'host.bin' });
    const mapped = await postWithHost(
      `${id}/upload`,
      { index: 1, size: 3, md5: md5hex(Buffer.from('abc')) },
      'uploads.example.org:8443',
    );
    expect(mapped.status).toBe(200);
    expect(mapped.body.url).toMatch(/^http:\/\/uploads\.example\.org:8443\/upload\/file-/);
    const v6 = await postWithHost(
      `${id}/upload`,
      { index: 1, size: 3, md5: md5hex(Buffer.from('abc')) },
      '[::1]:9000',
    );
    expect(v6.body.url.startsWith('http://[::1]:9000/upload/')).toBe(true);
    const bad = await postWithHost(
      `${id}/upload`,
      { index: 1, size: 3, md5: md5hex(Buffer.from('abc')) },
      'evil.org/x?',
    );
    expect(bad.body.url.startsWith(`${tp.url}/upload/`)).toBe(true);
    const done = await uploadWhole(tp, [Buffer.from('hello')]);
    await waitClosed(tp, done);
    const dl = await postWithHost(`${done}/download`, {}, `localhost:${tp.platform.port}`);
    expect(dl.body.url.startsWith(`http://localhost:${tp.platform.port}/download/${done}`)).toBe(true);
    // The URL works as handed out (localhost reaches the same server here).
    const got = await downloadBytes(tp, done);
    expect(got.bytes.toString()).toBe('hello');
  });

  it('--public-url wins over the Host header (a TLS reverse proxy)', async () => {
    const other = await startTestPlatform({ publicUrl: 'https://ua.example.org/api/', quiet: true });
    try {
      const id = (
        await callApi(other.url, 'file/new', { project: other.project, name: 'p.bin' }, other.token)
      ).body.id;
      const r = await callApi(
        other.url,
        `${id}/upload`,
        { index: 1, size: 1, md5: md5hex(Buffer.from('x')) },
        other.token,
      );
      expect(r.body.url).toMatch(/^https:\/\/ua\.example\.org\/api\/upload\/file-/);
    } finally {
      await other.stop();
    }
  });
});

group('start-up', () => {
  it('removes the .tmp files a killed server left in objects/ and parts/, and keeps everything else', async () => {
    const dir = join(tmp.dir, 'swept');
    mkdirSync(join(dir, 'blobs', 'objects'), { recursive: true });
    mkdirSync(join(dir, 'blobs', 'parts', 'file-abc'), { recursive: true });
    writeFileSync(join(dir, 'blobs', 'objects', 'file-abc.1a2b.tmp'), 'x');
    writeFileSync(join(dir, 'blobs', 'parts', 'file-abc', '3-aaaa.tmp'), 'x');
    writeFileSync(join(dir, 'blobs', 'parts', 'file-abc', '4-bbbb'), 'kept');
    const p = await startTestPlatform({ dataDir: dir, quiet: true });
    await p.stop();
    expect(readdirSync(join(dir, 'blobs', 'objects'))).toEqual([]);
    expect(readdirSync(join(dir, 'blobs', 'parts', 'file-abc'))).toEqual(['4-bbbb']);
  });
});

group('hostile inputs', () => {
  it('a body nested 100,000 levels deep is InvalidInput, and the server goes on answering', async () => {
    for (const body of [
      '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
      '{"x":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}',
    ]) {
      const res = await fetch(`${tp.url}/system/whoami`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tp.token}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: unknown }).error).toEqual({
        type: 'InvalidInput',
        message: 'The request body is nested deeper than 128 levels',
      });
    }
    // Brackets inside strings are not nesting; a reasonable details object is fine.
    const ok = await tp.call('file/new', {
      project: tp.project,
      name: '[[[{{{',
      details: { a: { b: { c: ['['.repeat(500)] } } },
    });
    expect(ok.status).toBe(200);
    expect((await tp.call('system/whoami', {})).status).toBe(200);
  });

  it('object names: NUL and control characters refused, length limited, on create and rename', async () => {
    for (const [name, msg] of [
      ['bad\u0000name', 'name may not contain NUL or other control characters'],
      ['line\nbreak', 'name may not contain NUL or other control characters'],
      ['x'.repeat(2049), 'name may be at most 2048 characters'],
    ]) {
      const r = await tp.call('file/new', { project: tp.project, name });
      expect([r.status, r.body.error]).toEqual([422, { type: 'InvalidInput', message: msg }]);
      const rec = await tp.call('record/new', { project: tp.project, name });
      expect(rec.status).toBe(422);
    }
    const id = await newFile(tp, { name: 'é'.repeat(2048) }); // 2048 characters, more bytes: fine
    const ren = await tp.call(`${id}/rename`, { project: tp.project, name: 'a\u0007b' });
    expect([ren.status, ren.body.error.type]).toEqual([422, 'InvalidInput']);
  });
});

import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import {
  MiB,
  describe,
  downloadBytes,
  md5hex,
  newFile,
  putTo,
  signPart,
  uploadPart,
  waitClosed,
} from './file-helpers.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.stop());

const partsOf = async (id: string) =>
  (await describe(tp, id, { parts: true })).parts as Record<string, { md5: string; size: number }>;

group('part PUT checks', () => {
  it('answers /upload with a signed URL and the headers to send', async () => {
    const id = await newFile(tp);
    const bytes = Buffer.from('hello');
    const s = await signPart(tp, id, 7, bytes);
    expect(s.url).toMatch(new RegExp(`^${tp.url}/upload/${id}/7\\?`));
    expect(s.headers).toEqual({
      'content-length': '5',
      'content-md5': Buffer.from(md5hex(bytes), 'hex').toString('base64'),
    });
    expect(s.expires).toBeGreaterThan(Date.now());
    for (const bad of [
      { index: 0 },
      { index: 10001 },
      { size: -1 },
      { md5: 'ABC' },
      { md5: md5hex(bytes).toUpperCase() },
    ]) {
      const r = await tp.call(`${id}/upload`, { index: 1, size: 5, md5: md5hex(bytes), ...bad });
      expect(r.body.error.type, JSON.stringify(bad)).toBe('InvalidInput');
    }
  });

  it('refuses a body whose MD5 is not the signed one (400 BadDigest) and records nothing', async () => {
    const id = await newFile(tp);
    const good = randomBytes(2048);
    const { url, headers } = await signPart(tp, id, 1, good);
    const evil = Buffer.from(good);
    evil[100] ^= 1;
    const r = await putTo(url, headers, evil);
    expect(r.status).toBe(400);
    expect(r.body).toContain('<Code>BadDigest</Code>');
    expect(await partsOf(id)).toEqual({});
    expect(tp.platform.stats.partPuts.filter((p) => p.fileId === id)).toEqual([
      { fileId: id, index: 1, size: 2048, ok: false },
    ]);
  });

  it('refuses a body of another size than signed (400) and records nothing', async () => {
    const id = await newFile(tp);
    const good = randomBytes(2048);
    const { url } = await signPart(tp, id, 1, good);
    // No Content-MD5 header, so the size check is what trips.
    const shorter = await putTo(url, {}, good.subarray(0, 2000));
    expect(shorter.status).toBe(400);
    const longer = await putTo(url, {}, Buffer.concat([good, Buffer.from('x')]));
    expect(longer.status).toBe(400);
    expect(await partsOf(id)).toEqual({});
  });

  it('refuses a tampered signature or URL with 403 SignatureDoesNotMatch', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(100);
    const { url, headers } = await signPart(tp, id, 1, bytes);
    const u = new URL(url);
    u.searchParams.set(
      'sig',
      u.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    );
    const r1 = await putTo(u.toString(), headers, bytes);
    expect(r1.status).toBe(403);
    expect(r1.body).toContain('SignatureDoesNotMatch');
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(later.searchParams.get('expires')) + 3_600_000));
    expect((await putTo(later.toString(), headers, bytes)).status).toBe(403);
    const otherIndex = url.replace(`/${id}/1?`, `/${id}/2?`);
    expect((await putTo(otherIndex, headers, bytes)).status).toBe(403);
    expect(await partsOf(id)).toEqual({});
  });

  it('refuses an expired URL with 403 AccessDenied', async () => {
    const short = await startTestPlatform({ urlTtlMs: 1 });
    try {
      const id = await newFile(short);
      const bytes = randomBytes(100);
      const { url, headers, expires } = await signPart(short, id, 1, bytes);
      while (Date.now() <= expires) await sleep(5);
      const r = await putTo(url, headers, bytes);
      expect(r.status).toBe(403);
      expect(r.body).toContain('<Code>AccessDenied</Code>');
      expect((await describe(short, id, { parts: true })).parts).toEqual({});
    } finally {
      await short.stop();
    }
  });

  it('keeps the last complete upload of a part', async () => {
    const id = await newFile(tp);
    const first = randomBytes(3000);
    const second = randomBytes(1500);
    expect((await uploadPart(tp, id, 1, first)).status).toBe(200);
    expect((await uploadPart(tp, id, 1, second)).status).toBe(200);
    expect(await partsOf(id)).toEqual({ '1': { state: 'complete', size: 1500, md5: md5hex(second) } });
    await tp.call(`${id}/close`, {});
    await waitClosed(tp, id);
    expect((await downloadBytes(tp, id)).bytes.equals(second)).toBe(true);
  });

  it('keeps nothing from a small body whose client goes away mid-way, and takes the next PUT', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(8000);
    const { url, headers } = await signPart(tp, id, 1, bytes);
    const before = tp.platform.stats.partPuts.length;
    // A no-op fault rule, used up when the server starts on the PUT: then it is reading the body.
    tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 0 });
    const req = httpRequest(url, { method: 'PUT', headers });
    req.on('error', () => {}); // the socket we destroy
    req.write(bytes.subarray(0, 4000));
    while (tp.platform.faults.pending > 0) await sleep(10);
    await sleep(20); // let the first half arrive (the test holds either way)
    req.destroy();
    // The server saw the attempt end without storing it; then a whole PUT is taken as usual.
    while (tp.platform.stats.partPuts.length === before) await sleep(10);
    expect(tp.platform.stats.partPuts.at(-1)).toMatchObject({ fileId: id, index: 1, ok: false });
    expect(await partsOf(id)).toEqual({});
    expect((await uploadPart(tp, id, 1, bytes)).status).toBe(200);
    expect(await partsOf(id)).toEqual({ '1': { state: 'complete', size: 8000, md5: md5hex(bytes) } });
  });

  it('refuses a PUT to a file that is no longer open', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(10);
    await uploadPart(tp, id, 1, bytes);
    const late = await signPart(tp, id, 2, bytes);
    await tp.call(`${id}/close`, {});
    const r = await putTo(late.url, late.headers, bytes);
    expect(r.status).toBe(409);
    expect(Object.keys(await partsOf(id))).toEqual(['1']);
  });

  it('tolerates Expect: 100-continue', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(256 * 1024);
    const { url, headers } = await signPart(tp, id, 1, bytes);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'PUT', headers: { ...headers, expect: '100-continue' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('continue', () => req.end(bytes));
      req.on('error', reject);
    });
    expect(status).toBe(200);
    expect((await partsOf(id))['1'].md5).toBe(md5hex(bytes));
  });
});

group('faults on part PUTs', () => {
  it('503 with Retry-After: the part is not recorded; the retry is', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(MiB);
    tp.platform.faults.add({ target: 'put', action: 'status', status: 503, retryAfter: 2 });
    const r = await uploadPart(tp, id, 1, bytes);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.body).toContain('<Error>');
    expect(await partsOf(id)).toEqual({});
    expect((await uploadPart(tp, id, 1, bytes)).status).toBe(200);
    expect((await partsOf(id))['1'].md5).toBe(md5hex(bytes));
  });

  it('drop: the connection dies mid-body and nothing is recorded', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(4 * MiB);
    tp.platform.faults.add({ target: 'put', action: 'drop' });
    await expect(uploadPart(tp, id, 1, bytes)).rejects.toThrow();
    expect(await partsOf(id)).toEqual({});
    const attempts = tp.platform.stats.partPuts.filter((p) => p.fileId === id);
    expect(attempts).toEqual([{ fileId: id, index: 1, size: bytes.length, ok: false }]);
  });

  it('drop-response: the part is stored although the client saw no answer', async () => {
    const id = await newFile(tp);
    const bytes = randomBytes(1000);
    tp.platform.faults.add({ target: 'put', action: 'drop-response' });
    await expect(uploadPart(tp, id, 1, bytes)).rejects.toThrow();
    expect((await partsOf(id))['1'].md5).toBe(md5hex(bytes));
    expect(tp.platform.stats.okPuts(id)).toHaveLength(1);
  });
});

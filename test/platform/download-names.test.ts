import { randomBytes } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { newFile, signPart, putTo, uploadWhole, waitClosed } from './file-helpers.js';

/**
 * Downloads of files whose names are not ASCII. Node refuses a header value outside latin1
 * (ERR_INVALID_CHAR), which used to close the connection without an answer; the signed URL now
 * sends an RFC 6266 `Content-Disposition`: an ASCII fallback and the exact name as RFC 5987
 * `filename*`. And a header Node refuses anywhere on these paths is a 500, never a dropped socket.
 */
let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
});
afterAll(() => tp.stop());

/** The two filename parameters of a Content-Disposition value. */
function parseDisposition(v: string): { fallback: string; name: string } {
  const m = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$/.exec(v);
  expect(m, v).not.toBeNull();
  return { fallback: m![1], name: decodeURIComponent(m![2]) };
}

async function get(url: string, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(url, { method });
  return {
    status: res.statusCode,
    headers: res.headers,
    body: Buffer.from(await res.body.arrayBuffer()),
  };
}

const NAMES: Array<[string, string, string]> = [
  ['accents and a space', 'résumé ü.txt', 'r_sum_ _.txt'],
  ['CJK', '数据.fastq', '__.fastq'],
  ['a quote and a backslash', 'say "hi" \\ back\\slash.txt', 'say _hi_ _ back_slash.txt'],
  ['an emoji (a surrogate pair)', 'run 🧬 1.bam', 'run _ 1.bam'],
  ['characters encodeURIComponent leaves as they are', "it's (1)*!.txt", "it's (1)*!.txt"],
  ['a percent sign and a semicolon', '100% a;b.txt', '100% a;b.txt'],
];

group('a file whose name is not plain ASCII', () => {
  it.each(NAMES)(
    '%s: the bytes, and a Content-Disposition that decodes back to the name',
    async (_l, name, fallback) => {
      const bytes = randomBytes(2000);
      const id = await uploadWhole(tp, [bytes], { name });
      await waitClosed(tp, id);
      const { url } = (await tp.call(`${id}/download`, {})).body as { url: string };
      for (const method of ['GET', 'HEAD'] as const) {
        const r = await get(url, method);
        expect(r.status).toBe(200);
        const cd = r.headers['content-disposition'] as string;
        expect(cd).toMatch(/^[\x20-\x7e]+$/); // pure ASCII, whatever the name
        expect(parseDisposition(cd)).toEqual({ fallback, name });
        if (method === 'GET') expect(r.body.equals(bytes)).toBe(true);
      }
    },
  );

  it('a `filename` given to /download is the one in the header', async () => {
    const bytes = randomBytes(10);
    const id = await uploadWhole(tp, [bytes], { name: 'plain.bin' });
    await waitClosed(tp, id);
    const { url } = (await tp.call(`${id}/download`, { filename: 'ĉu vi? 名前.bin' })).body;
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(r.body.equals(bytes)).toBe(true);
    expect(parseDisposition(r.headers['content-disposition'] as string).name).toBe('ĉu vi? 名前.bin');
  });

  it('a `filename` with a lone surrogate (JSON allows one) downloads, with U+FFFD in its place', async () => {
    const bytes = randomBytes(10);
    const id = await uploadWhole(tp, [bytes], { name: 'plain.bin' });
    await waitClosed(tp, id);
    const r = await get((await tp.call(`${id}/download`, { filename: 'half \ud83e pair.txt' })).body.url);
    expect(r.status).toBe(200);
    expect(r.body.equals(bytes)).toBe(true);
    expect(parseDisposition(r.headers['content-disposition'] as string)).toEqual({
      fallback: 'half _ pair.txt',
      name: 'half \ufffd pair.txt',
    });
  });
});

/**
 * Runs `fn` while the first writeHead whose headers include `header` gets one more header with a
 * value Node refuses, so that Node itself throws ERR_INVALID_CHAR, as a bad value fails for real.
 * Later answers (the error answer among them) are left alone.
 */
async function withRefusedHeader<T>(header: string, fn: () => Promise<T>): Promise<T> {
  const real = ServerResponse.prototype.writeHead;
  let refused = false;
  ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const headers = args.at(-1);
    if (!refused && typeof headers === 'object' && headers !== null && header in headers) {
      refused = true;
      args[args.length - 1] = { ...headers, 'X-Refused': '数据' };
    }
    return (real as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof real;
  try {
    return await fn();
  } finally {
    ServerResponse.prototype.writeHead = real;
  }
}

group('a header value Node refuses', () => {
  it('on a download: 500 InternalError in S3 XML, none of the failed answer’s headers, and the server goes on', async () => {
    const id = await uploadWhole(tp, [randomBytes(100)], { name: 'x.bin' });
    await waitClosed(tp, id);
    const { url } = (await tp.call(`${id}/download`, {})).body;
    const r = await withRefusedHeader('Content-Disposition', () => get(url));
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toBe('application/xml');
    expect(r.body.toString()).toContain('<Code>InternalError</Code>');
    expect(r.headers['content-disposition']).toBeUndefined();
    expect(r.headers['accept-ranges']).toBeUndefined();
    expect(r.headers['content-length']).toBe(String(r.body.length));
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{24}$/);
    expect((await get(url)).status).toBe(200);
  });

  it('on a part PUT: 500 InternalError in S3 XML; the part was stored, and a retry is answered', async () => {
    const id = await newFile(tp, { name: 'p.bin' });
    const part = randomBytes(64);
    const signed = await signPart(tp, id, 1, part);
    const r = await withRefusedHeader('ETag', () => putTo(signed.url, signed.headers, part));
    expect(r.status).toBe(500);
    expect(r.body).toContain('<Code>InternalError</Code>');
    expect(r.headers.etag).toBeUndefined();
    const again = await putTo(signed.url, signed.headers, part);
    expect(again.status).toBe(200);
  });

  it('on an API answer: 500 with the error envelope', async () => {
    const r = await withRefusedHeader('Content-Type', () => tp.call('system/whoami', {}));
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: { type: 'InternalError', message: 'An internal error occurred' } });
    expect((await tp.call('system/whoami', {})).status).toBe(200);
  });
});

import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { uploadWhole, waitClosed } from './file-helpers.js';

/**
 * `/file-xxxx/download` hands out a signed GET URL (HMAC over file, expiry and filename). Like the
 * part-upload URLs, and like S3 which they stand in for, a URL that was altered in any of its
 * fields answers 403 SignatureDoesNotMatch and one past its expiry 403 AccessDenied, each with an
 * S3-style XML error body. Expiry is tested with the server's clock (deps.now) moved, not by waiting.
 */
let tp: TestPlatform;
let fileA: string;
let fileB: string;
let sigB: string; // a valid signature, for another file
const bytesA = randomBytes(3000);

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
  fileA = await uploadWhole(tp, [bytesA], { name: 'a.bin' });
  fileB = await uploadWhole(tp, [randomBytes(10)], { name: 'b.bin' });
  await waitClosed(tp, fileA);
  await waitClosed(tp, fileB);
  sigB = new URL((await signed(fileB)).url).searchParams.get('sig')!;
});
afterAll(() => tp.stop());

async function signed(id: string, input: Record<string, unknown> = {}) {
  const r = await tp.call(`${id}/download`, input);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { url: string; expires: number };
}

async function get(url: string | URL, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(url.toString(), { method });
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    body: Buffer.from(await res.body.arrayBuffer()),
  };
}

function expectS3Error(r: Awaited<ReturnType<typeof get>>, code: string, message: string) {
  expect(r.status).toBe(403);
  expect(r.type).toBe('application/xml');
  const xml = r.body.toString();
  expect(xml).toMatch(
    new RegExp(
      `^<\\?xml[^>]*>\\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>[0-9A-F]+</RequestId></Error>$`,
    ),
  );
}

/** Runs fn with the server's clock at `at` (ms); the real clock is put back afterwards. */
async function withClock<T>(at: number, fn: () => Promise<T>): Promise<T> {
  const deps = tp.platform.deps;
  const real = deps.now;
  deps.now = () => at;
  try {
    return await fn();
  } finally {
    deps.now = real;
  }
}

const TAMPERED = 'The request signature does not match';

group('a signed download URL', () => {
  it('as handed out: the exact bytes', async () => {
    const { url } = await signed(fileA);
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(r.body.equals(bytesA)).toBe(true);
  });

  it.each([
    ['the signature altered', (u: URL) => u.searchParams.set('sig', flip(u.searchParams.get('sig')!))],
    ['another file’s signature', (u: URL) => u.searchParams.set('sig', sigB)],
    ['the path altered to another file', (u: URL) => (u.pathname = `/download/${fileB}`)],
    ['the expiry pushed later', (u: URL) => bump(u, 'expires', 3_600_000)],
    ['the expiry moved earlier', (u: URL) => bump(u, 'expires', -1)],
    ['the filename changed', (u: URL) => u.searchParams.set('filename', 'other.bin')],
    ['the filename dropped', (u: URL) => u.searchParams.delete('filename')],
  ])('with %s: 403 SignatureDoesNotMatch, no bytes', async (_label, tamper) => {
    const u = new URL((await signed(fileA)).url);
    tamper(u);
    for (const method of ['GET', 'HEAD'] as const) {
      const r = await get(u, method);
      if (method === 'HEAD') expect(r.status).toBe(403);
      else expectS3Error(r, 'SignatureDoesNotMatch', TAMPERED);
    }
  });

  it('a path that is not a file ID, or no signature at all: 400 InvalidArgument', async () => {
    const u = new URL((await signed(fileA)).url);
    const noSig = new URL(u);
    noSig.searchParams.delete('sig');
    const badPath = new URL(u);
    badPath.pathname = '/download/record-000000000000000000000000';
    for (const x of [noSig, badPath]) {
      const r = await get(x);
      expect(r.status).toBe(400);
      expect(r.body.toString()).toContain('<Code>InvalidArgument</Code>');
    }
  });

  it('past its expiry: 403 AccessDenied "Request has expired"; up to the expiry it works', async () => {
    const t0 = Date.now();
    const { url, expires } = await withClock(t0, () => signed(fileA));
    expect(expires).toBe(t0 + 15 * 60 * 1000); // the default lifetime
    const atExpiry = await withClock(expires, () => get(url));
    expect(atExpiry.status).toBe(200);
    expect(atExpiry.body.equals(bytesA)).toBe(true);
    const after = await withClock(expires + 1, () => get(url));
    expectS3Error(after, 'AccessDenied', 'Request has expired');
    const much = await withClock(expires + 86_400_000, () => get(url, 'HEAD'));
    expect(much.status).toBe(403);
  });

  it('`duration` sets the lifetime in seconds; a shorter URL expires on its own clock', async () => {
    const t0 = Date.now();
    const { url, expires } = await withClock(t0, () =>
      signed(fileA, { preauthenticated: true, duration: 2 }),
    );
    expect(expires).toBe(t0 + 2000);
    expect((await withClock(t0 + 2000, () => get(url))).status).toBe(200);
    expectS3Error(await withClock(t0 + 2001, () => get(url)), 'AccessDenied', 'Request has expired');
  });

  it('an expired URL that was also tampered with is reported as tampered', async () => {
    const t0 = Date.now();
    const u = new URL((await withClock(t0, () => signed(fileA))).url);
    u.searchParams.set('filename', 'x');
    expectS3Error(await withClock(t0 + 86_400_000, () => get(u)), 'SignatureDoesNotMatch', TAMPERED);
  });
});

function flip(sig: string): string {
  return (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
}

function bump(u: URL, key: string, by: number): void {
  u.searchParams.set(key, String(Number(u.searchParams.get(key)) + by));
}

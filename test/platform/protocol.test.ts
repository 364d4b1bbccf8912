import { request as httpRequest } from 'node:http';
import { request } from 'undici';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/platform/app.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.stop());

/** POST with full control of the headers and the raw body. */
async function rawPost(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(`${tp.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tp.token}`, ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('request form', () => {
  it.each([
    ['absent', undefined],
    ['application/json', 'application/json'],
    ['with utf-8 charset (dxcpp)', 'application/json; charset=utf-8'],
    ['with quoted upper-case charset', 'Application/JSON; charset="UTF-8"'],
  ])('accepts Content-Type %s', async (_label, ct) => {
    const res = await rawPost('/system/whoami', '{}', ct ? { 'content-type': ct } : {});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: tp.user, handle: 'alice' });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'])(
    'refuses Content-Type %s with MalformedJSON 400',
    async (ct) => {
      const res = await rawPost('/system/whoami', '{}', { 'content-type': ct });
      expect(res.status).toBe(400);
      expect(res.body.error.type).toBe('MalformedJSON');
    },
  );

  it.each([
    ['unparseable', '{"a":'],
    ['empty', ''],
    ['an array', '[]'],
    ['a string', '"x"'],
    ['null', 'null'],
  ])('refuses a body that is %s with MalformedJSON', async (_label, body) => {
    const res = await rawPost('/system/whoami', body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { type: 'MalformedJSON', message: expect.any(String) } });
  });

  it('ignores query strings and accepts the DNAnexus-API header', async () => {
    const res = await rawPost('/system/greet?foo=bar&x=1', '{"client":"dnanexus-upload-agent"}', {
      'dnanexus-api': '1.0.0',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ update: { available: false }, messages: [] });
  });

  it('refuses a body over 16 MiB by its declared length and closes the connection', async () => {
    const res = await new Promise<{ status: number; body: string; connection?: string }>(
      (resolve, reject) => {
        const req = httpRequest(`${tp.url}/system/whoami`, {
          method: 'POST',
          headers: { 'content-length': String(17 * 1024 * 1024), authorization: `Bearer ${tp.token}` },
        });
        req.on('response', (r) => {
          let body = '';
          r.setEncoding('utf8').on('data', (c: string) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, body, connection: r.headers.connection }));
        });
        req.on('error', reject);
        req.flushHeaders();
      },
    );
    expect(res.status).toBe(422);
    expect(JSON.parse(res.body).error.type).toBe('InvalidInput');
    expect(res.connection).toBe('close');
  });
});

describe('responses', () => {
  it('carries a distinct X-Request-ID on successes and errors', async () => {
    const ok = await tp.call('system/whoami');
    const err = await tp.call('system/nope');
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f]{24}$/);
    expect(err.headers['x-request-id']).toMatch(/^[0-9a-f]{24}$/);
    expect(ok.headers['x-request-id']).not.toBe(err.headers['x-request-id']);
  });

  it('answers errors with the envelope, JSON content type and the type status', async () => {
    const res = await tp.call('project-000000000000000000000000/describe');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual({
      error: {
        type: 'ResourceNotFound',
        message: 'The entity project-000000000000000000000000 could not be found',
      },
    });
  });

  it('answers unknown routes with ResourceNotFound and non-POST with MethodNotAllowed', async () => {
    expect((await tp.call('system/nope')).body.error.type).toBe('ResourceNotFound');
    expect((await tp.call('my-project-name/describe')).body.error).toEqual({
      type: 'ResourceNotFound',
      message: 'The entity my-project-name could not be found',
    });
    expect((await tp.call('a/b/c')).status).toBe(404);
    const get = await request(`${tp.url}/system/whoami`, { method: 'GET' });
    await get.body.text();
    expect(get.statusCode).toBe(405);
  });

  it('routes an URL-escaped entity ID subject', async () => {
    const res = await tp.call(`${encodeURIComponent(tp.project)}/describe`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(tp.project);
  });
});

describe('CORS', () => {
  it('echoes Origin on a POST', async () => {
    const res = await rawPost('/system/whoami', '{}', { origin: 'https://example.org' });
    expect(res.headers['access-control-allow-origin']).toBe('https://example.org');
  });

  it('answers an OPTIONS preflight for POST, echoing the requested headers', async () => {
    const res = await request(`${tp.url}/system/whoami`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://example.org',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://example.org');
    expect(res.headers['access-control-allow-methods']).toBe('POST');
    expect(res.headers['access-control-allow-headers']).toBe('authorization, content-type');
  });
});

describe('fault hooks', () => {
  it('answers an injected 503 with the envelope and an integer Retry-After, once', async () => {
    tp.platform.faults.add({
      target: 'api',
      route: 'system/whoami',
      action: 'status',
      status: 503,
      retryAfter: 2.5,
    });
    const first = await tp.call('system/whoami');
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toBe('3');
    expect(first.body.error.type).toBe('ServiceUnavailable');
    expect((await tp.call('system/whoami')).status).toBe(200);
  });

  it('maps 429 to RateLimitConditional and 500 to InternalError', async () => {
    tp.platform.faults.add({ target: 'api', route: 'system/greet', action: 'status', status: 429 });
    tp.platform.faults.add({ target: 'api', route: 'system/greet', action: 'status', status: 500 });
    const a = await tp.call('system/greet');
    const b = await tp.call('system/greet');
    expect([a.status, a.body.error.type, a.headers['retry-after']]).toEqual([
      429,
      'RateLimitConditional',
      '1',
    ]);
    expect([b.status, b.body.error.type, b.headers['retry-after']]).toEqual([
      500,
      'InternalError',
      undefined,
    ]);
  });

  it('drops the connection without running the route', async () => {
    tp.platform.faults.add({ target: 'api', route: 'project-*/newFolder', action: 'drop' });
    await expect(tp.call(`${tp.project}/newFolder`, { folder: '/dropped' })).rejects.toThrow();
    const list = await tp.call(`${tp.project}/listFolder`, { only: 'folders' });
    expect(list.body.folders).not.toContain('/dropped');
  });

  it('drop-response runs the route, then loses the answer', async () => {
    tp.platform.faults.add({ target: 'api', route: 'project-*/newFolder', action: 'drop-response' });
    await expect(tp.call(`${tp.project}/newFolder`, { folder: '/lost-answer' })).rejects.toThrow();
    const list = await tp.call(`${tp.project}/listFolder`, { only: 'folders' });
    expect(list.body.folders).toContain('/lost-answer');
  });

  it('delay carries on normally afterwards', async () => {
    tp.platform.faults.add({ target: 'api', route: 'system/whoami', action: 'delay', delayMs: 50 });
    const res = await tp.call('system/whoami');
    expect(res.status).toBe(200);
    expect(tp.platform.faults.pending).toBe(0);
  });

  it('counts calls per route key', async () => {
    const before = tp.platform.stats.apiCalls.get('project-*/describe') ?? 0;
    await tp.call(`${tp.project}/describe`);
    await tp.call(`${tp.project}/describe`);
    expect(tp.platform.stats.apiCalls.get('project-*/describe')).toBe(before + 2);
  });
});

describe('unexpected errors', () => {
  it('answer InternalError 500 with a generic message and log without the token', async () => {
    const app = createApp(
      tp.platform.deps,
      {
        'system/boom': () => {
          throw new Error('kaboom at the bottom');
        },
      },
      { quiet: false },
    );
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const logged: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      logged.push(String(chunk));
      return true;
    });
    try {
      const { port } = app.address() as AddressInfo;
      const res = await callApi(`http://127.0.0.1:${port}`, 'system/boom', {}, tp.token);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { type: 'InternalError', message: 'An internal error occurred' } });
    } finally {
      spy.mockRestore();
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
    expect(logged.join('')).toContain('kaboom at the bottom');
    expect(logged.join('')).not.toContain(tp.token);
  });
});

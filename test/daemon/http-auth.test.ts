import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startOpsServer } from '../../src/daemon/ops/http.js';
import type { DaemonStatus } from '../../src/daemon/ops/status.js';

const status: DaemonStatus = {
  daemon: {
    running: true,
    pid: 1,
    heartbeat_at: new Date().toISOString(),
    project: 'project-x',
    version: '0',
  },
  runs: [],
  hosts: [],
};
const source = { status: async () => status, detail: async () => undefined };

describe('status page access', () => {
  it('refuses a non-loopback address without --http-token, in one line saying what to do', async () => {
    await expect(startOpsServer({ host: '0.0.0.0', port: 0 }, source)).rejects.toThrow(
      /--http-token .*ssh -L/,
    );
  });

  it('with a token: bearer or the login form (HttpOnly SameSite=Strict cookie); /healthz stays open', async () => {
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, token: 's3cret-token-value' }, source);
    try {
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const r = await request(`${ops.url}${path}`, { headers });
        return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
      };
      expect((await get('/api/status')).status).toBe(401);
      expect((await get('/', { accept: 'text/html' })).headers.location).toBe('/login');
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/api/status', { authorization: 'Bearer wrong' })).status).toBe(401);
      const ok = await get('/api/status', { authorization: 'Bearer s3cret-token-value' });
      expect(ok.status).toBe(200);
      expect(ok.body).not.toContain('s3cret');
      const bad = await request(`${ops.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=nope',
      });
      expect(bad.statusCode).toBe(401);
      expect(await bad.body.text()).toMatch(/not right/);
      const login = await request(`${ops.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=s3cret-token-value',
      });
      await login.body.dump();
      expect(login.statusCode).toBe(303);
      const cookie = String(login.headers['set-cookie']);
      expect(cookie).toMatch(/^ua_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\//);
      expect(cookie).not.toContain('s3cret');
      const page = await get('/', { cookie: cookie.split(';')[0] });
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(page.body).toMatch(/<h1>Runs<\/h1>/);
    } finally {
      await ops.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyConnection,
  connectionMessage,
  maskProxy,
  proxySettings,
} from '../../../src/diagnose/connection.js';
import { diagnoseProjects, type DiagnoseConfig } from '../../../src/diagnose/permission.js';
import { explainRunRefusals } from '../../../src/diagnose/refusal.js';
import { ConnectionError } from '../../../src/errors.js';
import { createHttpAgent } from '../../../src/transfer/http.js';
import { PlatformClient } from '../../../src/transfer/platform/api.js';
import { startTestPlatform, type TestPlatform } from '../../helpers/platform.js';

describe('proxy settings', () => {
  it.each([
    ['http://user:pw@proxy:3128', 'http://****@proxy:3128'],
    ['user:pw@proxy:3128', '****@proxy:3128'],
    ['http://proxy:3128', 'http://proxy:3128'],
    ['socks5://a@b:1080/', 'socks5://****@b:1080/'],
  ])('masks %s', (raw, masked) => expect(maskProxy(raw)).toBe(masked));

  it('lists only the variables that are set', () => {
    expect(proxySettings({ https_proxy: 'http://x:y@p:1', HTTP_PROXY: '' })).toEqual([
      { name: 'https_proxy', value: 'http://****@p:1' },
    ]);
  });
});

describe('classifyConnection', () => {
  const via = { masked: 'http://****@p:1', from: 'HTTP_PROXY' };
  const err = (code: string, message = 'x', proxy?: typeof via) =>
    new ConnectionError('http://h:1/system/greet', Object.assign(new Error(message), { code }), proxy);
  it('a certificate error is TLS even through a proxy', () => {
    expect(classifyConnection(err('CERT_HAS_EXPIRED', 'x', via)).kind).toBe('tls');
  });
  it('a refused connection through a proxy is the proxy case; a direct one is unreachable, proxy set or not', () => {
    expect(classifyConnection(err('ECONNREFUSED', 'x', via))).toMatchObject({
      kind: 'proxy',
      code: 'ECONNREFUSED',
      proxy: via,
    });
    expect(classifyConnection(err('ECONNREFUSED'), { HTTPS_PROXY: 'http://p:1' }).kind).toBe('unreachable');
    expect(classifyConnection(err('ENOTFOUND'), {}).kind).toBe('unreachable');
  });
  it('the message names the proxy, or says why the connection was direct', () => {
    const m = connectionMessage(classifyConnection(err('ECONNREFUSED', 'x', via)), 'http://h:1');
    expect(m).toContain(
      'Cannot reach the API server at http://h:1 through the proxy http://****@p:1 (from HTTP_PROXY)',
    );
    const direct = connectionMessage(classifyConnection(err('ECONNREFUSED')), 'http://h:1', {
      HTTPS_PROXY: 'http://u:pw@p:1',
    });
    expect(direct).toContain(
      'ua connected directly, not through a proxy: HTTPS_PROXY=http://****@p:1 is for https:// URLs',
    );
    expect(direct).not.toContain('pw');
  });
  it('finds the code under undici wrappers', () => {
    const inner = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    const outer = Object.assign(new Error('fetch failed', { cause: inner }), { code: 'UND_ERR_SOCKET' });
    expect(classifyConnection(new ConnectionError('https://h:1/', outer), {})).toMatchObject({
      kind: 'tls',
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });
});

describe('against ua-platform', () => {
  let tp: TestPlatform;
  const agent = createHttpAgent({ connections: 2 });
  let cfg: DiagnoseConfig;
  const client = (token: string) => new PlatformClient({ server: cfg, token, agent, retry: { attempts: 1 } });
  beforeAll(async () => {
    tp = await startTestPlatform();
    cfg = {
      protocol: 'http',
      host: tp.platform.host,
      port: tp.platform.port,
      tokenSource: 'flag',
      looked: ['--auth-token'],
    };
  });
  afterAll(async () => {
    await agent.close();
    await tp?.stop();
  });

  it('a token revoked during a run: one diagnosis per project, auth failures only', async () => {
    const other = tp.platform.admin.createProject({ name: 'second', owner: tp.user });
    const t = tp.platform.admin.createToken({ user: tp.user });
    tp.platform.admin.revokeToken(t.tokenId);
    const said: string[] = [];
    await explainRunRefusals(
      client(t.token),
      cfg,
      [
        {
          projectId: tp.project,
          error: 'InvalidAuthentication: The token has been revoked (HTTP 401 from /file/new)',
        },
        {
          projectId: tp.project,
          error: 'InvalidAuthentication: The token has been revoked (HTTP 401 from /file/new)',
        },
        { projectId: other, error: 'Request failed with HTTP status code 500' },
        { projectId: other },
      ],
      (m) => said.push(m),
    );
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('The token has been revoked');
  });

  it('access that is fine says nothing after a run', async () => {
    const said: string[] = [];
    await explainRunRefusals(
      client(tp.token),
      cfg,
      [{ projectId: tp.project, error: 'PermissionDenied: x' }],
      (m) => said.push(m),
    );
    expect(said).toEqual([]);
  });

  it('diagnoseProjects checks the token once and each distinct spec once', async () => {
    const calls = tp.platform.stats.apiCalls;
    const count = (k: string) =>
      [...calls].filter(([route]) => route.includes(k)).reduce((n, [, c]) => n + c, 0);
    const [who, desc] = [count('whoami'), count('describe')];
    const d = await diagnoseProjects(client(tp.token), cfg, [tp.project, tp.project, 'test-project']);
    expect([...d.keys()]).toEqual([tp.project, 'test-project']);
    expect([...d.values()].map((x) => x.kind)).toEqual(['ok', 'ok']);
    expect(count('whoami') - who).toBe(1);
    expect(count('describe') - desc).toBe(1);
  });
});

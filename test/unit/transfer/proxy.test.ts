import { afterEach, describe, expect, it } from 'vitest';
import { createHttpAgent, proxyOf } from '../../../src/transfer/http.js';
import { noProxyMatch, proxyEnv, proxyFor, proxyLine } from '../../../src/transfer/proxy.js';

const P = 'http://u:pw@proxy.example:3128';

describe('proxyEnv / proxyFor: the rules of undici EnvHttpProxyAgent', () => {
  it('http:// uses HTTP_PROXY only; https:// uses HTTPS_PROXY, else HTTP_PROXY', () => {
    const httpsOnly = proxyEnv({ HTTPS_PROXY: P });
    expect(proxyFor(httpsOnly, 'http://h:1/')).toBeUndefined();
    expect(proxyFor(httpsOnly, 'https://h/')?.from).toBe('HTTPS_PROXY');
    const httpOnly = proxyEnv({ HTTP_PROXY: P });
    expect(proxyFor(httpOnly, 'https://h/')?.from).toBe('HTTP_PROXY');
    expect(proxyFor(httpOnly, 'http://h/')?.masked).toBe('http://****@proxy.example:3128');
  });

  it('the lower-case variable wins, even when empty', () => {
    expect(proxyFor(proxyEnv({ http_proxy: 'http://a:1', HTTP_PROXY: 'http://b:1' }), 'http://h/')?.url).toBe(
      'http://a:1',
    );
    expect(proxyFor(proxyEnv({ http_proxy: '', HTTP_PROXY: 'http://b:1' }), 'http://h/')).toBeUndefined();
    expect(proxyEnv({ no_proxy: 'x', NO_PROXY: 'y' })).toMatchObject({
      noProxy: 'x',
      noProxyFrom: 'no_proxy',
    });
  });

  it.each([
    ['h.example', 'http://h.example/', true],
    ['example', 'http://h.example/', true],
    ['.example', 'http://h.example/', true],
    ['*.example', 'http://h.example/', true],
    ['ample', 'http://h.example/', false],
    ['*', 'http://anything:9/', true],
    ['127.0.0.1:8124', 'http://127.0.0.1:8124/', true],
    ['127.0.0.1:8124', 'http://127.0.0.1:8125/', false],
    ['h.example:443', 'https://h.example/', true],
    ['a, b ,h.example', 'http://h.example/', true],
    ['', 'http://127.0.0.1/', false],
    ['localhost', 'http://127.0.0.1/', false],
  ])('NO_PROXY=%s against %s: direct=%s', (noProxy, url, direct) => {
    const p = proxyEnv({ HTTP_PROXY: P, HTTPS_PROXY: P, NO_PROXY: noProxy });
    expect(noProxyMatch(p, url) !== undefined).toBe(direct);
    expect(proxyFor(p, url) === undefined).toBe(direct);
  });

  it('loopback is not exempt (as in curl and undici)', () => {
    expect(proxyFor(proxyEnv({ HTTP_PROXY: P }), 'http://127.0.0.1:8124/')).toBeDefined();
    expect(proxyFor(proxyEnv({ HTTP_PROXY: P }), 'http://localhost:8124/')).toBeDefined();
  });

  it('the --test line masks credentials and names the variables', () => {
    expect(
      proxyLine(proxyEnv({ HTTPS_PROXY: P, NO_PROXY: '.internal' }), 'https://api.example:443', {}),
    ).toBe('Proxy: http://****@proxy.example:3128 (from HTTPS_PROXY; NO_PROXY: .internal)');
    expect(proxyLine(proxyEnv({}), 'https://api.example:443', {})).toBe('Proxy: none, direct connection');
    expect(proxyLine(proxyEnv({ ALL_PROXY: P }), 'https://api.example:443', { ALL_PROXY: P })).toBe(
      'Proxy: none, direct connection (ua does not read ALL_PROXY; set HTTPS_PROXY / HTTP_PROXY)',
    );
  });
});

describe('createHttpAgent', () => {
  const agents: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.close();
  });
  it('is a plain agent without proxy variables, an EnvHttpProxyAgent with them', () => {
    const plain = createHttpAgent({ env: {} });
    const proxied = createHttpAgent({ env: { HTTP_PROXY: P, NO_PROXY: 'direct.example' } });
    agents.push(plain, proxied);
    expect(plain.constructor.name).toBe('Agent');
    expect(proxied.constructor.name).toBe('EnvHttpProxyAgent');
    expect(proxyOf(plain, 'http://h/')).toBeUndefined();
    expect(proxyOf(proxied, 'http://h/')).toMatchObject({
      from: 'HTTP_PROXY',
      masked: 'http://****@proxy.example:3128',
    });
    expect(proxyOf(proxied, 'http://direct.example/')).toBeUndefined();
  });
});

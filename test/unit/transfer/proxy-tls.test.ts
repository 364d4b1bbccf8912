/**
 * https through a proxy: a CONNECT tunnel, with TLS (and the CA bundle ua was given, as from
 * DX_CA_CERT) end to end with the server. The certificate is made with openssl for this run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/errors.js';
import { createHttpAgent, httpRequest } from '../../../src/transfer/http.js';
import { tempDir } from '../../helpers/files.js';
import { startForwardProxy, type ForwardProxy } from '../../helpers/forward-proxy.js';

let tmp: ReturnType<typeof tempDir>;
let ca: string;
let server: Server;
let url: string;
let proxy: ForwardProxy;
beforeAll(async () => {
  tmp = tempDir();
  const [key, cert] = [join(tmp.dir, 'k.pem'), join(tmp.dir, 'c.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(cert, 'utf8');
  server = createServer({ key: readFileSync(key), cert: ca }, (req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await startForwardProxy({ auth: 'pat:hunter2' });
});
afterAll(async () => {
  await proxy?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  tmp?.cleanup();
});

it('HTTPS_PROXY: tunnelled with CONNECT, the server certificate checked against the given CA', async () => {
  const agent = createHttpAgent({ ca, env: { HTTPS_PROXY: `http://pat:hunter2@127.0.0.1:${proxy.port}` } });
  try {
    const r = await httpRequest(agent, `${url}/x`, { method: 'GET', headers: {} });
    expect(r.body.toString()).toBe('hello /x');
    expect(proxy.tunnels).toEqual([{ method: 'CONNECT', target: new URL(url).host }]);
    expect(proxy.forwarded).toEqual([]);
    expect(proxy.auth).toEqual(['pat:hunter2']);
  } finally {
    await agent.close();
  }
});

it('without the CA the tunnelled TLS fails as a certificate error naming the proxy', async () => {
  const agent = createHttpAgent({ env: { HTTPS_PROXY: `http://pat:hunter2@127.0.0.1:${proxy.port}` } });
  try {
    const err = await httpRequest(agent, `${url}/x`, { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain(
      `through proxy http://****@127.0.0.1:${proxy.port} (HTTPS_PROXY)`,
    );
    expect((err as Error).message).toMatch(/certificate/i);
  } finally {
    await agent.close();
  }
});

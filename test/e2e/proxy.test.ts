/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY through a real forward proxy on 127.0.0.1 (README: "Behind a
 * proxy"): what ua sends goes through it, NO_PROXY skips it, a dead proxy is named in one line, and
 * `--test` shows the proxy with its credentials masked.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { md5, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { closedPort, startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, downloadPlain, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const e2e = usePlatformAndTempDir();
let proxy: ForwardProxy;
beforeAll(async () => {
  proxy = await startForwardProxy({ auth: 'pat:hunter2' });
});
afterAll(async () => {
  await proxy?.stop();
});

const withCreds = () => `http://pat:hunter2@127.0.0.1:${proxy.port}`;
const ua = (args: string[], env: Record<string, string>) =>
  runUa(['--project', e2e.tp.project, ...args], {
    env: { ...e2e.tp.env, UA_RETRY_MIN_DELAY_MS: '1', ...env },
  });

/** Every request the server answered, API calls and part PUTs, as its stats count them. */
function serverCounts() {
  const s = e2e.tp.platform.stats;
  return { api: [...s.apiCalls.values()].reduce((a, b) => a + b, 0), puts: s.partPuts.length };
}
function proxyCounts() {
  const count = (m: string) => proxy.forwarded.filter((r) => r.method === m).length;
  return { api: count('POST'), puts: count('PUT'), all: proxy.forwarded.length };
}
function reset() {
  proxy.forwarded.length = 0;
  proxy.tunnels.length = 0;
  proxy.auth.length = 0;
  e2e.tp.platform.stats.reset();
}

suite('HTTP_PROXY (ua-platform is http)', () => {
  for (const compressed of [false, true]) {
    it(`every API call and part PUT goes through the proxy, with its credentials (${compressed ? 'compressed' : 'not compressed'})`, async () => {
      reset();
      const path = join(e2e.tmp.dir, compressed ? 'reads.fastq' : 'blob.bin');
      const data = compressed ? writeTextFile(path, 11 * MiB + 7) : writeRandomFile(path, 11 * MiB + 7);
      const r = await ua(
        ['--chunk-size', '5M', '--wait-on-close', ...(compressed ? [] : ['--do-not-compress']), path],
        { HTTP_PROXY: withCreds() },
      );
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      // Counted before this test's own calls (describe, download) reach the server directly.
      const server = serverCounts();
      const seen = proxyCounts();
      await waitClosed(e2e.tp, id);
      expect(server.puts).toBe(3);
      // Everything the server saw came through the proxy: forwarded by absolute URI, not tunnelled.
      expect(seen.puts).toBe(server.puts);
      expect(seen.api).toBe(server.api);
      expect(seen.all).toBe(server.api + server.puts);
      expect(proxy.tunnels).toEqual([]);
      expect(proxy.forwarded.every((f) => f.target.startsWith(e2e.tp.url))).toBe(true);
      expect(new Set(proxy.auth)).toEqual(new Set(['pat:hunter2']));
      const stored = compressed ? await downloadPlain(e2e.tp, id) : await downloadFile(e2e.tp, id);
      expect(md5(stored)).toBe(md5(data));
      expect(r.stderr + r.stdout).not.toContain('hunter2');
    });
  }

  it('lower-case http_proxy wins over HTTP_PROXY (as in undici and curl)', async () => {
    reset();
    const path = join(e2e.tmp.dir, 'lower.bin');
    const data = writeRandomFile(path, 1000);
    const r = await ua(['--do-not-compress', '--wait-on-close', path], {
      http_proxy: withCreds(),
      HTTP_PROXY: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.forwarded.length).toBeGreaterThan(0);
    expect(md5(await downloadFile(e2e.tp, r.stdout.trim()))).toBe(md5(data));
  });
});

suite('NO_PROXY', () => {
  for (const noProxy of ['127.0.0.1', '*', 'localhost,127.0.0.1:PORT']) {
    it(`NO_PROXY=${noProxy}: nothing goes through the proxy`, async () => {
      reset();
      // A path of its own: the same path rewritten within the same second, at the same size, has
      // the same signature, and ua would take the previous case's object as this file's.
      const path = join(e2e.tmp.dir, `direct-${noProxy.replace(/[^a-z0-9]/gi, '_')}.bin`);
      const data = writeRandomFile(path, 6 * MiB);
      const r = await ua(['--do-not-compress', '--chunk-size', '5M', '--wait-on-close', path], {
        HTTP_PROXY: withCreds(),
        HTTPS_PROXY: withCreds(),
        NO_PROXY: noProxy.replace('PORT', String(e2e.tp.platform.port)),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.forwarded).toEqual([]);
      expect(proxy.tunnels).toEqual([]);
      expect(serverCounts().puts).toBe(2);
      expect(md5(await downloadFile(e2e.tp, r.stdout.trim()))).toBe(md5(data));
    });
  }

  it('a NO_PROXY entry for another port does not match: the proxy is used', async () => {
    reset();
    const path = join(e2e.tmp.dir, 'port.bin');
    writeRandomFile(path, 100);
    const r = await ua(['--do-not-compress', path], {
      HTTP_PROXY: withCreds(),
      NO_PROXY: `127.0.0.1:${e2e.tp.platform.port + 1}`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.forwarded.length).toBeGreaterThan(0);
  });
});

suite('a proxy that cannot be used', () => {
  it('refuses connections: one Diagnosis line names the proxy (masked), exit 3, nothing reaches the server', async () => {
    reset();
    const port = await closedPort();
    const path = join(e2e.tmp.dir, 'never.bin');
    writeRandomFile(path, 100);
    const r = await ua(['--do-not-compress', path], { HTTP_PROXY: `http://pat:hunter2@127.0.0.1:${port}` });
    expect(r.code).toBe(3);
    const diagnosis = r.stderr.split('\n').filter((l) => l.startsWith('Diagnosis:'));
    expect(diagnosis).toEqual([
      expect.stringContaining(
        `Cannot reach the API server at ${e2e.tp.url} through the proxy http://****@127.0.0.1:${port} (from HTTP_PROXY) (ECONNREFUSED`,
      ),
    ]);
    expect(r.stderr).toContain(`through proxy http://****@127.0.0.1:${port} (HTTP_PROXY): ECONNREFUSED`);
    expect(r.stderr + r.stdout).not.toContain('hunter2');
    expect(serverCounts()).toEqual({ api: 0, puts: 0 });
  });

  it('wrong credentials (407): the error names the proxy, exit non-zero', async () => {
    reset();
    const path = join(e2e.tmp.dir, 'auth.bin');
    writeRandomFile(path, 100);
    const r = await ua(['--do-not-compress', path], {
      HTTP_PROXY: `http://pat:wrong@127.0.0.1:${proxy.port}`,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`127.0.0.1:${proxy.port}`);
    expect(r.stderr).toContain('407');
    expect(r.stderr + r.stdout).not.toContain('pat:wrong');
    expect(serverCounts()).toEqual({ api: 0, puts: 0 });
  });
});

suite('ua --test', () => {
  it('shows the proxy in use, credentials masked, and NO_PROXY', async () => {
    reset();
    const r = await runUa(['--test', '--project', e2e.tp.project], {
      env: { ...e2e.tp.env, HTTP_PROXY: withCreds(), NO_PROXY: 'internal.example' },
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`  HTTP_PROXY: http://****@127.0.0.1:${proxy.port}\n`);
    expect(r.stdout).toContain(
      `\n  Proxy: http://****@127.0.0.1:${proxy.port} (from HTTP_PROXY; NO_PROXY: internal.example)\n`,
    );
    expect(r.stdout + r.stderr).not.toContain('hunter2');
    // --test's own calls went through it too.
    expect(proxy.forwarded.length).toBeGreaterThan(0);
  });

  it('without a proxy: direct', async () => {
    const r = await runUa(['--test', '--project', e2e.tp.project], { env: e2e.tp.env });
    expect(r.stdout).toContain('  No proxy set in environment.\n  Proxy: none, direct connection\n');
  });
});

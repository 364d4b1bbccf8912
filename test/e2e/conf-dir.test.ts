import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { configDir, resolveApiConfig } from '../../src/config/env.js';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const e2e = usePlatformAndTempDir();

/** A dx-style config directory holding the test server and token, 0700/0600 as `dx login` leaves it. */
function writeConfDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { env } = e2e.tp;
  writeFileSync(
    join(dir, 'environment.json'),
    JSON.stringify({
      DX_APISERVER_PROTOCOL: 'http',
      DX_APISERVER_HOST: env.DX_APISERVER_HOST,
      DX_APISERVER_PORT: Number(env.DX_APISERVER_PORT),
      DX_SECURITY_CONTEXT: env.DX_SECURITY_CONTEXT,
      DX_PROJECT_CONTEXT_ID: e2e.tp.project,
    }),
    { mode: 0o600 },
  );
}

it('DX_USER_CONF_DIR replaces ~/.dnanexus_config; ~ is the home directory', () => {
  expect(configDir({}, '/home/u')).toBe('/home/u/.dnanexus_config');
  expect(configDir({ DX_USER_CONF_DIR: '' }, '/home/u')).toBe('/home/u/.dnanexus_config');
  expect(configDir({ DX_USER_CONF_DIR: '/etc/dx' }, '/home/u')).toBe('/etc/dx');
  expect(configDir({ DX_USER_CONF_DIR: '~/alt' }, '/home/u')).toBe('/home/u/alt');
  const dir = join(e2e.tmp.dir, 'unit-conf');
  writeConfDir(dir);
  const c = resolveApiConfig({ env: { DX_USER_CONF_DIR: dir }, home: '/nonexistent' });
  expect(c).toMatchObject({ host: e2e.tp.env.DX_APISERVER_HOST, tokenSource: 'config-file' });
  expect(c.projectContext).toBe(e2e.tp.project);
  expect(c.looked).toContain(`${join(dir, 'environment.json')} (DX_SECURITY_CONTEXT)`);
  // The variable is only a directory: the DX_* variables still win over its files.
  const env = resolveApiConfig({ env: { DX_USER_CONF_DIR: dir, DX_APISERVER_HOST: 'h2' }, home: '/x' });
  expect(env.host).toBe('h2');
});

it('a real upload configured only by DX_USER_CONF_DIR: stored bytes equal, token never printed', async () => {
  const dir = join(e2e.tmp.dir, 'conf dir');
  writeConfDir(dir);
  const path = join(e2e.tmp.dir, 'conf.bin');
  const data = writeRandomFile(path, 123_457);
  // No DX_* variable and a HOME without a config: everything comes from the directory named.
  const r = await runUa(['--do-not-compress', path], { env: { DX_USER_CONF_DIR: dir } });
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  expect((await waitClosed(e2e.tp, id)).project).toBe(e2e.tp.project);
  expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(data));
  const envOut = await runUa(['--env'], { env: { DX_USER_CONF_DIR: dir } });
  expect(envOut.code, envOut.stderr).toBe(0);
  expect(envOut.stdout).toContain(`(from config-file)`);
  for (const out of [r.stdout, r.stderr, envOut.stdout, envOut.stderr])
    expect(out).not.toContain(e2e.tp.token);
  // Without the variable the same run has no token (HOME is empty), so it is the variable that counted.
  const without = await runUa(['--do-not-compress', path]);
  expect(without.code).toBe(1);
  expect(without.stderr).toContain('No Authentication token found');
});

/**
 * ua as a user gets it: `npm pack`, then `npm install -g --prefix <tmp> <tgz>`, then the installed
 * `ua` and `ua-platform` (their bin links, their own node_modules) run from a directory outside the
 * repository: --version, --help, the man page, completion, and a real upload through an installed
 * `ua-platform serve`, checked byte for byte. Offline: dependencies come from a loopback registry
 * backed by the npm cache (test/helpers/npm-registry.ts).
 *
 * better-sqlite3 builds its addon in its install script (node-gyp: about 2 minutes on this 2-core
 * machine), too slow for the suite. So the install runs with --ignore-scripts and the addon the
 * repository's own `npm ci` built (same better-sqlite3 version, checked, same Node) is put where that
 * script would write it. UA_TEST_INSTALL_SCRIPTS=1 runs the real install, build included.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { startLocalRegistry, type LocalRegistry } from '../helpers/npm-registry.js';
import { callApi } from '../helpers/platform.js';
import { isProxyVar } from '../helpers/run-ua.js';
import { request } from 'undici';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const RUN_SCRIPTS = process.env.UA_TEST_INSTALL_SCRIPTS === '1';

let tmp: ReturnType<typeof tempDir>;
let registry: LocalRegistry;
let prefix: string;
let env: Record<string, string>;

/** npm's environment from `npm test` (npm_config_*, npm_lifecycle_*) would steer the inner npm; nodedir stays (node-gyp's headers). */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('DX_') || isProxyVar(k)) continue;
    if (/^npm_/i.test(k) && k.toLowerCase() !== 'npm_config_nodedir') continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Async, never spawnSync: the registry answering npm lives in this process's event loop. */
function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const npm = (args: string[], cwd = tmp.dir) => run('npm', args, cwd);
/** An installed bin by name, from PATH, run in the temp dir (outside the repository). */
const installed = (bin: string, args: string[], extra: Record<string, string> = {}) =>
  run(bin, args, tmp.dir, extra);

beforeAll(async () => {
  tmp = tempDir('ua-install-');
  prefix = join(tmp.dir, 'prefix');
  registry = await startLocalRegistry(join(ROOT, 'package-lock.json'));
  env = cleanEnv({
    HOME: join(tmp.dir, 'home'),
    NO_COLOR: '1',
    UA_STATE_DIR: join(tmp.dir, 'state'),
    npm_config_cache: join(tmp.dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
    // The Node running this test runs the installed bins too (their `#!/usr/bin/env node`).
    PATH: [dirname(process.execPath), join(prefix, 'bin'), process.env.PATH ?? ''].join(delimiter),
  });
  mkdirSync(env.HOME);
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  tmp?.cleanup();
});

describe('npm pack', () => {
  it('ships bin/, the built dist/src and the man page: no sources, tests, bench or source maps', async () => {
    expect(existsSync(join(ROOT, 'dist/man/ua.1')), 'dist/ is not built: run npm run build').toBe(true);
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests running from it.
    const r = await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    for (const must of ['bin/ua.js', 'bin/ua-platform.js', 'dist/man/ua.1', 'dist/src/cli/ua.js'])
      expect(files).toContain(must);
    expect(files).toContain('dist/src/work/part-task.js'); // the worker threads' entry, loaded by path
    const stray = files.filter(
      (f) => !/^(bin|dist\/src|dist\/man)\//.test(f) && !['package.json', 'README.md'].includes(f),
    );
    expect(stray).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') || /demo/.test(f))).toEqual([]);
  });
});

describe('npm install -g of the packed tarball', () => {
  let server: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it(
    'gives a working ua and ua-platform: version, help, man page, completion, and an upload checked byte for byte',
    async () => {
      const pack = await npm(['pack', '--ignore-scripts', '--pack-destination', tmp.dir, ROOT]);
      expect(pack.status, pack.stderr).toBe(0);
      const tgz = join(tmp.dir, `${PKG.name}-${PKG.version}.tgz`);
      const args = ['install', '-g', '--prefix', prefix, '--registry', `${registry.url}/`];
      args.push('--no-audit', '--no-fund', ...(RUN_SCRIPTS ? [] : ['--ignore-scripts']), tgz);
      const inst = await npm(args);
      expect(inst.status, `${inst.stderr}\nmissing from the npm cache: ${registry.missing.join(', ')}`).toBe(
        0,
      );

      const home = join(prefix, 'lib', 'node_modules', PKG.name);
      const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
      if (!RUN_SCRIPTS) {
        const version = (dir: string) =>
          (
            JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')) as {
              version: string;
            }
          ).version;
        expect(version(home)).toBe(version(ROOT));
        mkdirSync(dirname(join(home, addon)), { recursive: true });
        copyFileSync(join(ROOT, addon), join(home, addon));
      }
      expect(existsSync(join(home, addon))).toBe(true);
      expect(readdirSync(home).sort()).toEqual(['README.md', 'bin', 'dist', 'node_modules', 'package.json']);

      const version = await installed('ua', ['--version']);
      expect(version.status, version.stderr).toBe(0);
      expect(version.stdout).toContain(`Upload Agent Version: ${PKG.version} `);
      const help = await installed('ua', ['--help']);
      expect(help.status).toBe(0);
      expect(help.stderr).toContain('\nSelecting files:\n');
      expect(help.stderr).toContain('\nExamples:\n');
      // npm links the `man` field into <prefix>/share/man/man1.
      const man = join(prefix, 'share', 'man', 'man1', 'ua.1');
      expect(readFileSync(man, 'utf8')).toContain('.SH OPTIONS');
      const comp = await installed('ua', ['completion', 'bash']);
      expect(comp.status).toBe(0);
      expect(comp.stdout).toContain('complete -o bashdefault -o default -F _ua_yargs_completions ua');
      const usage = await installed('ua-platform', ['--help']);
      expect(usage.status, usage.stderr).toBe(0);
      expect(usage.stdout).toContain('serve');

      // An upload: the installed ua-platform (better-sqlite3 from the installed tree) and ua.
      const data = join(tmp.dir, 'platform-data');
      mkdirSync(data);
      const admin = async (a: string[]) => {
        const r = await installed('ua-platform', [...a, '--data', data]);
        expect(r.status, r.stderr).toBe(0);
        return r.stdout.trim();
      };
      const user = await admin(['user', 'new', 'alice']);
      const project = await admin(['project', 'new', 'installed', '--owner', 'alice']);
      const token = await admin([
        'token',
        'new',
        '--user',
        'alice',
        '--project',
        project,
        '--level',
        'UPLOAD',
      ]);
      const srv = spawn('ua-platform', ['serve', '--data', data, '--port', '0', '--closing-delay-ms', '0'], {
        cwd: tmp.dir,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      server = srv;
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        srv.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        srv.once('exit', (code) => reject(new Error(`ua-platform serve exited ${code}: ${out}`)));
      });
      const { hostname, port } = new URL(url);
      const src = join(tmp.dir, 'reads.bin');
      const bytes = writeRandomFile(src, 6 * 1024 * 1024 + 12345);
      const up = await installed(
        'ua',
        [
          '--project',
          project,
          '--folder',
          '/in',
          '--chunk-size',
          '5M',
          '--do-not-compress',
          '--wait-on-close',
          src,
        ],
        {
          DX_APISERVER_PROTOCOL: 'http',
          DX_APISERVER_HOST: hostname,
          DX_APISERVER_PORT: port,
          DX_SECURITY_CONTEXT: JSON.stringify({ auth_token_type: 'Bearer', auth_token: token }),
        },
      );
      expect(up.status, up.stderr).toBe(0);
      const fileId = up.stdout.trim();
      expect(fileId).toMatch(/^file-/);
      const d = await callApi(url, `${fileId}/download`, {}, token);
      expect(d.status).toBe(200);
      const res = await request(d.body.url as string);
      const stored = Buffer.from(await res.body.arrayBuffer());
      expect(stored.equals(bytes)).toBe(true);
      expect(user).toBe('user-alice');
    },
    RUN_SCRIPTS ? 900_000 : 300_000,
  );
});

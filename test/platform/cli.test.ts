import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { callApi } from '../helpers/platform.js';

/** Runs the built `ua-platform` (npm run build first; `npm test` does). */
const BIN = fileURLToPath(new URL('../../bin/ua-platform.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/platform/cli.js', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like cli() but asserts success and returns the single stdout line. */
function ok(args: string[]): string {
  const r = cli(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines).toHaveLength(2); // one line, newline-terminated
  return lines[0];
}

describe('ua-platform CLI', () => {
  const tmp = tempDir('ua-platform-cli-');
  let server: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    expect(existsSync(BUILT), 'run `npm run build` first').toBe(true);
    server = spawn(process.execPath, [BIN, 'serve', '--data', tmp.dir, '--port', '0'], { stdio: 'pipe' });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server!.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      server!.on('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
    });
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    tmp.cleanup();
  });

  it('admin commands work while serve runs, and the token they print works against it', async () => {
    const d = ['--data', tmp.dir];
    expect(ok(['user', 'new', 'Frank', ...d])).toBe('user-frank');
    const project = ok(['project', 'new', 'from-cli', '--owner', 'frank', '--region', 'aws:eu-west-2', ...d]);
    expect(project).toMatch(/^project-[0-9A-Za-z]{24}$/);
    expect(ok(['user', 'new', 'gina', ...d])).toBe('user-gina');
    expect(ok(['invite', project, 'gina', 'upload', ...d])).toBe('user-gina');
    const token = ok([
      'token',
      'new',
      '--user',
      'gina',
      '--project',
      project,
      '--level',
      'VIEW',
      '--expires',
      '30d',
      ...d,
    ]);
    expect(token).toMatch(/^[A-Za-z0-9]{32}$/);

    const described = await callApi(url, `${project}/describe`, {}, token);
    expect(described.body).toMatchObject({ name: 'from-cli', region: 'aws:eu-west-2', level: 'VIEW' });

    expect(ok(['token', 'revoke', token, ...d])).toBe('revoked');
    expect((await callApi(url, 'system/whoami', {}, token)).body.error.message).toBe(
      'The token has been revoked',
    );
  });

  it('--expires in seconds or at an ISO-8601 time: the token works until then, and is refused after', async () => {
    const d = ['--data', tmp.dir];
    expect(ok(['user', 'new', 'ivan', ...d])).toBe('user-ivan');
    const at = new Date(Date.now() + 6000); // room for two CLI starts on a loaded machine
    const isoAt = at.toISOString().replace(/\.\d+Z$/, 'Z'); // whole seconds, as a person would type it
    const atMs = Date.parse(isoAt);
    const byTime = ok(['token', 'new', '--user', 'ivan', '--expires', isoAt, ...d]);
    const before = Date.now();
    const bySeconds = ok(['token', 'new', '--user', 'ivan', '--expires', '4s', ...d]);
    const after = Date.now();
    for (const t of [byTime, bySeconds]) {
      expect((await callApi(url, 'system/whoami', {}, t)).body).toMatchObject({ id: 'user-ivan' });
    }
    // Watch each token until the server refuses it; the refusal comes at its expiry, not before.
    const refusedAt = async (token: string): Promise<number> => {
      for (;;) {
        const sent = Date.now();
        const r = await callApi(url, 'system/whoami', {}, token);
        if (r.status === 401) {
          expect(r.body.error).toEqual({ type: 'InvalidAuthentication', message: 'The token has expired' });
          return sent;
        }
        expect(r.status).toBe(200);
        if (sent > after + 10_000) throw new Error('the token never expired');
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const [t1, t2] = await Promise.all([refusedAt(byTime), refusedAt(bySeconds)]);
    expect(t1).toBeGreaterThanOrEqual(atMs - 100);
    expect(t2).toBeGreaterThanOrEqual(before + 4000 - 100);
  });

  it('takes the data dir from UA_PLATFORM_DATA', () => {
    const r = cli(['user', 'new', 'hank'], { UA_PLATFORM_DATA: tmp.dir });
    expect([r.code, r.stdout]).toEqual([0, 'user-hank\n']);
  });

  it.each([
    [['user', 'new', 'Frank'], 'user already exists: Frank'],
    [['token', 'new', '--user', 'nobody'], 'no such user: nobody'],
    [['token', 'new', '--user', 'frank', '--expires', 'soon'], 'invalid --expires "soon"'],
    [['token', 'new', '--user', 'frank', '--expires', '1.5h'], 'invalid --expires'],
    [['token', 'new', '--user', 'frank', '--expires', '2030-02-30T00:00:00Z'], 'invalid --expires'],
    [['token', 'new', '--user', 'frank', '--expires', '2030-01-01T25:00:00Z'], 'invalid --expires'],
    [['token', 'new', '--user', 'frank', '--expires', '2030-01-01T00:00:00'], 'with a zone'],
    [['token', 'new', '--user', 'frank', '--expires', '2020-01-01T00:00:00Z'], 'is in the past'],
    [['invite', 'project-000000000000000000000000', 'frank', 'VIEW'], 'no such project'],
    [['token', 'revoke', 'nope'], 'no such token'],
    [['bogus'], 'Unknown argument'],
  ])('fails %j with one line on stderr and exit 1', (args, message) => {
    const r = cli([...args, '--data', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('requires a data dir', () => {
    const env = { ...process.env };
    delete env.UA_PLATFORM_DATA;
    const r = spawnSync(process.execPath, [BIN, 'user', 'new', 'x'], { encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--data DIR is required/);
  });

  it('serve stops cleanly on SIGTERM with exit code 0', async () => {
    const exit = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
    server!.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startS3rver } from '../helpers/cloud.js';
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

/** cli() without blocking this process: for commands that call a server running in it (s3rver). */
function cliAsync(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    // As an operator's shell has it: without the switch that hides the AWS SDK's Node-version notice
    // (ua-platform must keep it out of its output itself).
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...base } = process.env;
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (x: string) => (stdout += x));
    child.stderr.setEncoding('utf8').on('data', (x: string) => (stderr += x));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
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

  it("prints its usage when run without arguments, and a group's usage for a group alone", () => {
    const none = cli([]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    for (const c of ['serve', 'user', 'project', 'token', 'drive', 'file', 'simulate-run'])
      expect(none.stderr).toContain(`ua-platform ${c}`);
    expect(none.stderr).toContain('--data DIR');
    const drive = cli(['drive']);
    expect(drive.code).toBe(1);
    for (const c of ['drive new <name>', 'drive list', 'drive update <drive>'])
      expect(drive.stderr).toContain(`ua-platform ${c}`);
    expect(cli(['token']).stderr).toContain('ua-platform token list');
    expect(cli(['project']).stderr).toContain('ua-platform project list');
  });

  it('project list, file list (with open files and their parts) and token list, while serve runs', async () => {
    const d = ['--data', tmp.dir];
    expect(ok(['user', 'new', 'lena', ...d])).toBe('user-lena');
    const project = ok(['project', 'new', 'listed', '--owner', 'lena', ...d]);
    const token = ok([
      'token',
      'new',
      '--user',
      'lena',
      '--project',
      project,
      '--level',
      'UPLOAD',
      '--expires',
      '30d',
      ...d,
    ]);
    const spare = ok(['token', 'new', '--user', 'lena', ...d]);
    // Two files through the real server: one closed, one left open with its part 2 of 3 only.
    const put = async (file: string, index: number, bytes: Buffer) => {
      const md5 = createHash('md5').update(bytes).digest('hex');
      const u = await callApi(url, `${file}/upload`, { index, size: bytes.length, md5 }, token);
      const res = await request(u.body.url, { method: 'PUT', headers: u.body.headers, body: bytes });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    };
    const newFile = async (folder: string, name: string) =>
      (await callApi(url, 'file/new', { project, folder, name, parents: true }, token)).body.id as string;
    const closed = await newFile('/a', 'done.txt');
    await put(closed, 1, Buffer.from('hello'));
    expect((await callApi(url, `${closed}/close`, {}, token)).status).toBe(200);
    const open = await newFile('/a/b', 'half.bin');
    await put(open, 2, Buffer.alloc(1000, 7));

    const projects = cli(['project', 'list', '--user', 'lena', ...d]);
    expect(projects.code, projects.stderr).toBe(0);
    const [head, row] = projects.stdout.trimEnd().split('\n');
    expect(head.split(/\s{2,}/)).toEqual(['ID', 'NAME', 'REGION', 'CREATED BY', 'MEMBERS', 'FILES', 'DRIVE']);
    expect(row.split(/\s{2,}/)).toEqual([project, 'listed', 'aws:us-east-1', 'user-lena', '1', '2', '-']);
    expect(cli(['project', 'list', ...d]).stdout).toContain('from-cli'); // every project without --user

    const files = cli(['file', 'list', project, '--json', ...d]);
    expect(files.code, files.stderr).toBe(0);
    const rows = files.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.id, r.folder, r.name, r.parts])).toEqual([
      [closed, '/a', 'done.txt', 1],
      [open, '/a/b', 'half.bin', 1],
    ]);
    expect(rows[1]).toMatchObject({ state: 'open', size: null });
    expect(rows[0].state).toMatch(/^(closing|closed)$/);
    const below = cli(['file', 'list', project, '--folder', '/a/b', ...d])
      .stdout.trimEnd()
      .split('\n');
    expect(below.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([[open, 'open', '-', '1', '/a/b/half.bin']]);
    expect(cli(['file', 'list', 'project-000000000000000000000000', ...d]).stderr).toContain(
      'no such project',
    );

    ok(['token', 'revoke', spare, ...d]);
    const tokens = cli(['token', 'list', '--user', 'lena', ...d]);
    expect(tokens.code, tokens.stderr).toBe(0);
    expect(tokens.stdout).not.toContain(token);
    expect(tokens.stdout).not.toContain(spare);
    expect(tokens.stdout).not.toContain(token.slice(0, 5)); // the stored prefix is 6: only 4 are shown
    const t = tokens.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{2,}/));
    expect(t[0]).toEqual(['ID', 'USER', 'TOKEN', 'EXPIRES', 'STATE', 'SCOPE']);
    expect(t.slice(1).map((c) => [c[1], c[2], c[4], c[5]])).toEqual([
      ['user-lena', `${token.slice(0, 4)}…`, 'active', `${project}:UPLOAD`],
      ['user-lena', `${spare.slice(0, 4)}…`, 'revoked', 'all'],
    ]);
    expect(t[1][0]).toMatch(/^token-/);
    expect(Date.parse(t[1][3]) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(t[2][3]).toBe('never');
  });

  it('drive new, list and update against a real S3 service; credentials checked, never printed', async () => {
    const s3 = await startS3rver();
    try {
      const d = ['--data', tmp.dir];
      expect(ok(['user', 'new', 'mia', ...d])).toBe('user-mia');
      const creds = join(tmp.dir, 'creds.json');
      writeFileSync(creds, JSON.stringify({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }), {
        mode: 0o600,
      });
      const base = ['--owner', 'mia', '--cloud', 'aws', '--endpoint', s3.endpoint, '--region', 'us-east-1'];
      const made = await cliAsync([
        'drive',
        'new',
        'bucket-account',
        ...base,
        '--credentials-file',
        creds,
        ...d,
      ]);
      expect(made.stderr).toBe(''); // no AWS SDK notice either (issue 14, item 2)
      expect(made.code).toBe(0);
      const drive = made.stdout.trim();
      expect(drive).toMatch(/^drive-[0-9A-Za-z]{24}$/);
      // From the environment, as the AWS tools read it; a key the service does not know is refused.
      const bad = await cliAsync(['drive', 'new', 'wrong', ...base, ...d], {
        AWS_ACCESS_KEY_ID: 'NOSUCHKEY', // s3rver checks the key ID
        AWS_SECRET_ACCESS_KEY: 'not-the-secret',
      });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^ua-platform: the credentials of drive "wrong" cannot access the cloud/m);
      expect(bad.stderr).not.toContain('not-the-secret');
      expect(
        cli(['drive', 'new', 'x', '--owner', 'mia', '--cloud', 'gcp', '--no-check', ...d]).stderr,
      ).toContain('invalid --cloud "gcp": aws or azure');

      expect(ok(['drive', 'update', drive, '--name', 'renamed', '--disable', ...d])).toBe(drive);
      const listed = cli(['drive', 'list', ...d]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).not.toMatch(/S3RVER.*S3RVER|secret/i);
      const rows = listed.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s{2,}/));
      expect(rows).toEqual([
        ['ID', 'NAME', 'CLOUD', 'ENDPOINT', 'REGION', 'OWNER', 'STATE'],
        [drive, 'renamed', 'aws', s3.endpoint, 'us-east-1', 'user-mia', 'disabled'],
      ]);
      // Rotation: the new pair works (added to the service first); an unknown one is refused.
      s3.addAccessKey('ROTATED', 'ROTATED-SECRET');
      const env = { AWS_ACCESS_KEY_ID: 'ROTATED', AWS_SECRET_ACCESS_KEY: 'ROTATED-SECRET' };
      expect(
        await cliAsync(['drive', 'update', drive, '--credentials-from-env', '--enable', ...d], env),
      ).toMatchObject({
        code: 0,
        stdout: `${drive}\n`,
      });
      const rotatedOut = cli(['drive', 'list', '--json', ...d]).stdout;
      expect(JSON.parse(rotatedOut)).toMatchObject({ id: drive, disabled: false });
      expect(rotatedOut).not.toContain('ROTATED-SECRET');
      const refused = await cliAsync(['drive', 'update', drive, '--credentials-from-env', ...d], {
        AWS_ACCESS_KEY_ID: 'NOPE',
        AWS_SECRET_ACCESS_KEY: 'NOPE',
      });
      expect(refused.code).toBe(1);
      expect(cli(['drive', 'update', drive, ...d]).stderr).toContain('nothing to update');
    } finally {
      await s3.stop();
    }
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

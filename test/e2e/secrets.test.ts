import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { runUa, type UaRun } from '../helpers/run-ua.js';

/**
 * A token never shows up in anything ua writes: every command path (upload ok and refused, --env,
 * --test, -v, --json, bad flags, a revoked token) is run with known tokens given by flag, by
 * DX_SECURITY_CONTEXT and by config file, and all stdout and stderr is searched for them.
 */
let tp: TestPlatform;
let tmp: ReturnType<typeof tempDir>;
let file: string;
let file2: string; // uploaded with resume on: nothing else uploads it
let viewToken: string; // a VIEW member's token: uploads are refused
let revokedToken: string;
const runs: Array<{ label: string; run: UaRun; tokens: string[] }> = [];

async function collect(label: string, args: string[], tokens: string[], env: Record<string, string>) {
  runs.push({ label, run: await runUa(args, { env: { ...env, UA_RETRY_MIN_DELAY_MS: '1' } }), tokens });
}

/** A HOME whose ~/.dnanexus_config/environment.json holds the server and the token, with `mode`. */
function homeWithConfig(name: string, token: string, mode: number): string {
  const home = join(tmp.dir, name);
  mkdirSync(join(home, '.dnanexus_config'), { recursive: true });
  const path = join(home, '.dnanexus_config', 'environment.json');
  const { DX_SECURITY_CONTEXT: _ctx, ...server } = tp.env;
  writeFileSync(
    path,
    JSON.stringify({
      ...server,
      DX_SECURITY_CONTEXT: JSON.stringify({ auth_token_type: 'Bearer', auth_token: token }),
    }),
  );
  chmodSync(path, mode);
  return home;
}

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 20 });
  tmp = tempDir();
  file = join(tmp.dir, 'data.bin');
  writeRandomFile(file, 4096);
  file2 = join(tmp.dir, 'data2.bin');
  writeRandomFile(file2, 5000);
  const a = tp.platform.admin;
  const vic = a.createUser('vic');
  a.invite(tp.project, vic, 'VIEW');
  viewToken = a.createToken({ user: vic }).token;
  const r = a.createToken({ user: tp.user });
  a.revokeToken(r.tokenId);
  revokedToken = r.token;
  const { DX_SECURITY_CONTEXT: _ctx, ...server } = tp.env;
  const byEnv = (t: string) => ({ ...server, DX_SECURITY_CONTEXT: JSON.stringify({ auth_token: t }) });
  const p = ['--project', tp.project];
  const all = [tp.token, viewToken, revokedToken];
  const jobs: Array<() => Promise<void>> = [
    () => collect('upload ok, token by flag', [...p, '--auth-token', tp.token, file2], all, server),
    () =>
      collect(
        'upload ok, --json -v, token by env',
        [...p, '--json', '-v', '--do-not-resume', file],
        all,
        byEnv(tp.token),
      ),
    () =>
      collect(
        'upload ok, --progress, token by config file',
        [...p, '--progress', '--do-not-resume', file],
        all,
        { HOME: homeWithConfig('h600', tp.token, 0o600) },
      ),
    () => collect('upload refused (VIEW), -v', [...p, '-v', '--auth-token', viewToken, file], all, server),
    () => collect('upload refused (VIEW), --json', [...p, '--json', file], all, byEnv(viewToken)),
    () => collect('revoked token, by flag', [...p, '--auth-token', revokedToken, file], all, server),
    () => collect('revoked token, --test', ['--test', ...p, '--auth-token', revokedToken], all, server),
    () => collect('--env, token by flag', ['--env', '--auth-token', tp.token], all, server),
    () => collect('--env, token by env', ['--env'], all, byEnv(tp.token)),
    () => collect('--test -v', ['--test', '-v', ...p], all, byEnv(tp.token)),
    () => collect('bad flag', ['--auth-token', tp.token, '--bogus', file], all, server),
    () => collect('bad size', ['--auth-token', tp.token, '--chunk-size', '12Q', file], all, server),
    () =>
      collect('config file readable by others', ['--env'], all, {
        HOME: homeWithConfig('h644', viewToken, 0o644),
      }),
  ];
  let next = 0;
  await Promise.all(
    [0, 1, 2].map(async () => {
      while (next < jobs.length) await jobs[next++]();
    }),
  );
}, 60_000);

afterAll(async () => {
  await tp?.stop();
  tmp?.cleanup();
});

suite('no token in any output', () => {
  it('every run was made', () => expect(runs).toHaveLength(13));

  it.each([
    'upload ok, token by flag',
    'upload ok, --json -v, token by env',
    'upload ok, --progress, token by config file',
    'upload refused (VIEW), -v',
    'upload refused (VIEW), --json',
    'revoked token, by flag',
    'revoked token, --test',
    '--env, token by flag',
    '--env, token by env',
    '--test -v',
    'bad flag',
    'bad size',
    'config file readable by others',
  ])('%s', (label) => {
    const { run, tokens } = runs.find((r) => r.label === label)!;
    const out = run.stdout + run.stderr;
    expect(out.length).toBeGreaterThan(0);
    for (const t of tokens) {
      expect(out).not.toContain(t);
      // Nor a long piece of it (a prefix of at most 4 characters is allowed).
      expect(out).not.toContain(t.slice(0, 12));
    }
  });

  it('the runs did what they were meant to (so the search above looked at real output)', () => {
    const get = (l: string) => runs.find((r) => r.label === l)!.run;
    expect(get('upload ok, token by flag').stdout).toMatch(/^file-/);
    expect(get('upload ok, --json -v, token by env').stdout).toContain('"type":"file-done"');
    expect(get('upload ok, --progress, token by config file').code).toBe(0);
    expect(get('upload refused (VIEW), -v').stderr).toContain('has only VIEW access');
    expect(get('upload refused (VIEW), --json').code).toBe(1);
    expect(get('revoked token, by flag').stderr).toContain('The token has been revoked');
    expect(get('revoked token, --test').stdout).toContain('The token has been revoked');
    expect(get('--env, token by flag').stdout).toContain(`Auth token: ${tp.token.slice(0, 4)}…`);
    expect(get('--test -v').stdout).toContain('upload allowed');
    expect(get('bad flag').code).toBe(1);
    expect(get('bad size').stderr).toContain("Invalid size argument: '12Q'");
  });
});

suite('config files holding a token', () => {
  it('a config file others can read gets a warning; a 0600 one does not', () => {
    const loose = runs.find((r) => r.label === 'config file readable by others')!.run;
    expect(loose.stderr).toMatch(
      /environment\.json holds an auth token and can be read by other users; run: chmod 600/,
    );
    expect(loose.stdout).toContain(`Auth token: ${viewToken.slice(0, 4)}…`);
    const tight = runs.find((r) => r.label === 'upload ok, --progress, token by config file')!.run;
    expect(tight.stderr).not.toContain('can be read by other users');
  });
});

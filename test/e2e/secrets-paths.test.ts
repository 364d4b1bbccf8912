import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { startS3rver, type S3rverHandle } from '../helpers/cloud.js';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { runUa, type RunUaOptions, type UaRun } from '../helpers/run-ua.js';

/**
 * The command paths test/e2e/secrets.test.ts does not run — stdin, --manifest, --direct, -v through
 * retries and injected faults, a token revoked mid-run, an unreachable server, --help, --version —
 * each with known secrets, searched for everywhere they could land: ua's stdout and stderr, every
 * file ua wrote (its HOME, state dir and journal, working directory), ua-platform's data directory
 * (database, WAL, blobs) and its log lines. A token may show at most its first 4 characters
 * (`--env`); the platform stores its SHA-256 and a 6-character prefix, never the rest.
 */
let tp: TestPlatform;
let s3: S3rverHandle;
let tmp: ReturnType<typeof tempDir>;
let autoProject: string;
let closedPort = 0;
const BUCKET = 'secrets';
/** Lines ua-platform logged (it runs in this process, not quiet). */
let platformLog = '';
let restoreStderr: () => void;

interface Run {
  label: string;
  run: UaRun;
  /** Where ua could have written files. */
  dirs: string[];
}
const runs = new Map<string, Run>();
const secrets: string[] = []; // every token used, and the AWS secret key

/** A run with its own HOME, state dir and working directory, so whatever ua writes can be searched. */
async function collect(
  label: string,
  args: string[] | ((dir: string) => string[]),
  env: Record<string, string>,
  o: Omit<RunUaOptions, 'env' | 'cwd'> = {},
) {
  const dir = join(tmp.dir, label.replace(/[^a-z0-9]+/gi, '-'));
  const home = join(dir, 'home');
  const state = join(dir, 'state');
  const cwd = join(dir, 'cwd');
  for (const d of [home, state, cwd]) mkdirSync(d, { recursive: true });
  const run = await runUa(typeof args === 'function' ? args(dir) : args, {
    ...o,
    cwd,
    env: { HOME: home, UA_STATE_DIR: state, UA_RETRY_MIN_DELAY_MS: '1', ...env },
  });
  runs.set(label, { label, run, dirs: [dir] });
}

const ctx = (token: string) => JSON.stringify({ auth_token_type: 'Bearer', auth_token: token });

/** Every file under dir (recursively), as bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && statSync(p).size > 0) out.push({ path: p, bytes: readFileSync(p) });
  }
  return out;
}

/**
 * The needles for one secret: itself, its part past the 6-character prefix, and its 8-character
 * pieces at 4-character steps — so any 11 consecutive characters of it would be found.
 */
function needles(secret: string): string[] {
  const pieces = [secret, secret.slice(6)];
  for (let i = 0; i + 8 <= secret.length; i += 4) pieces.push(secret.slice(i, i + 8));
  return pieces;
}

function expectNoSecret(where: string, haystack: Buffer | string) {
  const buf = typeof haystack === 'string' ? Buffer.from(haystack) : haystack;
  for (const s of secrets)
    for (const needle of needles(s))
      expect(buf.includes(needle), `${where} contains a piece of a secret (${needle.slice(0, 2)}…)`).toBe(
        false,
      );
}

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    platformLog += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  restoreStderr = () => void (process.stderr.write = write);

  tp = await startTestPlatform({ closingDelayMs: 20, quiet: false });
  s3 = await startS3rver();
  await s3.createBucket(BUCKET);
  tmp = tempDir();
  const a = tp.platform.admin;
  const drive = (
    await tp.call('drive/new', {
      name: 'lab',
      cloud: 'aws',
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      endpoint: s3.endpoint,
    })
  ).body.id;
  autoProject = (await tp.call('project/new', { name: 'auto', defaultSymlink: { drive, container: BUCKET } }))
    .body.id;
  // The uploader's own AWS key pair for --direct: a secret of its own, searched for like the tokens.
  const awsKey = { id: 'UAUPLOADERKEY', secret: randomBytes(24).toString('base64url') };
  s3.addAccessKey(awsKey.id, awsKey.secret);
  const faultsToken = a.createToken({ user: tp.user }).token;
  const revocable = a.createToken({ user: tp.user });
  secrets.push(tp.token, faultsToken, revocable.token, awsKey.secret);

  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closedPort = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));

  const { DX_SECURITY_CONTEXT: _c, ...server } = tp.env;
  const byEnv = (t: string) => ({ ...server, DX_SECURITY_CONTEXT: ctx(t) });
  const p = ['--project', tp.project];
  const file = join(tmp.dir, 'data.bin');
  writeRandomFile(file, 6000);
  const manifest = join(tmp.dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ [tp.project]: [{ path: file, folder: '/m', name: 'm.bin' }] }));

  const parallel: Array<() => Promise<void>> = [
    () =>
      collect(
        'stdin -v, token by flag',
        [...p, '-v', '--auth-token', tp.token, '--read-from-stdin', 'piped.bin'],
        server,
        {
          stdin: randomBytes(100_000),
        },
      ),
    () =>
      collect(
        '--manifest -v, token by env',
        [...p, '--manifest', manifest, '-v', '--do-not-resume'],
        byEnv(tp.token),
      ),
    () =>
      collect('--direct -v, token by env', ['--direct', '-p', autoProject, '-v', '--do-not-compress', file], {
        ...byEnv(tp.token),
        AWS_ACCESS_KEY_ID: awsKey.id,
        AWS_SECRET_ACCESS_KEY: awsKey.secret,
      }),
    () =>
      collect('unreachable server -v', [...p, '-v', '--auth-token', tp.token, file], {
        ...byEnv(tp.token),
        DX_APISERVER_PORT: String(closedPort),
      }),
    () => collect('--help, token by flag and env', ['--help', '--auth-token', tp.token], byEnv(tp.token)),
    () =>
      collect('--version, token by flag and env', ['--version', '--auth-token', tp.token], byEnv(tp.token)),
  ];
  let next = 0;
  await Promise.all(
    [0, 1, 2].map(async () => {
      while (next < parallel.length) await parallel[next++]();
    }),
  );

  // Faults are server-wide: these two run alone.
  const f = tp.platform.faults;
  f.add({ target: 'api', route: 'file/new', action: 'status', status: 500 });
  f.add({ target: 'api', route: 'file-*/upload', action: 'status', status: 500, count: 2 });
  f.add({ target: 'put', action: 'status', status: 500 });
  f.add({ target: 'put', action: 'drop' });
  f.add({ target: 'api', route: 'file-*/close', action: 'drop-response' });
  await collect(
    '-v through retries and faults',
    [...p, '-v', '--do-not-compress', '--tries', '6', '--do-not-resume', file],
    byEnv(faultsToken),
  );
  expect(f.pending).toBe(0);

  // Revoked between the first part's upload URL and its PUT: later calls answer InvalidAuthentication.
  const take = f.take.bind(f);
  let revoked = false;
  f.take = (target, route) => {
    if (target === 'put' && !revoked) {
      revoked = true;
      a.revokeToken(revocable.tokenId);
    }
    return take(target, route);
  };
  try {
    await collect('token revoked mid-run -v', [...p, '-v', '--do-not-resume', file], byEnv(revocable.token));
  } finally {
    f.take = take;
  }
  expect(revoked).toBe(true);
}, 60_000);

afterAll(async () => {
  restoreStderr?.();
  await tp?.stop();
  await s3?.stop();
  tmp?.cleanup();
});

const LABELS = [
  'stdin -v, token by flag',
  '--manifest -v, token by env',
  '--direct -v, token by env',
  'unreachable server -v',
  '--help, token by flag and env',
  '--version, token by flag and env',
  '-v through retries and faults',
  'token revoked mid-run -v',
];

suite('no secret anywhere, on every command path', () => {
  it('every run was made', () => expect([...runs.keys()].sort()).toEqual([...LABELS].sort()));

  it.each(LABELS)('%s: not in stdout, stderr or any file ua wrote', (label) => {
    const { run, dirs } = runs.get(label)!;
    expect(run.stdout.length + run.stderr.length).toBeGreaterThan(0);
    expectNoSecret(`${label}: stdout`, run.stdout);
    expectNoSecret(`${label}: stderr`, run.stderr);
    for (const d of dirs) for (const f of filesUnder(d)) expectNoSecret(`${label}: ${f.path}`, f.bytes);
  });

  it('not in ua-platform’s data directory (database, WAL, blobs) nor its log', () => {
    const files = filesUnder(tp.platform.dataDir);
    expect(files.some((f) => f.path.endsWith('platform.db'))).toBe(true);
    for (const f of files) expectNoSecret(`platform data: ${f.path}`, f.bytes);
    expectNoSecret('platform log', platformLog);
  });

  it('the runs did what they were meant to (so the search above looked at real output)', () => {
    const get = (l: string) => runs.get(l)!.run;
    const ok = (l: string) => {
      const r = get(l);
      expect(r.code, `${l}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toMatch(/^file-\w{24}$/);
    };
    ok('stdin -v, token by flag');
    ok('--manifest -v, token by env');
    ok('--direct -v, token by env');
    ok('-v through retries and faults');
    expect(get('-v through retries and faults').stderr).toMatch(/Retrying/);
    const un = get('unreachable server -v');
    expect(un.code).toBe(3);
    expect(un.stderr).toContain('Cannot reach the API server');
    const all = (l: string) => get(l).stdout + get(l).stderr;
    expect(all('--help, token by flag and env')).toContain('--auth-token');
    expect(all('--version, token by flag and env')).toMatch(/\d+\.\d+\.\d+/);
    const rv = get('token revoked mid-run -v');
    expect(rv.code).toBe(1);
    expect(rv.stdout.trim()).toBe('failed');
    expect(rv.stderr).toContain('The token has been revoked');
    // --direct kept a journal in its state dir: it was searched too.
    const direct = runs.get('--direct -v, token by env')!;
    expect(filesUnder(join(direct.dirs[0], 'state')).length).toBeGreaterThan(0);
  });
});

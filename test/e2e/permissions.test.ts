import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import type { GrantLevel } from '../../src/common/levels.js';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';
import { runUa, type UaRun } from '../helpers/run-ua.js';

/**
 * Who may upload where, end to end: the built `ua` against a real ua-platform. A covering set of the
 * matrix token {valid, expired, revoked, unknown, missing} × project {by ID, by name, nonexistent,
 * other user's, ambiguous name} × level {VIEW … ADMINISTER} × scope {all, this project, another
 * project, this project at VIEW}: every value of every dimension and every diagnosis kind appears.
 * Each refusal must print the classic line, the diagnosis (by key phrase) and the right exit code,
 * and leave no file object behind; each success must store the exact bytes.
 */
const CLASSIC = 'does not represent a valid project name or ID (with >=UPLOAD access)';
const NOWHERE = 'project-000000000000000000000000';

let tp: TestPlatform;
let tmp: ReturnType<typeof tempDir>;
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const ownerTokens: string[] = [];

type Token =
  'ulla' | 'vic' | 'cora' | 'ada' | 'expired' | 'revoked' | 'unknown' | 'missing' | `scoped:${string}`;
interface Case {
  label: string;
  token: Token;
  project: string; // a key of ids, or a literal spec
  expect: { code: number; kind: string; phrases: string[] };
  extraArgs?: string[];
  env?: Record<string, string>;
  test?: boolean;
}

const refused = (kind: string, ...phrases: string[]) => ({ code: 1, kind, phrases: [CLASSIC, ...phrases] });
const allowed = { code: 0, kind: 'ok', phrases: [] };
const badToken = (why: string) => ({
  code: 3,
  kind: 'bad-token',
  phrases: ['Invalid authentication token', why, 'Make a new token'],
});

const CASES: Case[] = [
  // level × project form, full-access tokens (scope "all")
  { label: 'UPLOAD by ID', token: 'ulla', project: 'P', expect: allowed },
  { label: 'ADMINISTER by name', token: 'ada', project: 'shared-reads', expect: allowed },
  {
    label: 'VIEW by name',
    token: 'vic',
    project: 'shared-reads',
    expect: refused('view-only', 'has only VIEW access', 'dx invite user-vic'),
  },
  {
    label: 'VIEW on both same-named projects',
    token: 'vic',
    project: 'dup',
    expect: refused('view-only', 'has only VIEW access'),
  },
  {
    label: 'nonexistent ID',
    token: 'ulla',
    project: NOWHERE,
    expect: refused('not-found', 'does not exist', 'Check the ID'),
  },
  {
    label: 'nonexistent name',
    token: 'cora',
    project: 'no-such-project',
    expect: refused('not-found', 'No project named "no-such-project"'),
  },
  {
    label: "other user's project by ID",
    token: 'ulla',
    project: 'M',
    expect: refused('no-access', 'has no access to it', 'invite you'),
  },
  {
    label: "other user's project by name",
    token: 'ada',
    project: 'mal-private',
    expect: refused('not-found', 'No project named "mal-private"'),
  },
  {
    label: 'ambiguous name',
    token: 'ulla',
    project: 'dup',
    expect: {
      code: 1,
      kind: 'ambiguous',
      phrases: ['does not uniquely identify a project', 'matches 2 projects', 'Give the project ID'],
    },
  },
  // scopes
  {
    label: 'scope "*" at ADMINISTER (all)',
    token: 'scoped:cora:*:ADMINISTER',
    project: 'P',
    expect: allowed,
  },
  {
    label: 'scope this project at UPLOAD, ADMINISTER by ID',
    token: 'scoped:ada:P:UPLOAD',
    project: 'P',
    expect: allowed,
  },
  {
    label: 'scope this project at VIEW, CONTRIBUTE member',
    token: 'scoped:cora:P:VIEW',
    project: 'P',
    expect: refused(
      'token-scope',
      'has CONTRIBUTE access',
      'this token is limited to VIEW on',
      '--level UPLOAD',
    ),
  },
  {
    label: 'scope another project, by ID',
    token: 'scoped:ulla:Q:UPLOAD',
    project: 'P',
    expect: refused('token-scope', 'cannot reach project'),
  },
  {
    label: 'scope another project, by name',
    token: 'scoped:ada:Q:UPLOAD',
    project: 'shared-reads',
    expect: refused('token-scope', 'cannot reach a project named'),
  },
  {
    label: 'scope UPLOAD does not raise a VIEW member',
    token: 'scoped:vic:P:UPLOAD',
    project: 'P',
    expect: refused('view-only', 'has only VIEW access'),
  },
  // bad tokens, whatever the project
  {
    label: 'expired token, by ID',
    token: 'expired',
    project: 'P',
    expect: badToken('The token has expired'),
  },
  {
    label: 'revoked token, by name',
    token: 'revoked',
    project: 'shared-reads',
    expect: badToken('The token has been revoked'),
  },
  {
    label: 'unknown token, ambiguous name',
    token: 'unknown',
    project: 'dup',
    expect: badToken('The token could not be found'),
  },
  {
    label: 'missing token',
    token: 'missing',
    project: 'P',
    expect: {
      code: 1,
      kind: 'no-token',
      phrases: [
        'No Authentication token found',
        'No API token was found',
        'DX_SECURITY_CONTEXT environment variable',
      ],
    },
  },
  // ua --test: exit 0 exactly when the upload would be allowed
  {
    label: '--test, UPLOAD',
    token: 'ulla',
    project: 'P',
    test: true,
    expect: { code: 0, kind: 'ok', phrases: ['upload allowed', 'Current User: user-ulla'] },
  },
  {
    label: '--test, VIEW',
    token: 'vic',
    project: 'P',
    test: true,
    expect: { code: 1, kind: 'view-only', phrases: ['upload refused (view-only)'] },
  },
  {
    label: '--test, scoped at VIEW',
    token: 'scoped:ada:P:VIEW',
    project: 'P',
    test: true,
    expect: { code: 1, kind: 'token-scope', phrases: ['upload refused (token-scope)', 'Token: scoped'] },
  },
];

function tokenFor(t: Token): string | undefined {
  if (t === 'missing') return undefined;
  if (t === 'unknown') return 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  if (t.startsWith('scoped:')) {
    const [, user, key, level] = t.split(':');
    const project = key === '*' ? '*' : ids[key];
    return (tokens[t] ??= tp.platform.admin.createToken({
      user,
      scope: { projects: { [project]: level as GrantLevel } },
    }).token);
  }
  return tokens[t];
}

const runs = new Map<Case, { run: UaRun; file: string; data: Buffer }>();
/** Runs that are not matrix cells (several projects at once, no server), started in the same pool. */
const extra = new Map<string, UaRun>();
let closedPort = 0;
const multiFiles = [0, 1, 2].map((i) => `multi-${i}.bin`);
const PROXY = 'http://pat:hunter2@proxy.example:3128';
const EXTRA: Array<[string, () => Promise<UaRun>]> = [
  [
    'multi',
    () => {
      const files = multiFiles.map((f) => join(tmp.dir, f));
      files.forEach((f, i) => writeRandomFile(f, 100 + i));
      const env = { ...tp.env, DX_SECURITY_CONTEXT: JSON.stringify({ auth_token: tokens.vic }) };
      return runUa(['-p', ids.P, '-p', ids.P, '-p', NOWHERE, ...files], { env });
    },
  ],
  [
    'refused',
    () =>
      runUa(['-p', tp.project, join(tmp.dir, 'x')], {
        env: { ...tp.env, UA_RETRY_MIN_DELAY_MS: '1', DX_APISERVER_PORT: String(closedPort) },
      }),
  ],
  [
    'proxy',
    () =>
      runUa(['-p', tp.project, join(tmp.dir, 'x')], {
        env: {
          ...tp.env,
          UA_RETRY_MIN_DELAY_MS: '1',
          DX_APISERVER_PORT: String(closedPort),
          HTTPS_PROXY: PROXY,
        },
      }),
  ],
  [
    'proxy-test',
    () =>
      runUa(['--test'], { env: { ...tp.env, DX_APISERVER_PORT: String(closedPort), HTTPS_PROXY: PROXY } }),
  ],
  [
    'tls',
    () =>
      runUa(['-p', tp.project, join(tmp.dir, 'x')], {
        env: { ...tp.env, UA_RETRY_MIN_DELAY_MS: '1', DX_APISERVER_PROTOCOL: 'https' },
      }),
  ],
];

async function runCase(c: Case, i: number) {
  const file = join(tmp.dir, `case-${i}.bin`);
  const data = writeRandomFile(file, 1000 + i);
  const token = tokenFor(c.token);
  const env: Record<string, string> = { ...tp.env, UA_RETRY_MIN_DELAY_MS: '1', ...(c.env ?? {}) };
  delete env.DX_SECURITY_CONTEXT;
  if (token) env.DX_SECURITY_CONTEXT = JSON.stringify({ auth_token_type: 'Bearer', auth_token: token });
  const spec = ids[c.project] ?? c.project;
  const args = c.test
    ? ['--test', '--project', spec]
    : ['--project', spec, '--do-not-compress', ...(c.extraArgs ?? []), file];
  runs.set(c, { run: await runUa(args, { env }), file, data });
}

/** Runs fn over items, at most `limit` at a time (the machine has 2 cores). */
async function limited<T>(items: T[], limit: number, fn: (t: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** File objects with this name anywhere (each project counted by its owner). */
async function objectsNamed(name: string): Promise<string[]> {
  const found: string[] = [];
  for (const t of ownerTokens) {
    const r = await callApi(
      tp.url,
      'system/findDataObjects',
      { class: 'file', name, visibility: 'either' },
      t,
    );
    expect(r.status).toBe(200);
    found.push(...r.body.results.map((x: { id: string }) => x.id));
  }
  return found;
}

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 20 });
  tmp = tempDir();
  const a = tp.platform.admin;
  for (const h of ['ulla', 'vic', 'cora', 'ada', 'mal']) a.createUser(h);
  ids.P = a.createProject({ name: 'shared-reads', owner: tp.user });
  ids.Q = a.createProject({ name: 'elsewhere', owner: tp.user });
  ids.D1 = a.createProject({ name: 'dup', owner: tp.user });
  ids.D2 = a.createProject({ name: 'dup', owner: tp.user });
  ids.M = a.createProject({ name: 'mal-private', owner: 'mal' });
  const grants: Array<[string, string, GrantLevel]> = [
    ['P', 'vic', 'VIEW'],
    ['P', 'ulla', 'UPLOAD'],
    ['P', 'cora', 'CONTRIBUTE'],
    ['P', 'ada', 'ADMINISTER'],
    ['Q', 'ulla', 'UPLOAD'],
    ['Q', 'ada', 'ADMINISTER'],
    ['D1', 'ulla', 'UPLOAD'],
    ['D2', 'ulla', 'UPLOAD'],
    ['D1', 'vic', 'VIEW'],
    ['D2', 'vic', 'VIEW'],
  ];
  for (const [p, u, l] of grants) a.invite(ids[p], u, l);
  for (const h of ['ulla', 'vic', 'cora', 'ada']) tokens[h] = a.createToken({ user: h }).token;
  tokens.expired = a.createToken({ user: 'ulla', expiresAt: Date.now() - 1000 }).token;
  const revoked = a.createToken({ user: 'ulla' });
  a.revokeToken(revoked.tokenId);
  tokens.revoked = revoked.token;
  ownerTokens.push(tp.token, a.createToken({ user: 'mal' }).token);
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closedPort = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  const jobs: Array<() => Promise<void>> = [
    ...EXTRA.map(
      ([key, fn]) =>
        async () =>
          void extra.set(key, await fn()),
    ),
    ...CASES.map((c, i) => () => runCase(c, i)),
  ];
  await limited(jobs, 4, (job) => job());
}, 60_000);

afterAll(async () => {
  await tp?.stop();
  tmp?.cleanup();
});

suite('upload permission matrix', () => {
  it.each(CASES)('$label', async (c) => {
    const { run, file, data } = runs.get(c)!;
    const out = run.stdout + run.stderr;
    for (const p of c.expect.phrases) expect(out, out).toContain(p);
    expect(run.code, out).toBe(c.expect.code);
    const name = file.split('/').pop()!;
    if (c.test) return;
    const objects = await objectsNamed(name);
    if (c.expect.kind === 'ok') {
      expect(run.stdout.trim()).toMatch(/^file-/);
      expect(objects).toEqual([run.stdout.trim()]);
      expect((await downloadFile(tp, objects[0])).equals(data)).toBe(true);
    } else {
      expect(run.stdout.trim()).toBe('');
      expect(out).toContain('Diagnosis: ');
      expect(objects, 'no file object may be created for a refused upload').toEqual([]);
    }
  });

  it('the ambiguous diagnosis lists both projects by ID', () => {
    const { run } = runs.get(CASES.find((c) => c.label === 'ambiguous name')!)!;
    expect(run.stderr).toContain(ids.D1);
    expect(run.stderr).toContain(ids.D2);
  });
});

suite('once per distinct project, before any file object', () => {
  it('three files to two refused projects: two diagnoses, no objects', async () => {
    const r = extra.get('multi')!;
    expect(r.code).toBe(1);
    expect(r.stderr.match(/Diagnosis: /g)).toHaveLength(2);
    expect(r.stderr.match(/does not represent a valid project/g)).toHaveLength(2);
    expect(r.stderr).toContain('has only VIEW access');
    expect(r.stderr).toContain('does not exist');
    for (const f of multiFiles) expect(await objectsNamed(f)).toEqual([]);
  });
});

suite('the API server cannot be reached', () => {
  it('nothing listening: unreachable, exit 3', () => {
    const r = extra.get('refused')!;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Unable to connect to API server');
    expect(r.stderr).toContain(`Cannot reach the API server at http://127.0.0.1:${closedPort} (ECONNREFUSED`);
  });

  it('a proxy variable that does not apply (HTTPS_PROXY, http server) is named, its credentials masked', () => {
    const r = extra.get('proxy')!;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      'ua connected directly, not through a proxy: HTTPS_PROXY=http://****@proxy.example:3128 is for https:// URLs; set HTTP_PROXY for an http:// server.',
    );
    expect(r.stderr + r.stdout).not.toContain('hunter2');
    const t = extra.get('proxy-test')!;
    expect(t.code).toBe(1);
    expect(t.stdout).toContain('HTTPS_PROXY: http://****@proxy.example:3128');
    expect(t.stdout).toContain(
      '  Proxy: none, direct connection (HTTPS_PROXY=http://****@proxy.example:3128 is for',
    );
    expect(t.stdout).toContain('Diagnosis: Cannot reach the API server');
    expect(t.stdout + t.stderr).not.toContain('hunter2');
  });

  it('https against a plain-http server: a TLS diagnosis', () => {
    const r = extra.get('tls')!;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('The TLS connection to the API server at https://127.0.0.1:');
  });
});

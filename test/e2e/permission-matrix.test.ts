/**
 * The whole upload permission matrix, in process: project form × the caller's level × the token's
 * scope (5 × 5 × 12 = 300 cells), against one ua-platform with every user and project made up
 * front. Each cell runs the agent's own code with a token of its own: the pre-upload step of
 * `upload()` (resolveAllExplained: the classic line plus the diagnosis), and for every allowed cell
 * `upload()` itself (src/index.ts, the CLI minus its shell), whose stored bytes are read back.
 * Refused cells check the diagnosis kind and that no file object exists; the first refused cell of
 * each kind also goes through `upload()` (a worker pool per call makes all 300 too slow).
 * test/e2e/permissions.test.ts keeps a covering sample through the built binary (exit codes,
 * stdout, --test, bad tokens).
 *
 * The expected outcome of a cell is not written by hand: `expected()` computes it from the rule
 * (README "Why was my upload refused?", platform-api.md §3, §4.1, §9.4):
 *   effective level in a project = min(membership, the token's cap there), where the cap is the
 *   project's own scope entry, else `*`, else NONE (a full token caps at ADMINISTER);
 *   an upload is allowed iff the spec resolves to exactly one project with effective ≥ UPLOAD.
 * Otherwise the diagnosis kind follows from what the token lets the client see.
 */
import { RunError } from '../../src/errors.js';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { atLeast, minLevel, type GrantLevel, type Level } from '../../src/common/levels.js';
import { defaultOptions } from '../../src/config/options.js';
import { diagnoseProject, type DiagnoseConfig } from '../../src/diagnose/permission.js';
import { resolveAllExplained, refusalText } from '../../src/diagnose/refusal.js';
import { upload } from '../../src/index.js';
import { createHttpAgent } from '../../src/transfer/http.js';
import { PlatformClient } from '../../src/transfer/platform/api.js';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { callApi, startTestPlatform, type TestPlatform } from '../helpers/platform.js';

// This file makes and ends a worker pool per upload (dozens): keep WebAssembly out of those workers
// (every upload here is uncompressed). Node 24 aborted once in their teardown with libdeflate loaded.
process.env.UA_COMPRESSOR = 'zlib';

type Scope = Record<string, GrantLevel> | null; // keys: 'T' (this project), 'Q' (another), '*'
const GRANTS: GrantLevel[] = ['VIEW', 'UPLOAD', 'CONTRIBUTE', 'ADMINISTER'];
const MEMBER_LEVELS: Level[] = ['NONE', ...GRANTS];

/** Token scopes, by label; 'T' is replaced by the project the cell is about. */
const SCOPES: Array<[string, Scope]> = [
  ['full', null],
  ...GRANTS.map((l): [string, Scope] => [`* ${l}`, { '*': l }]),
  ...GRANTS.map((l): [string, Scope] => [`this ${l}`, { T: l }]),
  ['another project ADMINISTER', { Q: 'ADMINISTER' }],
  // A project's own entry wins over `*`, both ways.
  ['this VIEW + * ADMINISTER', { T: 'VIEW', '*': 'ADMINISTER' }],
  ['this UPLOAD + * VIEW', { T: 'UPLOAD', '*': 'VIEW' }],
];

/**
 * Project forms. The world: P is the only project named
 * "mx-target"; D1 and D2 are both named "mx-dup"; Q ("mx-other") is where "another project" scopes
 * point. Each level user is a member of P, D1 and D2 at its level (NONE: not at all), and of Q at UPLOAD.
 */
const FORMS = ['by ID', 'by name', 'ambiguous name', 'nonexistent ID', 'nonexistent name'] as const;
type Form = (typeof FORMS)[number];
const MISSING_ID = 'project-000000000000000000000000';

interface World {
  /** project key (P, D1, D2, Q) → ID */
  ids: Record<string, string>;
}

function specOf(form: Form, w: World): string {
  switch (form) {
    case 'by ID':
      return w.ids.P;
    case 'by name':
      return 'mx-target';
    case 'ambiguous name':
      return 'mx-dup';
    case 'nonexistent ID':
      return MISSING_ID;
    case 'nonexistent name':
      return 'mx-nowhere';
  }
}

const targetKey = (form: Form) => (form === 'ambiguous name' ? 'D1' : 'P');

/** The real scope of a cell's token: 'T' and 'Q' become project IDs. */
function concreteScope(scope: Scope, form: Form, w: World): { projects: Record<string, GrantLevel> } | null {
  if (scope === null) return null;
  const projects: Record<string, GrantLevel> = {};
  for (const [k, l] of Object.entries(scope))
    projects[k === '*' ? '*' : k === 'T' ? w.ids[targetKey(form)] : w.ids[k]] = l;
  return { projects };
}

type Kind = 'ok' | 'not-found' | 'no-access' | 'view-only' | 'token-scope' | 'ambiguous';
interface Outcome {
  kind: Kind;
  /** ok: the project key the file must land in; ambiguous: the candidates. */
  projects?: string[];
}

/**
 * The rule. `member` is the user's membership in P, D1 and D2 (in Q: UPLOAD); in `scope`, T is the
 * cell's target project (P, or D1 for the ambiguous name) and Q the other project.
 */
function expected(form: Form, member: Level, scope: Scope): Outcome {
  const membership = (p: string): Level => (p === 'Q' ? 'UPLOAD' : member);
  const cap = (p: string): Level => {
    if (scope === null) return 'ADMINISTER';
    const own = p === targetKey(form) ? scope.T : p === 'Q' ? scope.Q : undefined;
    return own ?? scope['*'] ?? 'NONE';
  };
  const eff = (p: string) => minLevel(membership(p), cap(p));
  // The client can only see a project through the token: below UPLOAD, blame the token exactly
  // when the membership alone would have been enough.
  const belowUpload = (p: string): Kind => (atLeast(membership(p), 'UPLOAD') ? 'token-scope' : 'view-only');
  const restricted = scope !== null && scope['*'] === undefined;
  if (form === 'nonexistent ID') return { kind: 'not-found' };
  if (form === 'by ID') {
    const e = eff('P');
    if (atLeast(e, 'UPLOAD')) return { kind: 'ok', projects: ['P'] };
    if (e === 'VIEW') return { kind: belowUpload('P') };
    // Not visible at all: a token that cannot reach P hides whether the user is a member.
    return { kind: cap('P') === 'NONE' ? 'token-scope' : 'no-access' };
  }
  const named = form === 'by name' ? ['P'] : form === 'ambiguous name' ? ['D1', 'D2'] : [];
  const uploadable = named.filter((p) => atLeast(eff(p), 'UPLOAD'));
  if (uploadable.length > 1) return { kind: 'ambiguous', projects: uploadable };
  if (uploadable.length === 1) return { kind: 'ok', projects: uploadable };
  const visible = named.filter((p) => atLeast(eff(p), 'VIEW'));
  // Nothing by that name is visible: with a token scoped to listed projects only, the client
  // cannot tell a project outside the scope from one that does not exist.
  if (visible.length === 0) return { kind: restricted ? 'token-scope' : 'not-found' };
  return { kind: belowUpload(visible.find((p) => atLeast(membership(p), 'UPLOAD')) ?? visible[0]) };
}

interface Cell {
  label: string;
  form: Form;
  member: Level;
  scopeLabel: string;
  scope: Scope;
  expect: Outcome;
}

const CELLS: Cell[] = FORMS.flatMap((form) =>
  MEMBER_LEVELS.flatMap((member) =>
    SCOPES.map(([scopeLabel, scope]) => ({
      label: `${form} · member ${member} · token ${scopeLabel}`,
      form,
      member,
      scopeLabel,
      scope,
      expect: expected(form, member, scope),
    })),
  ),
);

const CLASSIC = 'does not represent a valid project name or ID (with >=UPLOAD access)';
let tp: TestPlatform;
let tmp: ReturnType<typeof tempDir>;
const world: World = { ids: {} };
const userOf = (member: Level) => `mx-${member.toLowerCase()}`;
let ownerToken: string;

interface CellRun {
  spec: string;
  /** The diagnosis of this spec through this token (diagnoseProject). */
  diagnosis: { kind: string; message: string; candidates?: Array<{ id: string }> };
  /** resolveAllExplained: the project the spec resolved to, or the refusal text ua prints. */
  resolved?: string;
  refusal?: string;
  /** upload(), when the cell ran through it: the new file, or what it threw. */
  fileId?: string;
  error?: unknown;
  data: Buffer;
  name: string;
}
const runs = new Map<string, CellRun>();
/** Refused cells that also ran through upload(). */
const UPLOAD_SAMPLE = new Set<string>();

const server = () => ({ protocol: 'http', host: tp.platform.host, port: tp.platform.port });
const diagConfig = (): DiagnoseConfig => ({ ...server(), tokenSource: 'flag', looked: ['--auth-token'] });

async function runCell(c: Cell, i: number, throughUpload: boolean): Promise<void> {
  const spec = specOf(c.form, world);
  const token = tp.platform.admin.createToken({
    user: userOf(c.member),
    scope: concreteScope(c.scope, c.form, world) ?? undefined,
  }).token;
  const name = `cell-${i}.bin`;
  const path = join(tmp.dir, name);
  const data = writeRandomFile(path, 64 + (i % 50));
  const agent = createHttpAgent({ connections: 2 });
  const run: CellRun = { spec, data, name } as CellRun;
  try {
    const api = new PlatformClient({ server: server(), token, agent });
    // The step upload() runs before any file object exists: resolve, and diagnose what fails.
    const { resolved, refusals } = await resolveAllExplained(api, [spec], diagConfig());
    run.resolved = resolved.get(spec)?.id;
    if (refusals.length > 0) run.refusal = refusalText(refusals);
    // A spec that resolves is diagnosed too (`ua --test` does that): it must say `ok`.
    run.diagnosis = refusals[0]?.diagnosis ?? (await diagnoseProject(api, diagConfig(), spec));
  } finally {
    await agent.close();
  }
  if (throughUpload) {
    try {
      const results = await upload({
        options: {
          ...defaultOptions(),
          projects: [spec],
          doNotCompress: true,
          compressThreads: 1,
          uploadThreads: 2,
        },
        positionals: [path],
        server: server(),
        token,
        events: () => undefined,
        signal: new AbortController().signal,
        retry: { minDelayMs: 1, maxDelayMs: 5 },
      });
      expect(results).toHaveLength(1);
      expect(results[0].error).toBeUndefined();
      run.fileId = results[0].fileId ?? undefined;
    } catch (err) {
      run.error = err;
    }
  }
  runs.set(c.label, run);
}

/** File objects with this name in any project (the owner administers them all). */
async function objectsNamed(name: string): Promise<Array<{ id: string; project: string }>> {
  const r = await callApi(
    tp.url,
    'system/findDataObjects',
    { class: 'file', name, visibility: 'either' },
    ownerToken,
  );
  expect(r.status).toBe(200);
  return r.body.results;
}

/** The stored bytes of a closed file, through its signed download URL (as the owner). */
async function stored(fileId: string): Promise<Buffer> {
  const r = await callApi(tp.url, `${fileId}/download`, {}, ownerToken);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const res = await request(r.body.url as string);
  expect(res.statusCode).toBe(200);
  return Buffer.from(await res.body.arrayBuffer());
}

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
  tmp = tempDir();
  const a = tp.platform.admin;
  const owner = a.createUser('mx-owner');
  ownerToken = a.createToken({ user: owner }).token;
  const names: Record<string, string> = { P: 'mx-target', D1: 'mx-dup', D2: 'mx-dup', Q: 'mx-other' };
  for (const [k, n] of Object.entries(names)) world.ids[k] = a.createProject({ name: n, owner });
  for (const m of MEMBER_LEVELS) {
    const u = a.createUser(userOf(m));
    a.invite(world.ids.Q, u, 'UPLOAD');
    if (m === 'NONE') continue;
    for (const k of ['P', 'D1', 'D2']) a.invite(world.ids[k], u, m);
  }
  // Every cell the rule allows uploads for real through upload(); so does the first refused cell
  // of each kind (upload() spawns a worker pool per call, so not all 237 refusals go through it).
  const sampled = new Set<string>();
  const viaUpload = CELLS.map((c) => {
    if (c.expect.kind === 'ok') return true;
    if (sampled.has(c.expect.kind)) return false;
    sampled.add(c.expect.kind);
    return (UPLOAD_SAMPLE.add(c.label), true);
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < CELLS.length) {
        const i = next++;
        await runCell(CELLS[i], i, viaUpload[i]);
      }
    }),
  );
}, 60_000);

afterAll(async () => {
  await tp?.stop();
  tmp?.cleanup();
});

suite('upload permission matrix, full product', () => {
  it('has every cell: 5 project forms × 5 levels × 12 token scopes, every kind', () => {
    expect(CELLS).toHaveLength(FORMS.length * MEMBER_LEVELS.length * SCOPES.length);
    expect(runs.size).toBe(CELLS.length);
    const kinds = new Set(CELLS.map((c) => c.expect.kind));
    expect([...kinds].sort()).toEqual([
      'ambiguous',
      'no-access',
      'not-found',
      'ok',
      'token-scope',
      'view-only',
    ]);
    expect(UPLOAD_SAMPLE.size).toBe(kinds.size - 1);
  });

  it.each(CELLS)('$label', async (c) => {
    const r = runs.get(c.label)!;
    expect(r.diagnosis.kind, r.diagnosis.message).toBe(c.expect.kind);
    const objects = await objectsNamed(r.name);
    if (c.expect.kind === 'ok') {
      const project = world.ids[c.expect.projects![0]];
      expect(r.refusal).toBeUndefined();
      expect(r.resolved).toBe(project);
      expect(r.diagnosis.message).toContain(project);
      expect(r.error, String(r.error)).toBeUndefined();
      expect(r.fileId).toMatch(/^file-/);
      expect(objects).toEqual([{ id: r.fileId, project }]);
      expect((await stored(r.fileId!)).equals(r.data)).toBe(true);
      return;
    }
    expect(r.resolved).toBeUndefined();
    expect(r.refusal).toContain(
      c.expect.kind === 'ambiguous' ? 'does not uniquely identify a project' : CLASSIC,
    );
    // The diagnosis ua prints after the classic line is this one, word for word.
    expect(r.refusal).toContain(`\nDiagnosis: ${r.diagnosis.message}`);
    if (c.expect.kind === 'ambiguous')
      expect(r.diagnosis.candidates!.map((x) => x.id).sort()).toEqual(
        c.expect.projects!.map((k) => world.ids[k]).sort(),
      );
    if (UPLOAD_SAMPLE.has(c.label)) {
      expect(r.error).toBeInstanceOf(RunError);
      expect((r.error as RunError).exitCode).toBe(1);
      expect((r.error as RunError).message).toBe(r.refusal);
    }
    expect(objects, 'no file object may be created for a refused upload').toEqual([]);
  });
});

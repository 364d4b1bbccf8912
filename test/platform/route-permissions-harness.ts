/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { atLeast, type GrantLevel, type Level } from '../../src/common/levels.js';
import { startS3rver, type S3rverHandle } from '../helpers/cloud.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { md5hex, putTo, waitClosed } from './file-helpers.js';

/**
 * The shared half of route-permissions.test.ts: one server, the callers, and the level × route
 * runner its tables (there and in route-permissions-tables.ts) go through. A caller reaches
 * project P at each level two ways: through membership (a full-access token of a member at that
 * level) and through a token scope (an ADMINISTER member whose token is capped at that level;
 * NONE = scoped to another project). Every caller has UPLOAD in R, the other side of a clone.
 */
export const env = {} as {
  tp: TestPlatform;
  s3: S3rverHandle;
  /** Where every object lives (alice, its owner, makes them). */
  P: string;
  /** "Another project" for scoped tokens. */
  Q: string;
  /** Where every caller has UPLOAD: the destination, or the source, of a clone from or into P. */
  R: string;
  /** A project that auto-symlinks into alice's drive. */
  PD: string;
  drive: string;
  /** Created once: read-only routes act on them. */
  sharedOpenFile: string;
  sharedClosedFile: string;
  sharedRecord: string;
};
export const BUCKET = 'route-perms';

export const LEVELS: Level[] = ['NONE', 'VIEW', 'UPLOAD', 'CONTRIBUTE', 'ADMINISTER'];
export const VIAS = ['membership', 'scope'] as const;
export type Via = (typeof VIAS)[number];
const tokens = new Map<string, string>();
export const tokenOf = (level: Level, via: Via) => tokens.get(`${level}/${via}`)!;
/** The user each token belongs to. */
export const userOf = (level: Level, via: Via) =>
  via === 'scope' ? 'user-capped' : `user-member-${level.toLowerCase()}`;
export const everyone = LEVELS.flatMap((level) =>
  VIAS.map((via) => ({ level, via, label: `${level} via ${via}` })),
);

let n = 0;
export const unique = (what: string) => `${what}-${++n}-${randomBytes(3).toString('hex')}`;

/** alice (ADMINISTER of P, full token) makes the objects the routes act on. */
export async function ok(route: string, input: Record<string, unknown>): Promise<any> {
  const r = await env.tp.call(route, input);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}
export const newFile = async () => (await ok('file/new', { project: env.P, name: unique('f') })).id as string;
export async function fileWithPart(): Promise<string> {
  const id = await newFile();
  const bytes = randomBytes(32);
  const u = await ok(`${id}/upload`, { index: 1, size: bytes.length, md5: md5hex(bytes) });
  expect((await putTo(u.url, u.headers, bytes)).status).toBe(200);
  return id;
}
export async function closedFile(): Promise<string> {
  const id = await fileWithPart();
  await ok(`${id}/close`, {});
  await waitClosed(env.tp, id);
  return id;
}
export const openRecord = async (project = env.P) =>
  (await ok('record/new', { project, name: unique('r') })).id as string;
export const closedRecord = async (project = env.P) =>
  (await ok('record/new', { project, name: unique('r'), close: true })).id as string;

export interface Route {
  name: string;
  need: GrantLevel;
  /** Makes the target (as alice) and returns the route and its input. */
  make(): Promise<{ route: string; input: Record<string, unknown>; target?: string }>;
  /** After a 200: that the call did what it says (as alice). */
  check?(target: string | undefined, body: any): Promise<void>;
  /** When the level suffices but the object's state does not: the error type answered instead of 200. */
  allowedError?: string;
  /** After a refusal: that nothing changed (as alice). */
  unchanged?(target: string | undefined): Promise<void>;
}

/** Starts the server and makes the callers, before the file's tests; stops it after. */
export function useRoutePermissionsEnv(): void {
  beforeAll(async () => {
    const tp = await startTestPlatform({ closingDelayMs: 0 });
    env.tp = tp;
    env.s3 = await startS3rver();
    await env.s3.createBucket(BUCKET);
    const a = tp.platform.admin;
    env.P = tp.project;
    env.Q = a.createProject({ name: 'elsewhere', owner: tp.user });
    env.R = a.createProject({ name: 'clone-side', owner: tp.user });
    env.drive = (
      await ok('drive/new', {
        name: 'lab',
        cloud: 'aws',
        credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
        endpoint: env.s3.endpoint,
      })
    ).id;
    env.PD = (
      await ok('project/new', {
        name: 'auto-symlinked',
        defaultSymlink: { drive: env.drive, container: BUCKET },
      })
    ).id;
    // Through membership: one member per level (NONE: none), with a full token.
    for (const level of LEVELS) {
      const u = a.createUser(`member-${level.toLowerCase()}`);
      if (level !== 'NONE') for (const p of [env.P, env.PD]) a.invite(p, u, level);
      a.invite(env.R, u, 'UPLOAD');
      tokens.set(`${level}/membership`, a.createToken({ user: u }).token);
    }
    // Through scope: an ADMINISTER member of P, PD, Q and R whose tokens are capped.
    const capped = a.createUser('capped');
    for (const p of [env.P, env.PD, env.Q, env.R]) a.invite(p, capped, 'ADMINISTER');
    for (const level of LEVELS) {
      const projects: Record<string, GrantLevel> =
        level === 'NONE' ? { [env.Q]: 'ADMINISTER' } : { [env.P]: level, [env.PD]: level };
      projects[env.R] = 'UPLOAD';
      tokens.set(`${level}/scope`, a.createToken({ user: capped, scope: { projects } }).token);
    }
    env.sharedOpenFile = await newFile();
    env.sharedClosedFile = await closedFile();
    env.sharedRecord = await openRecord();
  }, 60_000);

  afterAll(async () => {
    await env.tp?.stop();
    await env.s3?.stop();
  });
}

export const deniedBody = (level: Level, need: GrantLevel, project: string) => ({
  type: 'PermissionDenied',
  // Someone who cannot even view is told VIEW is missing, whatever the route needs.
  message: `${level === 'NONE' ? 'VIEW' : need} permission required in ${project} to perform this action`,
});

/** Every route of a family at every level in P, both ways: allowed from `need` up, else refused. */
export function levelMatrix(family: string, routes: Route[]): void {
  const cases = routes.flatMap((r) =>
    LEVELS.flatMap((level) => VIAS.map((via) => ({ ...r, level, via, label: `${level} via ${via}` }))),
  );
  group(`${family}: level × route`, () => {
    it.each(cases)('$name needs $need: $label', async (c) => {
      const { route, input, target } = await c.make();
      const res = await env.tp.call(route, input, tokenOf(c.level, c.via));
      if (atLeast(c.level, c.need)) {
        if (c.allowedError) {
          expect(res.body?.error?.type, JSON.stringify(res.body)).toBe(c.allowedError);
          return;
        }
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        await c.check?.(target, res.body);
        return;
      }
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.error).toEqual(deniedBody(c.level, c.need, env.P));
      // A refused create leaves nothing behind; a refused edit or close changes nothing.
      if (route.endsWith('/new'))
        expect(
          (await ok('system/findDataObjects', { name: input.name, visibility: 'either' })).results,
        ).toEqual([]);
      await c.unchanged?.(target);
      if (target) {
        const d = await ok(`${target}/describe`, { properties: true, parts: true });
        if (route.endsWith('/close')) expect(d.state).toBe('open');
        if (route.endsWith('/rename')) expect(d.name).not.toBe(input.name);
        if (route.endsWith('/setProperties')) expect(d.properties).toEqual({});
        if (route.endsWith('/addTags')) expect(d.tags).toEqual([]);
        if (route.endsWith('/addTypes')) expect(d.types).toEqual([]);
        if (route.endsWith('/upload')) expect(d.parts).toEqual({});
      }
    });
  });
}

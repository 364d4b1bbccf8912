/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { atLeast, type GrantLevel, type Level } from '../../src/common/levels.js';
import { startS3rver, type S3rverHandle } from '../helpers/cloud.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { md5hex, putTo, waitClosed } from './file-helpers.js';

/**
 * Every level × every data-object route family (files, records, find/list, drives), reached two
 * ways: through membership (a full-access token of a member at that level) and through a token
 * scope (an ADMINISTER member whose token is capped at that level; NONE = scoped to another
 * project). What each route needs comes from platform-api.md §4.1: VIEW reads; UPLOAD creates,
 * edits open objects and closes them; CONTRIBUTE edits closed objects. test/platform/permissions.test.ts
 * covers the project routes the same way.
 */
let tp: TestPlatform;
let s3: S3rverHandle;
let P: string; // where every object lives (alice, its owner, makes them)
let Q: string; // "another project" for scoped tokens
let PD: string; // a project that auto-symlinks into alice's drive
let drive: string;
const BUCKET = 'route-perms';

const LEVELS: Level[] = ['NONE', 'VIEW', 'UPLOAD', 'CONTRIBUTE', 'ADMINISTER'];
const VIAS = ['membership', 'scope'] as const;
type Via = (typeof VIAS)[number];
const tokens = new Map<string, string>();
const tokenOf = (level: Level, via: Via) => tokens.get(`${level}/${via}`)!;

let n = 0;
const unique = (what: string) => `${what}-${++n}-${randomBytes(3).toString('hex')}`;

/** alice (ADMINISTER of P, full token) makes the objects the routes act on. */
async function ok(route: string, input: Record<string, unknown>): Promise<any> {
  const r = await tp.call(route, input);
  expect(r.status, `${route}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}
const newFile = async () => (await ok('file/new', { project: P, name: unique('f') })).id as string;
async function fileWithPart(): Promise<string> {
  const id = await newFile();
  const bytes = randomBytes(32);
  const u = await ok(`${id}/upload`, { index: 1, size: bytes.length, md5: md5hex(bytes) });
  expect((await putTo(u.url, u.headers, bytes)).status).toBe(200);
  return id;
}
async function closedFile(): Promise<string> {
  const id = await fileWithPart();
  await ok(`${id}/close`, {});
  await waitClosed(tp, id);
  return id;
}
const openRecord = async () => (await ok('record/new', { project: P, name: unique('r') })).id as string;
const closedRecord = async () =>
  (await ok('record/new', { project: P, name: unique('r'), close: true })).id as string;

interface Route {
  name: string;
  need: GrantLevel;
  /** Makes the target (as alice) and returns the route and its input. */
  make(): Promise<{ route: string; input: Record<string, unknown>; target?: string }>;
  /** After a 200: that the call did what it says (as alice). */
  check?(target: string | undefined, body: any): Promise<void>;
}

const EDITS: Array<[string, () => Record<string, unknown>]> = [
  ['rename', () => ({ name: unique('renamed') })],
  ['setProperties', () => ({ properties: { k: 'v' } })],
  ['addTags', () => ({ tags: ['t'] })],
  ['removeTags', () => ({ tags: ['t'] })],
  ['addTypes', () => ({ types: ['T'] })],
  ['removeTypes', () => ({ types: ['T'] })],
];

function editRoutes(klass: 'file' | 'record', open: () => Promise<string>, closed: () => Promise<string>) {
  return EDITS.flatMap(([method, input]): Route[] => [
    {
      name: `${klass}-xxxx/${method} (open)`,
      need: 'UPLOAD',
      make: async () => {
        const id = await open();
        return { route: `${id}/${method}`, input: input(), target: id };
      },
    },
    {
      name: `${klass}-xxxx/${method} (closed)`,
      need: 'CONTRIBUTE',
      make: async () => {
        const id = await closed();
        return { route: `${id}/${method}`, input: input(), target: id };
      },
    },
  ]);
}

/** Created once: read-only routes act on them. */
let sharedOpenFile: string;
let sharedClosedFile: string;
let sharedRecord: string;

const FILE_ROUTES: Route[] = [
  {
    name: 'file/new',
    need: 'UPLOAD',
    make: async () => ({ route: 'file/new', input: { project: P, name: unique('new') } }),
    check: async (_t, body) => expect((await ok(`${body.id}/describe`, {})).project).toBe(P),
  },
  {
    name: 'file-xxxx/describe (open)',
    need: 'VIEW',
    make: async () => ({ route: `${sharedOpenFile}/describe`, input: {} }),
  },
  {
    name: 'file-xxxx/describe (closed)',
    need: 'VIEW',
    make: async () => ({ route: `${sharedClosedFile}/describe`, input: {} }),
  },
  {
    name: 'file-xxxx/upload',
    need: 'UPLOAD',
    make: async () => {
      const id = await newFile();
      const bytes = Buffer.from('abc');
      return { route: `${id}/upload`, input: { index: 1, size: 3, md5: md5hex(bytes) }, target: id };
    },
    check: async (_t, body) => {
      const put = await putTo(body.url, body.headers, Buffer.from('abc'));
      expect(put.status).toBe(200);
    },
  },
  {
    name: 'file-xxxx/close',
    need: 'UPLOAD',
    make: async () => {
      const id = await fileWithPart();
      return { route: `${id}/close`, input: {}, target: id };
    },
    check: async (id) => expect((await ok(`${id}/describe`, {})).state).not.toBe('open'),
  },
  {
    name: 'file-xxxx/download',
    need: 'VIEW',
    make: async () => ({ route: `${sharedClosedFile}/download`, input: {} }),
    check: async (_t, body) => {
      const res = await request(body.url as string);
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    },
  },
  ...editRoutes('file', newFile, closedFile),
];

const RECORD_ROUTES: Route[] = [
  {
    name: 'record/new',
    need: 'UPLOAD',
    make: async () => ({ route: 'record/new', input: { project: P, name: unique('rec') } }),
  },
  {
    name: 'record-xxxx/describe',
    need: 'VIEW',
    make: async () => ({ route: `${sharedRecord}/describe`, input: {} }),
  },
  {
    name: 'record-xxxx/close',
    need: 'UPLOAD',
    make: async () => {
      const id = await openRecord();
      return { route: `${id}/close`, input: {}, target: id };
    },
    check: async (id) => expect((await ok(`${id}/describe`, {})).state).toBe('closed'),
  },
  ...editRoutes('record', openRecord, closedRecord),
];

const FIND_ROUTES: Route[] = [
  {
    name: 'system/findDataObjects scoped to the project',
    need: 'VIEW',
    make: async () => ({
      route: 'system/findDataObjects',
      input: { scope: { project: P }, visibility: 'either' },
    }),
    check: async (_t, body) =>
      expect(body.results.map((r: any) => r.id)).toEqual(
        expect.arrayContaining([sharedOpenFile, sharedClosedFile, sharedRecord]),
      ),
  },
  {
    name: 'project-xxxx/listFolder',
    need: 'VIEW',
    make: async () => ({ route: `${P}/listFolder`, input: { folder: '/' } }),
    check: async (_t, body) =>
      expect(body.objects.map((o: any) => o.id)).toEqual(
        expect.arrayContaining([sharedOpenFile, sharedClosedFile, sharedRecord]),
      ),
  },
];

const FAMILIES: Array<[string, Route[]]> = [
  ['file routes', FILE_ROUTES],
  ['record routes', RECORD_ROUTES],
  ['find and list routes', FIND_ROUTES],
];

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
  s3 = await startS3rver();
  await s3.createBucket(BUCKET);
  const a = tp.platform.admin;
  P = tp.project;
  Q = a.createProject({ name: 'elsewhere', owner: tp.user });
  drive = (
    await ok('drive/new', {
      name: 'lab',
      cloud: 'aws',
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      endpoint: s3.endpoint,
    })
  ).id;
  PD = (await ok('project/new', { name: 'auto-symlinked', defaultSymlink: { drive, container: BUCKET } })).id;
  // Through membership: one member per level (NONE: none), with a full token.
  for (const level of LEVELS) {
    const u = a.createUser(`member-${level.toLowerCase()}`);
    if (level !== 'NONE') for (const p of [P, PD]) a.invite(p, u, level);
    tokens.set(`${level}/membership`, a.createToken({ user: u }).token);
  }
  // Through scope: an ADMINISTER member of P and PD whose tokens are capped.
  const capped = a.createUser('capped');
  for (const p of [P, PD, Q]) a.invite(p, capped, 'ADMINISTER');
  for (const level of LEVELS) {
    const projects: Record<string, GrantLevel> =
      level === 'NONE' ? { [Q]: 'ADMINISTER' } : { [P]: level, [PD]: level };
    tokens.set(`${level}/scope`, a.createToken({ user: capped, scope: { projects } }).token);
  }
  sharedOpenFile = await newFile();
  sharedClosedFile = await closedFile();
  sharedRecord = await openRecord();
}, 60_000);

afterAll(async () => {
  await tp?.stop();
  await s3?.stop();
});

const deniedBody = (level: Level, need: GrantLevel, project: string) => ({
  type: 'PermissionDenied',
  // Someone who cannot even view is told VIEW is missing, whatever the route needs.
  message: `${level === 'NONE' ? 'VIEW' : need} permission required in ${project} to perform this action`,
});

for (const [family, routes] of FAMILIES) {
  const cases = routes.flatMap((r) =>
    LEVELS.flatMap((level) => VIAS.map((via) => ({ ...r, level, via, label: `${level} via ${via}` }))),
  );
  group(`${family}: level × route`, () => {
    it.each(cases)('$name needs $need: $label', async (c) => {
      const { route, input, target } = await c.make();
      const res = await tp.call(route, input, tokenOf(c.level, c.via));
      if (atLeast(c.level, c.need)) {
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        await c.check?.(target, res.body);
        return;
      }
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.error).toEqual(deniedBody(c.level, c.need, P));
      // A refused create leaves nothing behind; a refused edit or close changes nothing.
      if (route.endsWith('/new'))
        expect(
          (await ok('system/findDataObjects', { name: input.name, visibility: 'either' })).results,
        ).toEqual([]);
      if (target) {
        const d = await ok(`${target}/describe`, { properties: true });
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

const everyone = LEVELS.flatMap((level) => VIAS.map((via) => ({ level, via, label: `${level} via ${via}` })));

group('visibility: what a caller finds without naming the project', () => {
  it.each(everyone)(
    'findDataObjects and describeDataObjects show P’s objects from VIEW up: $label',
    async (c) => {
      const token = tokenOf(c.level, c.via);
      const sees = atLeast(c.level, 'VIEW');
      for (const id of [sharedOpenFile, sharedClosedFile, sharedRecord]) {
        const name = (await ok(`${id}/describe`, {})).name;
        const r = await tp.call('system/findDataObjects', { name, visibility: 'either' }, token);
        expect(r.status).toBe(200);
        expect(r.body.results).toEqual(sees ? [{ project: P, id }] : []);
      }
      const d = await tp.call(
        'system/describeDataObjects',
        { objects: [sharedClosedFile, sharedRecord] },
        token,
      );
      expect(d.status).toBe(200);
      if (sees)
        expect(d.body.results.map((x: any) => x.describe.id)).toEqual([sharedClosedFile, sharedRecord]);
      else for (const x of d.body.results) expect(x).toEqual({ error: deniedBody('NONE', 'VIEW', P) });
    },
  );

  it.each(everyone)('findDataObjects with a minimum level: $label', async (c) => {
    const token = tokenOf(c.level, c.via);
    for (const min of ['UPLOAD', 'CONTRIBUTE'] as const) {
      const r = await tp.call(
        'system/findDataObjects',
        { scope: { project: P }, level: min, visibility: 'either' },
        token,
      );
      if (!atLeast(c.level, 'VIEW')) {
        expect(r.status).toBe(401);
        continue;
      }
      expect(r.status).toBe(200);
      expect(r.body.results.length > 0).toBe(atLeast(c.level, min));
    }
  });
});

/**
 * Drives belong to their creator (describe, update, disable). Members of a project that
 * auto-symlinks into a drive may describe it — only while their access to that project, through
 * this token, is at least VIEW; update and disable stay with the creator whatever the level.
 */
group('drive routes: level in the auto-symlinking project × route', () => {
  it.each(everyone)(
    'describe from VIEW up, never the secret; update and disable refused: $label',
    async (c) => {
      const token = tokenOf(c.level, c.via);
      const d = await tp.call(`${drive}/describe`, {}, token);
      if (atLeast(c.level, 'VIEW')) {
        expect(d.status, JSON.stringify(d.body)).toBe(200);
        expect(d.body).toMatchObject({ id: drive, cloud: 'aws' });
        expect(d.body.credentials).toEqual({ accessKeyId: s3.accessKeyId, secretAccessKey: '***' });
      } else {
        expect(d.status, JSON.stringify(d.body)).toBe(401);
        expect(d.body.error.type).toBe('PermissionDenied');
      }
      for (const [method, input] of [
        ['update', { name: 'renamed' }],
        ['disable', {}],
      ] as const) {
        const r = await tp.call(`${drive}/${method}`, input, token);
        expect(r.status, JSON.stringify(r.body)).toBe(401);
        expect(r.body.error).toEqual({
          type: 'PermissionDenied',
          message: `You do not have permission to use ${drive}`,
        });
      }
      expect((await ok(`${drive}/describe`, {})).disabled).toBe(false);
    },
  );

  it('the creator may describe, update and disable it', async () => {
    expect((await ok(`${drive}/update`, { name: 'lab-2' })).id).toBe(drive);
    expect((await ok(`${drive}/describe`, {})).name).toBe('lab-2');
  });
});

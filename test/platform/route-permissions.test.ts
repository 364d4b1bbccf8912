/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { request } from 'undici';
import { describe as group, expect, it } from 'vitest';
import { atLeast } from '../../src/common/levels.js';
import { md5hex, putTo } from './file-helpers.js';
import {
  closedFile,
  closedRecord,
  deniedBody,
  env,
  everyone,
  fileWithPart,
  levelMatrix,
  newFile,
  ok,
  openRecord,
  tokenOf,
  unique,
  useRoutePermissionsEnv,
  type Route,
} from './route-permissions-harness.js';
import { CONTAINER_ROUTES, EDIT_ROUTES, userAndSystemGroups } from './route-permissions-tables.js';

/**
 * Every level × every data-object route family (files, records, find/list, folders and clones,
 * drives, users), reached two ways: through membership (a full-access token of a member at that
 * level) and through a token scope (an ADMINISTER member whose token is capped at that level;
 * NONE = scoped to another project); the server and callers are route-permissions-harness.ts's.
 * What each route needs comes from platform-api.md §4.1: VIEW reads; UPLOAD creates, edits open
 * objects and closes them; CONTRIBUTE edits closed objects and removes. Cloning needs VIEW on
 * the source and UPLOAD on the destination (route-permissions-tables.ts).
 * test/platform/permissions.test.ts covers the project routes the same way.
 */
useRoutePermissionsEnv();

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

const FILE_ROUTES: Route[] = [
  {
    name: 'file/new',
    need: 'UPLOAD',
    make: async () => ({ route: 'file/new', input: { project: env.P, name: unique('new') } }),
    check: async (_t, body) => expect((await ok(`${body.id}/describe`, {})).project).toBe(env.P),
  },
  {
    name: 'file-xxxx/describe (open)',
    need: 'VIEW',
    make: async () => ({ route: `${env.sharedOpenFile}/describe`, input: {} }),
  },
  {
    name: 'file-xxxx/describe (closed)',
    need: 'VIEW',
    make: async () => ({ route: `${env.sharedClosedFile}/describe`, input: {} }),
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
    make: async () => ({ route: `${env.sharedClosedFile}/download`, input: {} }),
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
    make: async () => ({ route: 'record/new', input: { project: env.P, name: unique('rec') } }),
  },
  {
    name: 'record-xxxx/describe',
    need: 'VIEW',
    make: async () => ({ route: `${env.sharedRecord}/describe`, input: {} }),
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
      input: { scope: { project: env.P }, visibility: 'either' },
    }),
    check: async (_t, body) =>
      expect(body.results.map((r: any) => r.id)).toEqual(
        expect.arrayContaining([env.sharedOpenFile, env.sharedClosedFile, env.sharedRecord]),
      ),
  },
  {
    name: 'project-xxxx/listFolder',
    need: 'VIEW',
    make: async () => ({ route: `${env.P}/listFolder`, input: { folder: '/' } }),
    check: async (_t, body) =>
      expect(body.objects.map((o: any) => o.id)).toEqual(
        expect.arrayContaining([env.sharedOpenFile, env.sharedClosedFile, env.sharedRecord]),
      ),
  },
];

const FAMILIES: Array<[string, Route[]]> = [
  ['file routes', FILE_ROUTES],
  ['record routes', RECORD_ROUTES],
  ['find and list routes', FIND_ROUTES],
  ['data-object edit routes', EDIT_ROUTES],
  ['folder and clone routes', CONTAINER_ROUTES],
];

for (const [family, routes] of FAMILIES) levelMatrix(family, routes);

group('visibility: what a caller finds without naming the project', () => {
  it.each(everyone)(
    'findDataObjects and describeDataObjects show P’s objects from VIEW up: $label',
    async (c) => {
      const token = tokenOf(c.level, c.via);
      const sees = atLeast(c.level, 'VIEW');
      for (const id of [env.sharedOpenFile, env.sharedClosedFile, env.sharedRecord]) {
        const name = (await ok(`${id}/describe`, {})).name;
        const r = await env.tp.call('system/findDataObjects', { name, visibility: 'either' }, token);
        expect(r.status).toBe(200);
        expect(r.body.results).toEqual(sees ? [{ project: env.P, id }] : []);
      }
      const d = await env.tp.call(
        'system/describeDataObjects',
        { objects: [env.sharedClosedFile, env.sharedRecord] },
        token,
      );
      expect(d.status).toBe(200);
      if (sees)
        expect(d.body.results.map((x: any) => x.describe.id)).toEqual([
          env.sharedClosedFile,
          env.sharedRecord,
        ]);
      else for (const x of d.body.results) expect(x).toEqual({ error: deniedBody('NONE', 'VIEW', env.P) });
    },
  );

  it.each(everyone)('findDataObjects with a minimum level: $label', async (c) => {
    const token = tokenOf(c.level, c.via);
    for (const min of ['UPLOAD', 'CONTRIBUTE'] as const) {
      const r = await env.tp.call(
        'system/findDataObjects',
        { scope: { project: env.P }, level: min, visibility: 'either' },
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
      const d = await env.tp.call(`${env.drive}/describe`, {}, token);
      if (atLeast(c.level, 'VIEW')) {
        expect(d.status, JSON.stringify(d.body)).toBe(200);
        expect(d.body).toMatchObject({ id: env.drive, cloud: 'aws' });
        expect(d.body.credentials).toEqual({ accessKeyId: env.s3.accessKeyId, secretAccessKey: '***' });
      } else {
        expect(d.status, JSON.stringify(d.body)).toBe(401);
        expect(d.body.error.type).toBe('PermissionDenied');
      }
      for (const [method, input] of [
        ['update', { name: 'renamed' }],
        ['disable', {}],
      ] as const) {
        const r = await env.tp.call(`${env.drive}/${method}`, input, token);
        expect(r.status, JSON.stringify(r.body)).toBe(401);
        expect(r.body.error).toEqual({
          type: 'PermissionDenied',
          message: `You do not have permission to use ${env.drive}`,
        });
      }
      expect((await ok(`${env.drive}/describe`, {})).disabled).toBe(false);
    },
  );

  it('the creator may describe, update and disable it', async () => {
    expect((await ok(`${env.drive}/update`, { name: 'lab-2' })).id).toBe(env.drive);
    expect((await ok(`${env.drive}/describe`, {})).name).toBe('lab-2');
  });
});

userAndSystemGroups();

/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are free-form JSON here */
import { describe as group, expect, it } from 'vitest';
import {
  closedRecord,
  env,
  everyone,
  newFile,
  ok,
  openRecord,
  tokenOf,
  unique,
  userOf,
  type Route,
} from './route-permissions-harness.js';

/**
 * The routes clients call to look around and clean up after an upload, for
 * route-permissions.test.ts's level × route matrix in P. What each needs:
 * - setVisibility: as the other metadata edits (UPLOAD open, CONTRIBUTE closed); a closed
 *   object then answers InvalidState, since visibility is fixed at close.
 * - move: UPLOAD for open objects only, CONTRIBUTE for a closed object or a folder.
 * - removeFolder: CONTRIBUTE, as removeObjects.
 * - clone: VIEW on the source, UPLOAD on the destination (platform doc "Cloning"); every caller
 *   has UPLOAD in R, so P is the source in one row and the destination in the other.
 */

const describeIn = (id: string, project: string) => env.tp.call(`${id}/describe`, { project });

function visibilityRoutes(
  klass: 'file' | 'record',
  open: () => Promise<string>,
  closed: () => Promise<string>,
): Route[] {
  return [
    {
      name: `${klass}-xxxx/setVisibility (open)`,
      need: 'UPLOAD',
      make: async () => {
        const id = await open();
        return { route: `${id}/setVisibility`, input: { hidden: true }, target: id };
      },
      check: async (id) => expect((await ok(`${id}/describe`, {})).hidden).toBe(true),
      unchanged: async (id) => expect((await ok(`${id}/describe`, {})).hidden).toBe(false),
    },
    {
      name: `${klass}-xxxx/setVisibility (closed)`,
      need: 'CONTRIBUTE',
      allowedError: 'InvalidState',
      make: async () => {
        const id = await closed();
        return { route: `${id}/setVisibility`, input: { hidden: true }, target: id };
      },
      unchanged: async (id) => expect((await ok(`${id}/describe`, {})).hidden).toBe(false),
    },
  ];
}

export const EDIT_ROUTES: Route[] = [
  ...visibilityRoutes('file', newFile, async () => env.sharedClosedFile),
  ...visibilityRoutes('record', openRecord, () => closedRecord()),
  {
    name: 'file-xxxx/listProjects',
    need: 'VIEW',
    make: async () => ({ route: `${env.sharedClosedFile}/listProjects`, input: {} }),
    check: async (_t, body) => expect(Object.keys(body)).toEqual([env.P]),
  },
  {
    name: 'project-xxxx/listFolder with describe (dx ls -l)',
    need: 'VIEW',
    make: async () => ({
      route: `${env.P}/listFolder`,
      input: { folder: '/', describe: { fields: { name: true, state: true, modified: true } } },
    }),
    check: async (_t, body) =>
      expect(body.objects.find((o: any) => o.id === env.sharedClosedFile)).toEqual({
        id: env.sharedClosedFile,
        describe: {
          id: env.sharedClosedFile,
          name: expect.any(String),
          state: 'closed',
          modified: expect.any(Number),
        },
      }),
  },
];

/** A folder `/name/inner` in P, returned as `/name`. */
async function folderInP(): Promise<string> {
  const f = `/${unique('dir')}`;
  await ok(`${env.P}/newFolder`, { folder: `${f}/inner`, parents: true });
  return f;
}
const subfoldersOf = async (project: string, folder: string) =>
  (await ok(`${project}/listFolder`, { folder, only: 'folders' })).folders as string[];
const rootFoldersOfP = () => subfoldersOf(env.P, '/');

function moveObjectRoute(state: 'open' | 'closed'): Route {
  let dest = '';
  return {
    name: `project-xxxx/move (${state} object)`,
    need: state === 'open' ? 'UPLOAD' : 'CONTRIBUTE',
    make: async () => {
      const id = state === 'open' ? await openRecord() : await closedRecord();
      dest = await folderInP();
      return { route: `${env.P}/move`, input: { objects: [id], destination: dest }, target: id };
    },
    check: async (id) => expect((await ok(`${id}/describe`, {})).folder).toBe(dest),
    unchanged: async (id) => expect((await ok(`${id}/describe`, {})).folder).toBe('/'),
  };
}

function cloneRoute(side: 'source' | 'destination'): Route {
  return {
    name: `project-xxxx/clone (P is the ${side})`,
    need: side === 'source' ? 'VIEW' : 'UPLOAD',
    make: async () => {
      const [from, to] = side === 'source' ? [env.P, env.R] : [env.R, env.P];
      const id = await closedRecord(from);
      return { route: `${from}/clone`, input: { project: to, objects: [id] }, target: id };
    },
    check: async (id, body) => {
      expect(body.exists).toEqual([]);
      for (const p of [env.P, env.R]) expect((await describeIn(id!, p)).status).toBe(200);
    },
    unchanged: async (id) => {
      const to = side === 'source' ? env.R : env.P;
      expect((await describeIn(id!, to)).status).toBe(404);
    },
  };
}

let moved = '';
let into = '';
let removed = '';
export const CONTAINER_ROUTES: Route[] = [
  moveObjectRoute('open'),
  moveObjectRoute('closed'),
  {
    name: 'project-xxxx/move (folder)',
    need: 'CONTRIBUTE',
    make: async () => {
      moved = await folderInP();
      into = `/${unique('into')}`;
      await ok(`${env.P}/newFolder`, { folder: into });
      return { route: `${env.P}/move`, input: { folders: [`${moved}/inner`], destination: into } };
    },
    check: async () => {
      expect(await subfoldersOf(env.P, moved)).toEqual([]);
      expect(await subfoldersOf(env.P, into)).toEqual([`${into}/inner`]);
    },
    unchanged: async () => expect(await subfoldersOf(env.P, moved)).toEqual([`${moved}/inner`]),
  },
  {
    name: 'project-xxxx/removeFolder (empty)',
    need: 'CONTRIBUTE',
    make: async () => {
      removed = await folderInP();
      return { route: `${env.P}/removeFolder`, input: { folder: `${removed}/inner` } };
    },
    check: async () => expect(await subfoldersOf(env.P, removed)).toEqual([]),
    unchanged: async () => expect(await subfoldersOf(env.P, removed)).toEqual([`${removed}/inner`]),
  },
  {
    name: 'project-xxxx/removeFolder (recurse, with a closed object)',
    need: 'CONTRIBUTE',
    make: async () => {
      removed = await folderInP();
      const id = (await ok('record/new', { project: env.P, folder: removed, name: unique('r'), close: true }))
        .id;
      return {
        route: `${env.P}/removeFolder`,
        input: { folder: removed, recurse: true, partial: true },
        target: id,
      };
    },
    check: async (id, body) => {
      expect(body).toEqual({ id: env.P, completed: true });
      expect((await env.tp.call(`${id}/describe`, {})).status).toBe(404);
      expect(await rootFoldersOfP()).not.toContain(removed);
    },
    unchanged: async (id) => expect((await ok(`${id}/describe`, {})).folder).toBe(removed),
  },
  cloneRoute('source'),
  cloneRoute('destination'),
];

/**
 * Routes whose answer does not depend on a project level: `/user-xxxx/describe` (the caller's
 * own full-scope describe adds billTo; anyone else, and any scoped token, gets id, class and
 * handle) and `/system/findApps` (always empty).
 */
export function userAndSystemGroups(): void {
  group('user and system routes: every caller', () => {
    it.each(everyone)('user-xxxx/describe of oneself and of another: $label', async (c) => {
      const token = tokenOf(c.level, c.via);
      const me = userOf(c.level, c.via);
      const own = await env.tp.call(`${me}/describe`, {}, token);
      expect(own.status, JSON.stringify(own.body)).toBe(200);
      expect(own.body).toMatchObject({ id: me, class: 'user' });
      // Membership tokens are full-scope; scope tokens are not.
      expect('billTo' in own.body).toBe(c.via === 'membership');
      const other = await env.tp.call(`${env.tp.user}/describe`, {}, token);
      expect(other.body).toEqual({ id: env.tp.user, class: 'user', handle: 'alice' });
    });

    it.each(everyone)('system/findApps finds nothing: $label', async (c) => {
      const r = await env.tp.call('system/findApps', { name: 'x', describe: true }, tokenOf(c.level, c.via));
      expect(r.body).toEqual({ results: [], next: null });
    });
  });
}

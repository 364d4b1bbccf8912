import { atLeast, type GrantLevel, type Level } from '../../src/common/levels.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

/**
 * Every level × every project route family, reached two ways: through membership (full-access
 * token) and through a token scope that caps an ADMINISTER member.
 */
let tp: TestPlatform;
let dummy: string; // a VIEW member that invite / decreasePermissions act on
beforeAll(async () => {
  tp = await startTestPlatform();
  dummy = tp.platform.admin.createUser('dummy');
  tp.platform.admin.invite(tp.project, dummy, 'VIEW');
});
afterAll(() => tp.stop());

const LEVELS: Level[] = ['NONE', 'VIEW', 'UPLOAD', 'CONTRIBUTE', 'ADMINISTER'];
let n = 0;
const ROUTES: Array<{ method: string; need: GrantLevel; input: () => Record<string, unknown> }> = [
  { method: 'describe', need: 'VIEW', input: () => ({}) },
  { method: 'listFolder', need: 'VIEW', input: () => ({ folder: '/' }) },
  { method: 'newFolder', need: 'UPLOAD', input: () => ({ folder: `/f${++n}` }) },
  { method: 'update', need: 'ADMINISTER', input: () => ({ summary: `s${++n}` }) },
  { method: 'invite', need: 'ADMINISTER', input: () => ({ invitee: 'dummy', level: 'VIEW' }) },
  { method: 'decreasePermissions', need: 'ADMINISTER', input: () => ({ 'user-dummy': 'VIEW' }) },
];

/** A token for a user whose effective level in tp.project is `level`, one way or the other. */
function tokenAt(level: Level, via: 'membership' | 'scope'): string {
  const admin = tp.platform.admin;
  if (via === 'scope') {
    const projects: Record<string, GrantLevel> =
      level === 'NONE'
        ? { [tp.platform.admin.createProject({ name: 'elsewhere', owner: tp.user })]: 'ADMINISTER' }
        : { [tp.project]: level };
    return admin.createToken({ user: tp.user, scope: { projects } }).token;
  }
  const user = admin.createUser(`m${++n}`);
  if (level !== 'NONE') admin.invite(tp.project, user, level);
  return admin.createToken({ user }).token;
}

const cases = LEVELS.flatMap((level) =>
  ROUTES.flatMap((route) => (['membership', 'scope'] as const).map((via) => ({ level, via, ...route }))),
);

describe('permission matrix', () => {
  it.each(cases)('$level via $via → $method (needs $need)', async ({ level, via, method, need, input }) => {
    const token = tokenAt(level, via);
    const res = await tp.call(`${tp.project}/${method}`, input(), token);
    if (atLeast(level, need)) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      if (method === 'describe') expect(res.body.level).toBe(level);
    } else {
      expect(res.status).toBe(401);
      const shown = level === 'NONE' ? 'VIEW' : need;
      expect(res.body.error).toEqual({
        type: 'PermissionDenied',
        message: `${shown} permission required in ${tp.project} to perform this action`,
      });
    }
  });

  it.each(LEVELS.flatMap((level) => (['membership', 'scope'] as const).map((via) => ({ level, via }))))(
    'findProjects shows the project to $level via $via only from VIEW up',
    async ({ level, via }) => {
      const res = await tp.call('system/findProjects', { name: 'test-project' }, tokenAt(level, via));
      expect(res.body.results).toEqual(level === 'NONE' ? [] : [{ id: tp.project, level }]);
    },
  );

  it('a nonexistent project is ResourceNotFound whatever the token', async () => {
    const res = await tp.call(
      'project-000000000000000000000000/newFolder',
      { folder: '/x' },
      tokenAt('NONE', 'membership'),
    );
    expect(res.status).toBe(404);
    expect(res.body.error.type).toBe('ResourceNotFound');
  });
});

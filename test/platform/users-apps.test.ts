import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

/**
 * `/user-xxxx/describe` as `dx whoami` uses it, and `/system/findApps` /
 * `/system/findGlobalWorkflows` as `dx describe <name>` does, through real HTTP. Which token
 * sees which user fields is also in route-permissions.test.ts.
 */
let tp: TestPlatform;
let bobToken: string;
let scopedAliceToken: string;

beforeAll(async () => {
  tp = await startTestPlatform();
  const a = tp.platform.admin;
  const bob = a.createUser('Bob.Smith');
  bobToken = a.createToken({ user: bob }).token;
  scopedAliceToken = a.createToken({ user: tp.user, scope: { projects: { '*': 'ADMINISTER' } } }).token;
});
afterAll(() => tp.stop());

const BASIC = { id: 'user-alice', class: 'user', handle: 'alice' };

group('/user-xxxx/describe', () => {
  it('dx whoami: whoami’s id, then the user’s own full describe', async () => {
    const me = (await tp.call('system/whoami', {})).body.id;
    const d = await tp.call(`${me}/describe`, {});
    expect(d.status).toBe(200);
    expect(d.body).toEqual({
      ...BASIC,
      billTo: 'user-alice',
      defaultRegion: 'aws:us-east-1',
      permittedRegions: expect.arrayContaining(['aws:us-east-1', 'azure:westus']),
    });
  });

  it('a handle with capitals and dots is routed by its lowercased ID', async () => {
    const d = await tp.call('user-bob.smith/describe', {}, bobToken);
    expect(d.body).toMatchObject({ id: 'user-bob.smith', handle: 'Bob.Smith', billTo: 'user-bob.smith' });
  });

  it('another user, or a token that is not full-scope, gets the basic fields only', async () => {
    expect((await tp.call('user-alice/describe', {}, bobToken)).body).toEqual(BASIC);
    expect((await tp.call('user-alice/describe', {}, scopedAliceToken)).body).toEqual(BASIC);
    const asked = await tp.call('user-alice/describe', { fields: { billTo: true, handle: true } }, bobToken);
    expect(asked.body).toEqual({ id: 'user-alice', handle: 'alice' });
  });

  it('fields, defaultFields and the deprecated flags pick what is returned', async () => {
    const call = async (input: Record<string, unknown>) => (await tp.call('user-alice/describe', input)).body;
    expect(await call({ fields: { handle: true } })).toEqual({ id: 'user-alice', handle: 'alice' });
    expect(await call({ fields: { billTo: false }, defaultFields: true })).not.toHaveProperty('billTo');
    expect(await call({ fields: { appsInstalled: true } })).toEqual({ id: 'user-alice', appsInstalled: {} });
    expect((await call({ appsInstalled: true })).appsInstalled).toEqual({});
    expect(await call({})).not.toHaveProperty('appsInstalled');
  });

  it('an unknown user is ResourceNotFound; bad input is InvalidInput; no token is refused', async () => {
    const missing = await tp.call('user-nobody/describe', {});
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      type: 'ResourceNotFound',
      message: 'The entity user-nobody could not be found',
    });
    for (const input of [{ fields: [] }, { fields: { handle: 'yes' } }, { defaultFields: 1 }]) {
      expect((await tp.call('user-alice/describe', input)).body.error.type).toBe('InvalidInput');
    }
    expect((await tp.call('user-alice/describe', {}, null)).status).toBe(401);
    // Not a user ID (capitals): not routed as one.
    expect((await tp.call('user-Alice/describe', {})).status).toBe(404);
  });
});

group('/system/findApps and /system/findGlobalWorkflows', () => {
  it('answer no results to what dx describe <name> sends', async () => {
    for (const route of ['system/findApps', 'system/findGlobalWorkflows']) {
      for (const input of [
        {},
        { name: 'bwa_mem', describe: true, limit: 100 },
        { name: { glob: 'bwa*' }, category: 'Read Mapping', allVersions: true, published: true },
        {
          billTo: 'user-alice',
          created: { after: 0 },
          modified: { before: Date.now() },
          describe: { fields: {} },
        },
        { someFutureOption: [1, 2] },
      ]) {
        const r = await tp.call(route, input);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body).toEqual({ results: [], next: null });
      }
    }
  });

  it('checks the shape of what it knows', async () => {
    for (const input of [
      { name: 3 },
      { name: { regexp: '(' } },
      { published: 'yes' },
      { created: 5 },
      { describe: 'all' },
      { limit: 0 },
      { category: {} },
    ]) {
      const r = await tp.call('system/findApps', input);
      expect(r.body.error?.type, JSON.stringify(input)).toBe('InvalidInput');
    }
    expect((await tp.call('system/findApps', {}, null)).status).toBe(401);
  });
});

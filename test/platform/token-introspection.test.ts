import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

/**
 * What a client may learn about its own token and access, so it can explain a refused upload:
 * whoami's `token` (scope, expiry) and describe's on-request `membershipLevel`.
 */
let tp: TestPlatform;
let bob: string;
beforeAll(async () => {
  tp = await startTestPlatform();
  bob = tp.platform.admin.createUser('bob');
  tp.platform.admin.invite(tp.project, bob, 'CONTRIBUTE');
});
afterAll(() => tp.stop());

describe('whoami describes the caller token', () => {
  it('a full-access token: scope null, no expiry, and never the token text', async () => {
    const { token, tokenId } = tp.platform.admin.createToken({ user: bob });
    const res = await tp.call('system/whoami', {}, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: bob,
      handle: 'bob',
      token: { id: tokenId, created: expect.any(Number), expires: null, scope: null },
    });
    expect(JSON.stringify(res.body)).not.toContain(token);
  });

  it('a scoped token with an expiry reports both', async () => {
    const expiresAt = Date.now() + 3_600_000;
    const scope = { projects: { [tp.project]: 'UPLOAD' as const } };
    const { token } = tp.platform.admin.createToken({ user: bob, scope, expiresAt });
    const res = await tp.call('system/whoami', {}, token);
    expect(res.body.token.scope).toEqual(scope);
    expect(res.body.token.expires).toBe(expiresAt);
  });
});

describe('describe membershipLevel', () => {
  it('is only sent on request, by fields or the legacy flag', async () => {
    const plain = await tp.call(`${tp.project}/describe`, {});
    expect(plain.body.membershipLevel).toBeUndefined();
    const byFlag = await tp.call(`${tp.project}/describe`, { membershipLevel: true });
    expect(byFlag.body.membershipLevel).toBe('ADMINISTER');
    const byFields = await tp.call(`${tp.project}/describe`, {
      fields: { level: true, membershipLevel: true },
    });
    expect(byFields.body).toEqual({ level: 'ADMINISTER', membershipLevel: 'ADMINISTER' });
  });

  it('shows the membership a lower-scoped token hides: level VIEW, membership CONTRIBUTE', async () => {
    const { token } = tp.platform.admin.createToken({
      user: bob,
      scope: { projects: { [tp.project]: 'VIEW' } },
    });
    const res = await tp.call(
      `${tp.project}/describe`,
      { fields: { level: true, membershipLevel: true } },
      token,
    );
    expect(res.body).toEqual({ level: 'VIEW', membershipLevel: 'CONTRIBUTE' });
  });

  it('findProjects passes it through its describe', async () => {
    const { token } = tp.platform.admin.createToken({ user: bob, scope: { projects: { '*': 'VIEW' } } });
    const res = await tp.call(
      'system/findProjects',
      { name: 'test-project', describe: { fields: { membershipLevel: true } } },
      token,
    );
    expect(res.body.results).toEqual([
      { id: tp.project, level: 'VIEW', describe: { membershipLevel: 'CONTRIBUTE' } },
    ]);
  });

  it('a token scoped elsewhere learns nothing: PermissionDenied, no membership', async () => {
    const elsewhere = tp.platform.admin.createProject({ name: 'elsewhere', owner: bob });
    const { token } = tp.platform.admin.createToken({
      user: bob,
      scope: { projects: { [elsewhere]: 'UPLOAD' } },
    });
    const res = await tp.call(`${tp.project}/describe`, { membershipLevel: true }, token);
    expect(res.status).toBe(401);
    expect(res.body.error.type).toBe('PermissionDenied');
  });
});

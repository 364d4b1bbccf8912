import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

let tp: TestPlatform;
let other: string; // a second project alice administers
beforeAll(async () => {
  tp = await startTestPlatform();
  other = tp.platform.admin.createProject({ name: 'other', owner: tp.user });
});
afterAll(() => tp.stop());

/** The database file and its write-ahead log, where recent writes live until a checkpoint. */
function dbBytes(dir: string): Buffer {
  const files = ['platform.db', 'platform.db-wal'].map((f) => join(dir, f)).filter((f) => existsSync(f));
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

const newToken = (o: Parameters<TestPlatform['platform']['admin']['createToken']>[0]) =>
  tp.platform.admin.createToken(o);

describe('authentication', () => {
  it('accepts a valid token: whoami names its user', async () => {
    const res = await tp.call('system/whoami');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(tp.user);
  });

  it('gives out 32-character URL-safe tokens', () => {
    const { token, tokenId } = newToken({ user: tp.user });
    expect(token).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(tokenId).toMatch(/^token-/);
  });

  it.each([
    ['unknown', () => 'not-a-real-token-at-all-000000000', 'The token could not be found'],
    [
      'expired',
      () => newToken({ user: tp.user, expiresAt: Date.now() - 1000 }).token,
      'The token has expired',
    ],
    [
      'revoked by ID',
      () => {
        const t = newToken({ user: tp.user });
        tp.platform.admin.revokeToken(t.tokenId);
        return t.token;
      },
      'The token has been revoked',
    ],
    [
      'revoked by value',
      () => {
        const t = newToken({ user: tp.user });
        tp.platform.admin.revokeToken(t.token);
        return t.token;
      },
      'The token has been revoked',
    ],
  ])('refuses an %s token with InvalidAuthentication 401', async (_label, make, message) => {
    const res = await tp.call('system/greet', {}, make());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { type: 'InvalidAuthentication', message } });
  });

  it('accepts a token that expires later', async () => {
    const { token } = newToken({ user: tp.user, expiresAt: Date.now() + 3_600_000 });
    expect((await tp.call('system/whoami', {}, token)).status).toBe(200);
  });

  it('refuses a missing Authorization header with PermissionDenied 401', async () => {
    const res = await tp.call('system/greet', {}, null);
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ type: 'PermissionDenied', message: 'Must supply authentication token' });
  });

  it('refuses revoking an unknown token', () => {
    expect(() => tp.platform.admin.revokeToken('nope')).toThrow(/no such token/);
  });
});

describe('scoped tokens', () => {
  it('a token scoped to one project at UPLOAD sees UPLOAD there and nothing elsewhere', async () => {
    const { token } = newToken({ user: tp.user, scope: { projects: { [tp.project]: 'UPLOAD' } } });
    const here = await tp.call(`${tp.project}/describe`, {}, token);
    expect(here.body.level).toBe('UPLOAD');
    expect(here.body.permissions).toBeUndefined(); // ADMINISTER-only field
    const there = await tp.call(`${other}/describe`, {}, token);
    expect(there.status).toBe(401);
    expect(there.body.error).toEqual({
      type: 'PermissionDenied',
      message: `VIEW permission required in ${other} to perform this action`,
    });
    const found = await tp.call('system/findProjects', { level: 'UPLOAD' }, token);
    expect(found.body.results).toEqual([{ id: tp.project, level: 'UPLOAD' }]);
  });

  it('a project-scoped token cannot invite (needs ADMINISTER) nor create projects', async () => {
    const { token } = newToken({ user: tp.user, scope: { projects: { [tp.project]: 'UPLOAD' } } });
    const inv = await tp.call(`${tp.project}/invite`, { invitee: 'user-alice', level: 'VIEW' }, token);
    expect(inv.body.error.message).toBe(
      `ADMINISTER permission required in ${tp.project} to perform this action`,
    );
    const created = await tp.call('project/new', { name: 'x' }, token);
    expect(created.status).toBe(401);
    expect(created.body.error.type).toBe('PermissionDenied');
  });

  it('a `*` scope caps every project and still lets the token create projects', async () => {
    const { token } = newToken({ user: tp.user, scope: { projects: { '*': 'VIEW' } } });
    expect((await tp.call(`${other}/describe`, {}, token)).body.level).toBe('VIEW');
    const nf = await tp.call(`${other}/newFolder`, { folder: '/x' }, token);
    expect(nf.body.error.message).toBe(`UPLOAD permission required in ${other} to perform this action`);
    const created = await tp.call('project/new', { name: 'made-by-star' }, token);
    expect(created.status).toBe(200);
    // The creator is ADMINISTER, but this token still only reaches VIEW.
    expect((await tp.call(`${created.body.id}/describe`, {}, token)).body.level).toBe('VIEW');
    expect((await tp.call(`${created.body.id}/describe`)).body.level).toBe('ADMINISTER');
  });

  it('a scope never raises the user above their membership', async () => {
    const bob = tp.platform.admin.createUser('bob');
    tp.platform.admin.invite(tp.project, bob, 'VIEW');
    const { token } = newToken({ user: bob, scope: { projects: { '*': 'ADMINISTER' } } });
    expect((await tp.call(`${tp.project}/describe`, {}, token)).body.level).toBe('VIEW');
  });
});

describe('at rest', () => {
  it('stores only the token hash: the token text is nowhere in the data dir', async () => {
    const { token } = newToken({ user: tp.user });
    expect((await tp.call('system/whoami', {}, token)).status).toBe(200); // it is real
    const stored = dbBytes(tp.platform.dataDir);
    expect(stored.includes(Buffer.from(token))).toBe(false);
    // The same search does find what is stored, so the check above can fail.
    expect(stored.includes(Buffer.from(createHash('sha256').update(token).digest('hex')))).toBe(true);
  });

  it('keeps the signing key in a 32-byte file with mode 0600', () => {
    const file = join(tp.platform.dataDir, 'signing.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file)).toHaveLength(32);
    expect(tp.platform.deps.config.signingKey.equals(readFileSync(file))).toBe(true);
  });
});

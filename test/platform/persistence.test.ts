import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.js';
import { tempDir } from '../helpers/files.js';
import { callApi } from '../helpers/platform.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dataDir: string): Promise<RunningPlatform> {
  const p = await startPlatform({ dataDir, quiet: true });
  cleanups.push(() => p.stop());
  return p;
}

it('a restart on the same data dir keeps users, tokens, projects, members, folders and the signing key', async () => {
  const tmp = tempDir('ua-platform-persist-');
  cleanups.push(tmp.cleanup);

  const first = await start(tmp.dir);
  const alice = first.admin.createUser('alice');
  const bob = first.admin.createUser('bob');
  const { token } = first.admin.createToken({ user: alice });
  const revoked = first.admin.createToken({ user: alice });
  first.admin.revokeToken(revoked.tokenId);
  const created = await callApi(first.url, 'project/new', { name: 'kept', region: 'azure:westus' }, token);
  const project = created.body.id as string;
  await callApi(first.url, `${project}/newFolder`, { folder: '/runs/2024', parents: true }, token);
  await callApi(first.url, `${project}/invite`, { invitee: bob, level: 'UPLOAD' }, token);
  const describedBefore = (await callApi(first.url, `${project}/describe`, {}, token)).body;
  const key = readFileSync(join(tmp.dir, 'signing.key'));
  await first.stop();

  const second = await start(tmp.dir);
  expect(second.dataDir).toBe(tmp.dir);
  expect((await callApi(second.url, 'system/whoami', {}, token)).body).toMatchObject({
    id: alice,
    handle: 'alice',
  });
  expect((await callApi(second.url, 'system/whoami', {}, revoked.token)).body.error.message).toBe(
    'The token has been revoked',
  );
  const describedAfter = (await callApi(second.url, `${project}/describe`, {}, token)).body;
  expect(describedAfter).toEqual(describedBefore);
  expect(describedAfter.folders).toEqual(['/', '/runs', '/runs/2024']);
  expect(describedAfter.permissions).toEqual({ [alice]: 'ADMINISTER', [bob]: 'UPLOAD' });
  expect(second.deps.config.signingKey.equals(key)).toBe(true);
  expect(() => second.admin.createUser('alice')).toThrow(/already exists/);
  await second.stop();
  // stop() leaves a data dir it was given alone.
  expect(readFileSync(join(tmp.dir, 'signing.key')).equals(key)).toBe(true);
});

it('stop() deletes a data dir that startPlatform made itself', async () => {
  const p = await startPlatform({ quiet: true });
  const dir = p.dataDir;
  expect(readFileSync(join(dir, 'signing.key'))).toHaveLength(32);
  await p.stop();
  expect(() => readFileSync(join(dir, 'signing.key'))).toThrow(/ENOENT/);
});

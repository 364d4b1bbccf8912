import { describe, expect, it } from 'vitest';
import { defineSymlinkSuite } from './symlink-suite.js';
import { downloadFile, randomBytes, rawUpload, type SymlinkEnv } from './symlink-harness.js';

describe('auto-symlink project on Azure Blob (azurite)', () => {
  let env!: SymlinkEnv;
  defineSymlinkSuite('azure', (e) => (env = e));

  it('rotates credentials with /drive-xxxx/update (re-checked against the account)', async () => {
    // azurite knows one key per account, so rotation here re-submits it; a wrong key was refused above.
    const r = await env.tp.call(`${env.drive}/update`, {
      name: 'renamed',
      credentials: { account: env.az!.account, key: env.az!.key },
    });
    expect(r.status).toBe(200);
    const d = (await env.tp.call(`${env.drive}/describe`, {})).body;
    expect(d.name).toBe('renamed');
    expect(d.credentials).toEqual({ account: 'devstoreaccount1', key: '***' });
    const data = randomBytes(5000);
    const { id } = await rawUpload(env, { name: 'rotated.bin', data });
    expect((await downloadFile(env.tp, id)).equals(data)).toBe(true);
  });

  it('hands out Put Block URLs whose Content-MD5 Azure checks: a corrupted body is refused', async () => {
    const n = await env.tp.call('file/new', { project: env.project, name: 'corrupt.bin' });
    const good = randomBytes(1000);
    const { md5 } = await import('./symlink-harness.js');
    const u = await env.tp.call(`${n.body.id}/upload`, { index: 1, size: good.length, md5: md5(good) });
    const { request } = await import('undici');
    const bad = Buffer.from(good);
    bad[0] ^= 0xff;
    const res = await request(u.body.url, { method: 'PUT', headers: u.body.headers, body: bad });
    await res.body.text();
    expect(res.statusCode).toBe(400);
  });
});

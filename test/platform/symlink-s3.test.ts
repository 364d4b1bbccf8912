import { describe, expect, it } from 'vitest';
import { defineSymlinkSuite } from './symlink-suite.js';
import { downloadFile, randomBytes, rawUpload, type SymlinkEnv } from './symlink-harness.js';

describe('auto-symlink project on S3 (s3rver)', () => {
  let env!: SymlinkEnv;
  defineSymlinkSuite('aws', (e) => (env = e));

  it('rotates credentials with /drive-xxxx/update; uploads keep working after the old key is revoked', async () => {
    env.s3!.addAccessKey('ROTATED', 'rotated-secret');
    const r = await env.tp.call(`${env.drive}/update`, {
      credentials: { accessKeyId: 'ROTATED', secretAccessKey: 'rotated-secret' },
    });
    expect(r.status).toBe(200);
    const d = (await env.tp.call(`${env.drive}/describe`, {})).body;
    expect(d.credentials.accessKeyId).toBe('ROTATED');
    expect(JSON.stringify(d)).not.toContain('rotated-secret');
    const data = randomBytes(5000);
    const { id } = await rawUpload(env, { name: 'rotated.bin', data });
    expect((await env.readObject('incoming/rotated.bin')).equals(data)).toBe(true);
    // The platform now signs with the new key: revoking it breaks downloads, proving it is used.
    env.s3!.revokeAccessKey('ROTATED');
    await expect(downloadFile(env.tp, id)).rejects.toThrow();
    env.s3!.addAccessKey('ROTATED', 'rotated-secret');
    expect((await downloadFile(env.tp, id)).equals(data)).toBe(true);
  });
});

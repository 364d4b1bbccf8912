/**
 * Direct mode behind a proxy: the cloud SDKs' requests (S3 into s3rver, Azure into azurite) go
 * through HTTP_PROXY as the platform's do, and NO_PROXY sends them straight. Bytes are read back.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe as suite, expect, it } from 'vitest';
import { startAzurite, startS3rver, type AzuriteHandle, type S3rverHandle } from '../helpers/cloud.js';
import { md5, tempDir, writeRandomFile } from '../helpers/files.js';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
let tp: TestPlatform;
let s3: S3rverHandle;
let az: AzuriteHandle;
let proxy: ForwardProxy;
let tmp: ReturnType<typeof tempDir>;
const projects: Record<'aws' | 'azure', string> = { aws: '', azure: '' };

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 50 });
  s3 = await startS3rver();
  await s3.createBucket('ua-px');
  az = await startAzurite();
  await az.createContainer('ua-px');
  proxy = await startForwardProxy({ auth: 'pat:hunter2' });
  tmp = tempDir();
  for (const [cloud, credentials, endpoint] of [
    ['aws', { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, s3.endpoint],
    ['azure', { account: az.account, key: az.key }, az.endpoint],
  ] as const) {
    const d = await tp.call('drive/new', { name: `px-${cloud}`, cloud, credentials, endpoint });
    expect(d.status).toBe(200);
    const p = await tp.call('project/new', {
      name: `px-${cloud}`,
      defaultSymlink: { drive: d.body.id, container: 'ua-px', prefix: 'p/' },
    });
    expect(p.status).toBe(200);
    projects[cloud] = p.body.id;
  }
});
afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
  await az?.stop();
  await tp?.stop();
  tmp?.cleanup();
});
beforeEach(() => {
  proxy.forwarded.length = 0;
  proxy.tunnels.length = 0;
});

const cloudEnv = {
  aws: () => ({ AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }),
  azure: () => ({ AZURE_STORAGE_ACCOUNT: az.account, AZURE_STORAGE_KEY: az.key }),
};
const endpointOf = { aws: () => s3.endpoint, azure: () => az.endpoint };
const read = (cloud: 'aws' | 'azure', name: string) =>
  cloud === 'aws' ? s3.getObject('ua-px', `p/${name}`) : az.getBlob('ua-px', `p/${name}`);

for (const cloud of ['aws', 'azure'] as const) {
  suite(`direct mode, ${cloud}`, () => {
    it('HTTP_PROXY: the SDK sends through the proxy, with its credentials, and so do the API calls', async () => {
      const name = `via-${cloud}.bin`;
      const data = writeRandomFile(join(tmp.dir, name), 11 * MiB);
      const r = await runUa(
        ['--direct', '-p', projects[cloud], '--do-not-compress', '--chunk-size', '5M', join(tmp.dir, name)],
        {
          env: {
            ...tp.env,
            ...cloudEnv[cloud](),
            UA_STATE_DIR: join(tmp.dir, 'state'),
            HTTP_PROXY: `http://pat:hunter2@127.0.0.1:${proxy.port}`,
          },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const cloudHost = new URL(endpointOf[cloud]()).host;
      const toCloud = proxy.forwarded.filter((f) => f.target.startsWith(endpointOf[cloud]()));
      const toPlatform = proxy.forwarded.filter((f) => f.target.startsWith(tp.url));
      if (cloud === 'aws') {
        // S3 goes through CONNECT tunnels (for an http:// endpoint too, see s3/destination.ts).
        expect(proxy.tunnels.length).toBeGreaterThan(0);
        expect(proxy.tunnels.every((t) => t.target === cloudHost)).toBe(true);
        expect(toCloud).toEqual([]);
      } else {
        // Azure's pipeline forwards by absolute URI: three blocks (5 + 5 + 1 MiB) and the block list.
        expect(toCloud.filter((f) => f.method === 'PUT').length).toBeGreaterThanOrEqual(4);
        expect(proxy.tunnels).toEqual([]);
      }
      expect(toPlatform.length).toBeGreaterThan(0);
      expect(proxy.forwarded.length).toBe(toCloud.length + toPlatform.length);
      expect(new Set(proxy.auth)).toEqual(new Set(['pat:hunter2']));
      expect(md5(await read(cloud, name))).toBe(md5(data));
      expect(r.stderr + r.stdout).not.toContain('hunter2');
    });

    it('NO_PROXY=127.0.0.1: nothing goes through the proxy', async () => {
      const name = `direct-${cloud}.bin`;
      const data = writeRandomFile(join(tmp.dir, name), 6 * MiB);
      const r = await runUa(
        ['--direct', '-p', projects[cloud], '--do-not-compress', '--chunk-size', '5M', join(tmp.dir, name)],
        {
          env: {
            ...tp.env,
            ...cloudEnv[cloud](),
            UA_STATE_DIR: join(tmp.dir, 'state'),
            HTTP_PROXY: `http://pat:hunter2@127.0.0.1:${proxy.port}`,
            NO_PROXY: '127.0.0.1',
          },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.forwarded).toEqual([]);
      expect(md5(await read(cloud, name))).toBe(md5(data));
    });
  });
}

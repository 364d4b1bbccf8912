/**
 * `--throttle` in direct mode: the built `ua` writing into a real s3rver bucket and azurite container
 * takes at least the time the rate implies. The bound is a floor only (the bucket starts empty, so N
 * bytes at R bytes/s cannot take less than about N/R however fast or slow the machine is), with a
 * margin for the last slice, which may pass without waiting. Stored bytes are read back. A part cut
 * off mid-body is retried with a fresh throttled body (the first one is spent), and still lands whole.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { startAzurite, startS3rver, type AzuriteHandle, type S3rverHandle } from '../helpers/cloud.js';
import { startCountingProxy, type CountingProxy, type SeenRequest } from '../helpers/counting-proxy.js';
import { md5, tempDir, writeRandomFile } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describe } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const RATE = 4 * MiB;
/** Three parts at --chunk-size 5M (5, 5 and 2 MiB): multipart on S3, three blocks on Azure. */
const SIZE = 12 * MiB;
/** The floor: N/R less a generous margin (one slice may pass early, and timer granularity). */
const FLOOR_MS = (SIZE / RATE) * 1000 * 0.8;

let tp: TestPlatform;
let s3: S3rverHandle;
let az: AzuriteHandle;
let tmp: ReturnType<typeof tempDir>;
/** In front of each emulator: counts part PUTs and can cut one off. */
const proxies: Partial<Record<'aws' | 'azure', CountingProxy>> = {};

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 50 });
  [s3, az] = await Promise.all([startS3rver(), startAzurite()]);
  await s3.createBucket('ua-throttle');
  await az.createContainer('ua-throttle');
  proxies.aws = await startCountingProxy(s3.endpoint);
  proxies.azure = await startCountingProxy(az.endpoint);
  tmp = tempDir();
});
afterAll(async () => {
  await proxies.aws?.stop();
  await proxies.azure?.stop();
  await s3?.stop();
  await az?.stop();
  await tp?.stop();
  tmp?.cleanup();
});

let drives = 0;
async function projectOn(cloud: 'aws' | 'azure'): Promise<string> {
  const d = await tp.call('drive/new', {
    name: `throttle-${cloud}-${++drives}`,
    cloud,
    credentials:
      cloud === 'aws'
        ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
        : { account: az.account, key: az.key },
    endpoint: proxies[cloud]!.url,
  });
  expect(d.status).toBe(200);
  const p = await tp.call('project/new', {
    name: `throttle-${cloud}-${drives}`,
    defaultSymlink: { drive: d.body.id, container: 'ua-throttle', prefix: 't' },
  });
  expect(p.status).toBe(200);
  return p.body.id;
}

const cloudEnv = (cloud: 'aws' | 'azure'): Record<string, string> =>
  cloud === 'aws'
    ? { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }
    : { AZURE_STORAGE_ACCOUNT: az.account, AZURE_STORAGE_KEY: az.key };

const dataPut = (r: SeenRequest) => r.method === 'PUT' && Number(r.headers['content-length']) > MiB;

/** Cuts the first part PUT off after 1 MiB of its body (the connection is reset mid-request). */
function cutFirstPart(proxy: CountingProxy): void {
  let cut = false;
  proxy.onRequest = (r, req) => {
    if (cut || !dataPut(r)) return 'forward';
    cut = true;
    let got = 0;
    req.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= MiB) req.socket.destroy();
    });
    return 'hold';
  };
}

async function throttledUpload(cloud: 'aws' | 'azure', name: string) {
  const project = await projectOn(cloud);
  const data = writeRandomFile(join(tmp.dir, name), SIZE);
  const t0 = performance.now();
  const r = await runUa(
    [
      '--direct',
      '-p',
      project,
      '--do-not-compress',
      '--chunk-size',
      '5M',
      '--throttle',
      String(RATE),
      join(tmp.dir, name),
    ],
    { env: { ...tp.env, ...cloudEnv(cloud), UA_STATE_DIR: join(tmp.dir, `state-${name}`) } },
  );
  const elapsed = performance.now() - t0;
  expect(r.code, r.stderr).toBe(0);
  const stored =
    cloud === 'aws'
      ? await s3.getObject('ua-throttle', `t/${name}`)
      : await az.getBlob('ua-throttle', `t/${name}`);
  expect(stored.equals(data)).toBe(true);
  expect(await describe(tp, r.stdout.trim())).toMatchObject({ state: 'closed', md5: md5(data) });
  return elapsed;
}

suite('direct mode honours --throttle', () => {
  for (const cloud of ['aws', 'azure'] as const) {
    it(`${cloud}: ${SIZE / MiB} MiB at ${RATE / MiB} MiB/s takes at least ~${SIZE / RATE} s, bytes intact`, async () => {
      const proxy = proxies[cloud]!;
      proxy.reset();
      proxy.onRequest = undefined;
      expect(await throttledUpload(cloud, `${cloud}.bin`)).toBeGreaterThanOrEqual(FLOOR_MS);
      expect(proxy.seen.filter(dataPut)).toHaveLength(3);
    });

    it(`${cloud}: a throttled part cut off mid-body is sent again whole`, async () => {
      const proxy = proxies[cloud]!;
      proxy.reset();
      cutFirstPart(proxy);
      expect(await throttledUpload(cloud, `${cloud}-cut.bin`)).toBeGreaterThanOrEqual(FLOOR_MS);
      // Three parts, one of them twice: the retry had a body of its own.
      expect(proxy.seen.filter(dataPut)).toHaveLength(4);
      proxy.onRequest = undefined;
    });
  }
});

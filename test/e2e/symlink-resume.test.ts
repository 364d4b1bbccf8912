/**
 * kill -9 of the built `ua` mid-upload into an auto-symlink project, platform-mediated (UA_DIRECT=0),
 * then a rerun. A counting proxy in front of the emulator sees every part PUT (and holds the one at
 * which the agent is killed). The rerun's describe asks the container which parts arrived (Azure: the
 * uncommitted block list; S3: ListParts, which the test harness adds to s3rver, here paging two parts at
 * a time), so only the missing parts are PUT; both end byte-exact with the MD5 on describe.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { startAzurite, startS3rver, type AzuriteHandle, type S3rverHandle } from '../helpers/cloud.js';
import {
  killAtRequest,
  startCountingProxy,
  type CountingProxy,
  type SeenRequest,
} from '../helpers/counting-proxy.js';
import { md5, tempDir, writeRandomFile } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describe, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const CONTAINER = 'ua-resume';
const PARTS = 8;

interface CloudUnderTest {
  endpoint: string;
  driveInput(endpoint: string): Record<string, unknown>;
  read(key: string): Promise<Buffer>;
  /** The part number of a part PUT, or undefined for other requests. */
  partOf(r: SeenRequest): number | undefined;
  /** Whether a request asks the container which parts (blocks) of an upload arrived. */
  listsParts(r: SeenRequest): boolean;
  stop(): Promise<void>;
}

async function azure(): Promise<CloudUnderTest> {
  const az: AzuriteHandle = await startAzurite();
  await az.createContainer(CONTAINER);
  return {
    endpoint: az.endpoint,
    driveInput: (endpoint) => ({
      cloud: 'azure',
      credentials: { account: az.account, key: az.key },
      endpoint,
    }),
    read: (key) => az.getBlob(CONTAINER, key),
    // Platform block IDs are base64 of `<file ID body>-<index, 6 digits>`.
    partOf: (r) =>
      r.method === 'PUT' && r.query.get('comp') === 'block'
        ? Number(Buffer.from(r.query.get('blockid')!, 'base64').toString().split('-')[1])
        : undefined,
    listsParts: (r) => r.method === 'GET' && r.query.get('comp') === 'blocklist',
    stop: () => az.stop(),
  };
}

async function s3(): Promise<CloudUnderTest> {
  // Two parts per ListParts answer: the platform must follow NextPartNumberMarker to see parts 1–3.
  const h: S3rverHandle = await startS3rver({ listPartsPageSize: 2 });
  await h.createBucket(CONTAINER);
  return {
    endpoint: h.endpoint,
    driveInput: (endpoint) => ({
      cloud: 'aws',
      credentials: { accessKeyId: h.accessKeyId, secretAccessKey: h.secretAccessKey },
      endpoint,
      region: h.region,
    }),
    read: (key) => h.getObject(CONTAINER, key),
    partOf: (r) =>
      r.method === 'PUT' && r.query.has('uploadId') ? Number(r.query.get('partNumber')) : undefined,
    listsParts: (r) => r.method === 'GET' && r.query.has('uploadId'),
    stop: () => h.stop(),
  };
}

for (const [name, start] of [
  ['azure', azure],
  ['aws', s3],
] as const) {
  suite(`kill -9 mid-upload into an auto-symlink project, then rerun (${name})`, () => {
    let tp: TestPlatform;
    let cloud: CloudUnderTest;
    let proxy: CountingProxy;
    let tmp: ReturnType<typeof tempDir>;
    let project: string;
    beforeAll(async () => {
      tp = await startTestPlatform({ closingDelayMs: 0 });
      cloud = await start();
      proxy = await startCountingProxy(cloud.endpoint);
      tmp = tempDir();
      const d = await tp.call('drive/new', { name: 'lab', ...cloud.driveInput(proxy.url) });
      expect(d.status).toBe(200);
      const p = await tp.call('project/new', {
        name: 'resume',
        defaultSymlink: { drive: d.body.id, container: CONTAINER, prefix: 'in/' },
      });
      expect(p.status).toBe(200);
      project = p.body.id;
    });
    afterAll(async () => {
      await proxy?.stop();
      await cloud?.stop();
      await tp?.stop();
      tmp?.cleanup();
    });

    const args = (path: string) => [
      '-p',
      project,
      '--do-not-compress',
      '--chunk-size',
      '5M',
      '--upload-threads',
      '1',
      path,
    ];
    const env = () => ({ ...tp.env, UA_DIRECT: '0', UA_RETRY_MIN_DELAY_MS: '20' });
    const sentParts = (ok?: boolean) =>
      proxy.seen
        .filter((r) => cloud.partOf(r) !== undefined && (!ok || (r.status !== undefined && r.status < 300)))
        .map((r) => cloud.partOf(r)!)
        .sort((a, b) => a - b);

    it('the rerun sends only the parts that never arrived where the cloud can tell, and ends byte-exact', async () => {
      const path = join(tmp.dir, 'big.bin');
      const data = writeRandomFile(path, PARTS * 5 * MiB);
      proxy.onRequest = () => 'forward';
      const first = await runUa(args(path), {
        env: env(),
        onSpawn: killAtRequest(proxy, (r) => cloud.partOf(r) === 4),
      });
      expect(first.signal).toBe('SIGKILL');
      expect(sentParts(true)).toEqual([1, 2, 3]);

      proxy.reset();
      proxy.onRequest = undefined;
      const rerun = await runUa(args(path), { env: env() });
      expect(rerun.stderr).not.toContain('ERROR');
      expect(rerun.code).toBe(0);
      const id = rerun.stdout.trim();
      expect(sentParts()).toEqual([4, 5, 6, 7, 8]);
      // The platform consulted the container (Azure: uncommitted block list; S3: ListParts).
      const lists = proxy.seen.filter((r) => cloud.listsParts(r));
      expect(lists.length).toBeGreaterThan(0);
      // S3: parts 1–3 span two pages, so some ListParts continued after part 2.
      if (name === 'aws') expect(lists.some((r) => r.query.get('part-number-marker') === '2')).toBe(true);
      const d = await waitClosed(tp, id);
      expect(d).toMatchObject({ state: 'closed', md5: md5(data), size: data.length });
      expect(Object.keys((await describe(tp, id, { parts: true })).parts)).toHaveLength(PARTS);
      expect((await cloud.read('in/big.bin')).equals(data)).toBe(true);
      expect((await describe(tp, id)).symlinkPath).toEqual({ container: CONTAINER, object: 'in/big.bin' });
    });
  });
}

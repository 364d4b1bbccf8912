/**
 * Direct mode into Azure Blob: the built `ua` stages blocks (a one-block file's with its MD5) and commits them
 * into a real azurite container (through a counting proxy) with the user's credentials (account key,
 * connection string or SAS), then registers symlinked files on ua-platform. Bytes are read back.
 */
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { afterAll, beforeAll, beforeEach, describe as suite, expect, it } from 'vitest';
import { Journal } from '../../src/state/journal.js';
import { startAzurite, type AzuriteHandle } from '../helpers/cloud.js';
import { killAtRequest, startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { md5, tempDir, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describe } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const CONTAINER = 'ua-direct';
let tp: TestPlatform;
let az: AzuriteHandle;
let proxy: CountingProxy;
let tmp: ReturnType<typeof tempDir>;
let drive: string;
let project: string;
let stateDir: string;

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 50 });
  az = await startAzurite();
  await az.createContainer(CONTAINER);
  proxy = await startCountingProxy(az.endpoint);
  tmp = tempDir();
  stateDir = join(tmp.dir, 'state');
  const d = await tp.call('drive/new', {
    name: 'lab-azure',
    cloud: 'azure',
    credentials: { account: az.account, key: az.key },
    endpoint: proxy.url,
  });
  expect(d.status).toBe(200);
  drive = d.body.id;
  const p = await tp.call('project/new', {
    name: 'direct-azure',
    defaultSymlink: { drive, container: CONTAINER, prefix: 'in/' },
  });
  expect(p.status).toBe(200);
  project = p.body.id;
});
afterAll(async () => {
  await proxy?.stop();
  await az?.stop();
  await tp?.stop();
  tmp?.cleanup();
});
beforeEach(() => {
  proxy.reset();
  proxy.onRequest = undefined;
  tp.platform.stats.reset();
});

const keyEnv = (extra: Record<string, string> = {}) => ({
  ...tp.env,
  UA_RETRY_MIN_DELAY_MS: '20',
  AZURE_STORAGE_ACCOUNT: az.account,
  AZURE_STORAGE_KEY: az.key,
  UA_STATE_DIR: stateDir,
  ...extra,
});
const ids = (stdout: string) => stdout.trim().split('\n');
const stagedBlocks = () => proxy.seen.filter((r) => r.method === 'PUT' && r.query.get('comp') === 'block');
/** The part index inside a block ID (`<prefix>-<6 digits>`, base64). */
const blockIndex = (r: { query: URLSearchParams }) =>
  Number(Buffer.from(r.query.get('blockid')!, 'base64').toString().split('-')[1]);
const platformUploads = () => [...tp.platform.stats.apiCalls.keys()].filter((k) => k.endsWith('/upload'));

suite('direct mode, Azure', () => {
  it('--direct stages blocks, commits them with the MD5 and registers closed symlinked files', async () => {
    const big = writeRandomFile(join(tmp.dir, 'reads.bin'), 2 * 5 * MiB + 99);
    const text = writeTextFile(join(tmp.dir, 'sample.tsv'), 200_000);
    const r = await runUa(
      [
        '--direct',
        '-p',
        project,
        '-f',
        '/batch1',
        '--chunk-size',
        '5M',
        '--do-not-compress',
        '--wait-on-close',
        '--verify',
        join(tmp.dir, 'reads.bin'),
      ],
      { env: keyEnv() },
    );
    expect(r.code).toBe(0);
    const rc = await runUa(
      ['--direct', '-p', project, '-f', '/batch1', '--visibility', 'hidden', join(tmp.dir, 'sample.tsv')],
      { env: keyEnv() },
    );
    expect(rc.code).toBe(0);

    const obj = await az.getBlob(CONTAINER, 'in/batch1/reads.bin');
    expect(obj.equals(big)).toBe(true);
    expect(await describe(tp, ids(r.stdout)[0])).toMatchObject({
      state: 'closed',
      drive,
      md5: md5(big),
      symlinkPath: { object: 'in/batch1/reads.bin' },
    });
    expect(stagedBlocks().map(blockIndex).sort()).toEqual([1, 1, 2, 3]);
    // Every block carries its own MD5 (Azure checks it); a one-block blob's is the object's too.
    const [one, ...many] = [...stagedBlocks()].sort((a, b) =>
      a.path.endsWith('.gz') ? -1 : b.path.endsWith('.gz') ? 1 : 0,
    );
    many.sort((a, b) => blockIndex(a) - blockIndex(b));
    expect(many.map((b) => blockIndex(b))).toEqual([1, 2, 3]);
    const sizes = [5 * MiB, 5 * MiB, 99];
    expect(many.map((b) => b.headers['content-md5'])).toEqual(
      sizes.map((_, i) =>
        Buffer.from(md5(big.subarray(i * 5 * MiB, i * 5 * MiB + sizes[i])), 'hex').toString('base64'),
      ),
    );
    expect(one.path).toMatch(/sample\.tsv\.gz$/);
    // The blob's Content-MD5 is the whole object's.
    const props = await az
      .service()
      .getContainerClient(CONTAINER)
      .getBlobClient('in/batch1/reads.bin')
      .getProperties();
    expect(Buffer.from(props.contentMD5!).toString('hex')).toBe(md5(big));

    const gz = await az.getBlob(CONTAINER, 'in/batch1/sample.tsv.gz');
    expect(gunzipSync(gz).equals(text)).toBe(true);
    expect(one.headers['content-md5']).toBe(Buffer.from(md5(gz), 'hex').toString('base64'));
    expect(await describe(tp, ids(rc.stdout)[0])).toMatchObject({
      name: 'sample.tsv.gz',
      md5: md5(gz),
      hidden: true,
    });
    expect(platformUploads()).toEqual([]);
  });

  it('takes a connection string or a SAS, and is chosen automatically when they are in the environment', async () => {
    const a = writeRandomFile(join(tmp.dir, 'cs.bin'), 12345);
    const byCs = await runUa(['-p', project, '--do-not-compress', join(tmp.dir, 'cs.bin')], {
      env: { ...tp.env, AZURE_STORAGE_CONNECTION_STRING: az.connectionString, UA_STATE_DIR: stateDir },
    });
    expect(byCs.code).toBe(0);
    expect((await az.getBlob(CONTAINER, 'in/cs.bin')).equals(a)).toBe(true);
    expect(await describe(tp, ids(byCs.stdout)[0])).toMatchObject({ md5: md5(a), drive });

    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        permissions: ContainerSASPermissions.parse('racwl'),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      new StorageSharedKeyCredential(az.account, az.key),
    ).toString();
    const b = writeRandomFile(join(tmp.dir, 'sas.bin'), 6 * MiB);
    const bySas = await runUa(
      ['-p', project, '--do-not-compress', '--chunk-size', '5M', join(tmp.dir, 'sas.bin')],
      {
        env: { ...tp.env, AZURE_STORAGE_SAS_TOKEN: sas, UA_STATE_DIR: stateDir },
      },
    );
    expect(bySas.stderr).not.toContain(sas);
    expect(bySas.code).toBe(0);
    expect((await az.getBlob(CONTAINER, 'in/sas.bin')).equals(b)).toBe(true);
    expect(stagedBlocks().length).toBe(2); // the drive's endpoint (the proxy) + the SAS
    expect(platformUploads()).toEqual([]);
  });

  it('a wrong account key fails with a message naming the blob and the drive', async () => {
    writeRandomFile(join(tmp.dir, 'denied.bin'), 100);
    const wrongKey = Buffer.alloc(64, 7).toString('base64');
    const r = await runUa(['--direct', '-p', project, '--do-not-compress', join(tmp.dir, 'denied.bin')], {
      env: keyEnv({ AZURE_STORAGE_KEY: wrongKey, UA_RETRY_MIN_DELAY_MS: '1' }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /Azure Put Block 1 failed for http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/ua-direct\/in\/denied\.bin: .*HTTP 403/,
    );
    expect(r.stdout + r.stderr).toContain(drive);
    expect(r.stdout + r.stderr).not.toContain(wrongKey);
  });

  it('after kill -9 mid-upload of a compressed file, a rerun stages only the missing blocks and ends byte-exact', async () => {
    const path = join(tmp.dir, 'resume.txt');
    // Random bytes do not compress: parts stay ~5 MiB and each is one block.
    const data = writeRandomFile(path, 6 * 5 * MiB + 10);
    const first = await runUa(['--direct', '-p', project, '--chunk-size', '5M', '-u', '1', path], {
      env: keyEnv(),
      onSpawn: killAtRequest(
        proxy,
        (req) => req.method === 'PUT' && req.query.get('comp') === 'block' && blockIndex(req) === 4,
      ),
    });
    expect(first.signal).toBe('SIGKILL');
    expect(
      stagedBlocks()
        .filter((b) => b.status === 201)
        .map(blockIndex),
    ).toEqual([1, 2, 3]);
    const j = new Journal(stateDir);
    expect(j.count()).toBe(1);
    j.close();

    proxy.reset();
    proxy.onRequest = undefined;
    const rerun = await runUa(['--direct', '-p', project, '--chunk-size', '5M', '-u', '2', path], {
      env: keyEnv(),
    });
    expect(rerun.code).toBe(0);
    expect(stagedBlocks().map(blockIndex).sort()).toEqual([4, 5, 6, 7]);
    // The uncommitted block list was consulted.
    expect(proxy.seen.some((r) => r.method === 'GET' && r.query.get('comp') === 'blocklist')).toBe(true);
    const gz = await az.getBlob(CONTAINER, 'in/resume.txt.gz');
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(await describe(tp, ids(rerun.stdout)[0])).toMatchObject({ md5: md5(gz), state: 'closed' });
    const after = new Journal(stateDir);
    expect(after.count()).toBe(0);
    after.close();
  });
});

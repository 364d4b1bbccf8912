/**
 * Direct mode into S3: the built `ua` writes straight into a real s3rver bucket (through a counting
 * proxy) with the user's credentials from the environment and registers symlinked files on
 * ua-platform. Bytes are read back from the bucket; the platform itself checks md5sum against the
 * object at registration, and we compare it with the source's MD5.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe as suite, expect, it } from 'vitest';
import { CompleteMultipartUploadCommand, ListPartsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { Journal } from '../../src/state/journal.js';
import { startS3rver, type S3rverHandle } from '../helpers/cloud.js';
import { killAtRequest, startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { md5, tempDir, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describe } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const BUCKET = 'ua-direct';
let tp: TestPlatform;
let s3: S3rverHandle;
let proxy: CountingProxy;
let tmp: ReturnType<typeof tempDir>;
let drive: string;
let project: string;
let stateDir: string;

beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 50 });
  // Two parts per ListParts answer (the harness adds ListParts to s3rver): a resume walks the paging.
  s3 = await startS3rver({ listPartsPageSize: 2 });
  await s3.createBucket(BUCKET);
  proxy = await startCountingProxy(s3.endpoint);
  tmp = tempDir();
  stateDir = join(tmp.dir, 'state');
  const d = await tp.call('drive/new', {
    name: 'lab-s3',
    cloud: 'aws',
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    endpoint: proxy.url,
  });
  expect(d.status).toBe(200);
  drive = d.body.id;
  const p = await tp.call('project/new', {
    name: 'direct-s3',
    defaultSymlink: { drive, container: BUCKET, prefix: 'runs' },
  });
  expect(p.status).toBe(200);
  project = p.body.id;
});
afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
  await tp?.stop();
  tmp?.cleanup();
});
beforeEach(() => {
  proxy.reset();
  proxy.onRequest = undefined;
  tp.platform.stats.reset();
});

const env = (extra: Record<string, string> = {}) => ({
  ...tp.env,
  UA_RETRY_MIN_DELAY_MS: '20',
  AWS_ACCESS_KEY_ID: s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  UA_STATE_DIR: stateDir,
  ...extra,
});
const ids = (stdout: string) => stdout.trim().split('\n');
const partPuts = () => proxy.seen.filter((r) => r.method === 'PUT' && r.query.has('partNumber'));
const listParts = () => proxy.seen.filter((r) => r.method === 'GET' && r.query.has('uploadId'));
const platformUploads = () => [...tp.platform.stats.apiCalls.keys()].filter((k) => k.endsWith('/upload'));

/**
 * A new local file `name` of `size` random bytes, and a one-thread --direct run of it killed -9 when
 * part 3 reaches the proxy (held, so parts 1–2 are the ones acknowledged); returns the bytes and args.
 */
async function killedAtPart3(name: string, size: number): Promise<{ data: Buffer; args: string[] }> {
  const path = join(tmp.dir, name);
  const data = writeRandomFile(path, size);
  const args = ['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', '-u', '1', path];
  const killedRun = await runUa(args, {
    env: env(),
    onSpawn: killAtRequest(proxy, (req) => req.method === 'PUT' && req.query.get('partNumber') === '3'),
  });
  expect(killedRun.signal).toBe('SIGKILL');
  return { data, args };
}

suite('direct mode, S3', () => {
  it('--direct writes into the bucket and registers closed symlinked files with the right MD5', async () => {
    // Already gzipped (sniffed, sent as is): the object's MD5 is the source's.
    const big = gzipSync(randomBytes(3 * 5 * MiB + 1234), { level: 1 });
    writeFileSync(join(tmp.dir, 'big.bin.gz'), big);
    const text = writeTextFile(join(tmp.dir, 'notes.txt'), 300_000);
    writeRandomFile(join(tmp.dir, 'empty.dat'), 0);
    const r = await runUa(
      [
        '--direct',
        '-p',
        project,
        '-f',
        '/sub/dir',
        '--chunk-size',
        '5M',
        '--property',
        'lab=x1',
        '--tag',
        'raw',
        join(tmp.dir, 'big.bin.gz'),
        join(tmp.dir, 'notes.txt'),
        join(tmp.dir, 'empty.dat'),
      ],
      { env: env() },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const [bigId, textId, emptyId] = ids(r.stdout);

    const bigObj = await s3.getObject(BUCKET, 'runs/sub/dir/big.bin.gz');
    expect(bigObj.equals(big)).toBe(true);
    const d = await describe(tp, bigId, { properties: true });
    expect(d).toMatchObject({
      state: 'closed',
      name: 'big.bin.gz',
      folder: '/sub/dir',
      drive,
      md5: md5(big),
      symlinkPath: { object: 'runs/sub/dir/big.bin.gz' },
      tags: ['raw'],
    });
    expect(d.symlinkPath.container).toContain(BUCKET);
    expect(d.properties.lab).toBe('x1');
    expect(d.properties['.system-fileSignature']).toMatch(/^\d+ \d+ 0 5242880 /);

    // Compressed: the object holds gzip members; the recorded MD5 is the stored bytes'.
    const textObj = await s3.getObject(BUCKET, 'runs/sub/dir/notes.txt.gz');
    expect(gunzipSync(textObj).equals(text)).toBe(true);
    expect(await describe(tp, textId)).toMatchObject({
      name: 'notes.txt.gz',
      md5: md5(textObj),
      state: 'closed',
    });

    const emptyObj = await s3.getObject(BUCKET, 'runs/sub/dir/empty.dat');
    expect(emptyObj.length).toBe(0);
    expect(await describe(tp, emptyId)).toMatchObject({
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
      state: 'closed',
    });

    // The bytes went to the bucket, never through the platform. Each part carries the CRC32 of its
    // bytes (S3 checks it; the upload was created with that algorithm) and no Content-MD5: the one
    // MD5 pass is the object's. The payload is not hashed again for the signature.
    expect(
      partPuts()
        .map((p) => Number(p.query.get('partNumber')))
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    for (const p of partPuts()) {
      const n = Number(p.query.get('partNumber'));
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(big.subarray((n - 1) * 5 * MiB, n * 5 * MiB)));
      expect(p.headers['x-amz-checksum-crc32']).toBe(crc.toString('base64'));
      expect(p.headers['content-md5']).toBeUndefined();
      expect(p.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    }
    const created = proxy.seen.filter((r) => r.method === 'POST' && r.query.has('uploads'));
    expect(created.map((r) => r.headers['x-amz-checksum-algorithm'])).toEqual(['CRC32']);
    // A one-part file is one PutObject with its Content-MD5, which is the object's MD5 too.
    const single = proxy.seen.find((r) => r.method === 'PUT' && r.path.endsWith('/notes.txt.gz'));
    expect(single?.headers['content-md5']).toBe(Buffer.from(md5(textObj), 'hex').toString('base64'));
    expect(single?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(platformUploads()).toEqual([]);
    expect(tp.platform.stats.okPuts()).toEqual([]);
    // Registered and done: nothing is left in the journal.
    const j = new Journal(stateDir);
    expect(j.count()).toBe(0);
    j.close();
  });

  it('is chosen automatically for an auto-symlink project when AWS credentials are in the environment, and not with UA_DIRECT=0', async () => {
    const data = writeRandomFile(join(tmp.dir, 'auto.bin'), 6 * MiB);
    const r = await runUa(
      ['-p', project, '--do-not-compress', '--chunk-size', '5M', join(tmp.dir, 'auto.bin')],
      { env: env() },
    );
    expect(r.code).toBe(0);
    expect((await s3.getObject(BUCKET, 'runs/auto.bin')).equals(data)).toBe(true);
    expect(partPuts().length).toBe(2);
    expect(platformUploads()).toEqual([]);
    expect(await describe(tp, ids(r.stdout)[0])).toMatchObject({ md5: md5(data), drive });

    proxy.reset();
    const other = writeRandomFile(join(tmp.dir, 'auto2.bin'), 1000);
    const off = await runUa(['-p', project, '--do-not-compress', join(tmp.dir, 'auto2.bin')], {
      env: env({ UA_DIRECT: '0' }),
    });
    expect(off.code).toBe(0);
    // Platform-mediated: the agent asked the platform for upload URLs.
    expect(platformUploads().length).toBeGreaterThan(0);
    expect((await s3.getObject(BUCKET, 'runs/auto2.bin')).equals(other)).toBe(true);
  });

  // s3rver checks the access key ID but not SigV4 signatures, so the wrong credential is the key ID.
  it('wrong credentials fail with a message naming the object and the drive', async () => {
    writeRandomFile(join(tmp.dir, 'denied.bin'), 1000);
    const r = await runUa(['--direct', '-p', project, '--do-not-compress', join(tmp.dir, 'denied.bin')], {
      env: env({ AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: 'wrong-secret' }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(
      /S3 PutObject failed for s3:\/\/ua-direct\/runs\/denied\.bin .*InvalidAccessKeyId/,
    );
    expect(r.stderr + r.stdout).toContain(drive);
    expect(r.stderr + r.stdout).not.toContain('wrong-secret');
  });

  it('--direct refuses a project that does not auto-symlink', async () => {
    writeRandomFile(join(tmp.dir, 'plain.bin'), 10);
    const r = await runUa(['--direct', '-p', tp.project, join(tmp.dir, 'plain.bin')], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not auto-symlink/);
  });

  it('after kill -9 mid-upload, a rerun sends only the parts the journal lacks and ends byte-exact', async () => {
    const path = join(tmp.dir, 'resume.bin');
    const data = writeRandomFile(path, 8 * 5 * MiB + 77);
    const total = 9;
    // One upload thread: when part 4 arrives, parts 1–3 were acknowledged and journaled. Hold it and kill.
    const killedRun = await runUa(
      ['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', '-u', '1', path],
      {
        env: env(),
        onSpawn: killAtRequest(proxy, (req) => req.method === 'PUT' && req.query.get('partNumber') === '4'),
      },
    );
    expect(killedRun.signal).toBe('SIGKILL');
    const j = new Journal(stateDir);
    expect(j.count()).toBe(1);
    j.close();
    const firstRun = partPuts()
      .filter((p) => p.status === 200)
      .map((p) => Number(p.query.get('partNumber')));
    expect(firstRun.sort()).toEqual([1, 2, 3]);

    proxy.reset();
    proxy.onRequest = undefined;
    const rerun = await runUa(
      ['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', '-u', '2', path],
      { env: env() },
    );
    expect(rerun.stderr).not.toMatch(/error/i);
    expect(rerun.code).toBe(0);
    const sent = partPuts().map((p) => Number(p.query.get('partNumber')));
    expect(sent.sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(sent.length).toBe(total - 3);
    expect(proxy.seen.some((p) => p.method === 'POST' && p.query.has('uploads'))).toBe(false); // same multipart upload
    // The journal's parts 1–3 were confirmed by ListParts, two parts per page.
    expect(listParts().map((r) => r.query.get('part-number-marker'))).toEqual([null, '2']);
    const obj = await s3.getObject(BUCKET, 'runs/resume.bin');
    expect(obj.equals(data)).toBe(true);
    const d = await describe(tp, ids(rerun.stdout)[0]);
    expect(d.md5).toBe(md5(data));
    const after = new Journal(stateDir);
    expect(after.count()).toBe(0);
    after.close();

    // A third run finds the registered file by its signature: nothing is sent.
    proxy.reset();
    const again = await runUa(['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', path], {
      env: env(),
    });
    expect(again.code).toBe(0);
    expect(ids(again.stdout)[0]).toBe(ids(rerun.stdout)[0]);
    expect(partPuts()).toEqual([]);
  });

  it('an upload journalled with Content-MD5 parts (by a ua before CRC32 parts) is finished with Content-MD5 parts', async () => {
    const { data, args } = await killedAtPart3('legacy.bin', 3 * 5 * MiB + 5);
    // What the earlier journal held: each part's MD5, no CRC32.
    const db = new Database(join(stateDir, 'direct-uploads.sqlite'));
    const rows = db.prepare('SELECT idx FROM parts').all() as Array<{ idx: number }>;
    expect(rows.map((r) => r.idx).sort()).toEqual([1, 2]);
    for (const { idx } of rows)
      db.prepare('UPDATE parts SET crc32 = NULL, md5 = ? WHERE idx = ?').run(
        md5(data.subarray((idx - 1) * 5 * MiB, idx * 5 * MiB)),
        idx,
      );
    db.close();

    proxy.reset();
    proxy.onRequest = undefined;
    const rerun = await runUa(args, { env: env() });
    expect(rerun.stderr).not.toMatch(/error/i);
    expect(rerun.code).toBe(0);
    expect(proxy.seen.some((p) => p.method === 'POST' && p.query.has('uploads'))).toBe(false);
    const puts = partPuts();
    expect(puts.map((p) => Number(p.query.get('partNumber'))).sort()).toEqual([3, 4]);
    for (const p of puts) {
      const n = Number(p.query.get('partNumber'));
      const bytes = data.subarray((n - 1) * 5 * MiB, n * 5 * MiB);
      expect(p.headers['content-md5']).toBe(Buffer.from(md5(bytes), 'hex').toString('base64'));
      expect(p.headers['x-amz-checksum-crc32']).toBeUndefined();
    }
    expect((await s3.getObject(BUCKET, 'runs/legacy.bin')).equals(data)).toBe(true);
    expect(await describe(tp, ids(rerun.stdout)[0])).toMatchObject({ md5: md5(data), state: 'closed' });
  });

  it('after kill -9, a journalled part that the upload no longer holds (ListParts shows other bytes) is sent again', async () => {
    const { data, args } = await killedAtPart3('changed.bin', 3 * 5 * MiB + 11);
    const acked = partPuts().filter((p) => p.status === 200);
    expect(acked.map((p) => Number(p.query.get('partNumber'))).sort()).toEqual([1, 2]);
    // Someone else's bytes replace part 1 of the same upload (straight to s3rver, not via the proxy).
    const client = s3.client();
    await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'runs/changed.bin',
        UploadId: acked[0].query.get('uploadId')!,
        PartNumber: 1,
        Body: randomBytes(5 * MiB),
      }),
    );
    client.destroy();

    proxy.reset();
    proxy.onRequest = undefined;
    const rerun = await runUa(args, { env: env() });
    expect(rerun.stderr).not.toMatch(/error/i);
    expect(rerun.code).toBe(0);
    expect(listParts().length).toBeGreaterThan(0);
    // Part 2 is still the journalled one; part 1 is not; parts 3 and 4 (11 bytes) never arrived.
    expect(
      partPuts()
        .map((p) => Number(p.query.get('partNumber')))
        .sort(),
    ).toEqual([1, 3, 4]);
    expect(proxy.seen.some((p) => p.method === 'POST' && p.query.has('uploads'))).toBe(false);
    expect((await s3.getObject(BUCKET, 'runs/changed.bin')).equals(data)).toBe(true);
    expect(await describe(tp, ids(rerun.stdout)[0])).toMatchObject({ md5: md5(data), state: 'closed' });
  });

  it('after kill -9, an upload S3 no longer knows (ListParts: NoSuchUpload) is started over and ends byte-exact', async () => {
    const { data, args } = await killedAtPart3('gone.bin', 3 * 5 * MiB);
    const uploadId = partPuts()[0].query.get('uploadId')!;
    // The upload ends behind the agent's back (completed with what it holds, as a lifecycle rule or
    // another client might): its ID is no longer known.
    const client = s3.client();
    const listed = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'runs/gone.bin', UploadId: uploadId }),
    );
    expect(listed.Parts!.map((p) => p.PartNumber)).toEqual([1, 2]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'runs/gone.bin',
        UploadId: uploadId,
        MultipartUpload: { Parts: listed.Parts!.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }),
    );
    client.destroy();

    proxy.reset();
    proxy.onRequest = undefined;
    const rerun = await runUa(args, { env: env() });
    expect(rerun.stderr).not.toMatch(/error/i);
    expect(rerun.code).toBe(0);
    expect(listParts().map((r) => r.status)).toEqual([404]);
    // A new multipart upload, every part sent into it.
    expect(proxy.seen.filter((p) => p.method === 'POST' && p.query.has('uploads'))).toHaveLength(1);
    const puts = partPuts();
    expect(puts.map((p) => Number(p.query.get('partNumber'))).sort()).toEqual([1, 2, 3]);
    expect(puts.every((p) => p.query.get('uploadId') !== uploadId)).toBe(true);
    expect((await s3.getObject(BUCKET, 'runs/gone.bin')).equals(data)).toBe(true);
    expect(await describe(tp, ids(rerun.stdout)[0])).toMatchObject({ md5: md5(data), state: 'closed' });
  });

  it('a run that completed the object but could not register it is finished by a rerun without sending bytes again', async () => {
    const path = join(tmp.dir, 'unregistered.bin');
    const data = writeRandomFile(path, 2 * 5 * MiB + 5);
    tp.platform.faults.add({ target: 'api', route: 'file/new', action: 'status', status: 500, count: 100 });
    const failed = await runUa(['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', path], {
      env: env(),
    });
    tp.platform.faults.clear();
    expect(failed.code).toBe(1);
    expect(proxy.seen.some((r) => r.method === 'POST' && r.query.has('uploadId'))).toBe(true); // completed
    const j = new Journal(stateDir);
    expect(j.count()).toBe(1);
    j.close();

    proxy.reset();
    const rerun = await runUa(['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', path], {
      env: env(),
    });
    expect(rerun.code).toBe(0);
    expect(partPuts()).toEqual([]);
    expect(proxy.seen.filter((r) => r.method === 'POST')).toEqual([]);
    expect((await s3.getObject(BUCKET, 'runs/unregistered.bin')).equals(data)).toBe(true);
    expect(await describe(tp, ids(rerun.stdout)[0])).toMatchObject({ md5: md5(data), state: 'closed' });
  });

  it('streams stdin into a multipart upload', async () => {
    const data = randomBytes(7 * MiB);
    const r = await runUa(
      ['--direct', '-p', project, '--do-not-compress', '--chunk-size', '5M', '-i', 'piped.bin'],
      {
        env: env(),
        stdin: data,
      },
    );
    expect(r.code).toBe(0);
    expect((await s3.getObject(BUCKET, 'runs/piped.bin')).equals(data)).toBe(true);
    expect(partPuts().length).toBe(2);
    expect(await describe(tp, ids(r.stdout)[0])).toMatchObject({ md5: md5(data), name: 'piped.bin' });
  });

  it('without cloud credentials in the environment, an auto-symlink project is uploaded through the platform with no extra calls', async () => {
    const data = writeRandomFile(join(tmp.dir, 'nocreds.bin'), 2000);
    const noCloud = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AZURE_STORAGE_CONNECTION_STRING: '',
      AZURE_STORAGE_KEY: '',
      AZURE_STORAGE_SAS_TOKEN: '',
    };
    const r = await runUa(['-p', project, '--do-not-compress', join(tmp.dir, 'nocreds.bin')], {
      env: { ...tp.env, ...noCloud },
    });
    expect(r.code).toBe(0);
    expect(platformUploads().length).toBeGreaterThan(0);
    expect([...tp.platform.stats.apiCalls.keys()].filter((k) => k.includes('drive'))).toEqual([]);
    expect((await s3.getObject(BUCKET, 'runs/nocreds.bin')).equals(data)).toBe(true);
  });
});

/**
 * Shared pieces of the auto-symlink tests: a platform plus a real emulator (s3rver or azurite), a
 * drive, an auto-symlink project, and a raw-API uploader that PUTs parts to the URLs /upload returns.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { startAzurite, startS3rver, type AzuriteHandle, type S3rverHandle } from '../helpers/cloud.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { downloadFile, waitClosed } from '../helpers/remote.js';

export type CloudName = 'aws' | 'azure';

export interface SymlinkEnv {
  tp: TestPlatform;
  cloud: CloudName;
  s3?: S3rverHandle;
  az?: AzuriteHandle;
  container: string;
  prefix: string;
  drive: string;
  /** A project auto-symlinking into `container` under `prefix`. */
  project: string;
  /** The drive/new input for this emulator (valid credentials). */
  driveInput(name: string, credentials?: Record<string, string>): Record<string, unknown>;
  /** The object's bytes, read straight from the emulator. */
  readObject(key: string): Promise<Buffer>;
  /** Writes an object in one request, as a client with its own credentials would (the cloud then states its MD5). */
  writeObject(key: string, data: Buffer): Promise<void>;
  stop(): Promise<void>;
}

export const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

export async function startSymlinkEnv(cloud: CloudName): Promise<SymlinkEnv> {
  const tp = await startTestPlatform({ closingDelayMs: 0 });
  const container = 'ua-bucket';
  const prefix = 'incoming/';
  let s3: S3rverHandle | undefined;
  let az: AzuriteHandle | undefined;
  let driveInput: SymlinkEnv['driveInput'];
  let readObject: SymlinkEnv['readObject'];
  let writeObject: SymlinkEnv['writeObject'];
  if (cloud === 'aws') {
    s3 = await startS3rver();
    await s3.createBucket(container);
    const h = s3;
    driveInput = (
      name,
      credentials = { accessKeyId: h.accessKeyId, secretAccessKey: h.secretAccessKey },
    ) => ({
      name,
      cloud,
      credentials,
      endpoint: h.endpoint,
      region: h.region,
    });
    readObject = (key) => h.getObject(container, key);
    writeObject = async (key, data) => {
      const c = h.client();
      try {
        await c.send(new PutObjectCommand({ Bucket: container, Key: key, Body: data }));
      } finally {
        c.destroy();
      }
    };
  } else {
    az = await startAzurite();
    await az.createContainer(container);
    const h = az;
    driveInput = (name, credentials = { account: h.account, key: h.key }) => ({
      name,
      cloud,
      credentials,
      endpoint: h.endpoint,
    });
    readObject = (key) => h.getBlob(container, key);
    writeObject = async (key, data) => {
      await h
        .service()
        .getContainerClient(container)
        .getBlockBlobClient(key)
        .upload(data, data.length, {
          blobHTTPHeaders: { blobContentMD5: createHash('md5').update(data).digest() },
        });
    };
  }
  const d = await tp.call('drive/new', driveInput('lab-drive'));
  if (d.status !== 200) throw new Error(`drive/new: ${d.status} ${JSON.stringify(d.body)}`);
  const p = await tp.call('project/new', {
    name: 'auto',
    defaultSymlink: { drive: d.body.id, container, prefix },
  });
  if (p.status !== 200) throw new Error(`project/new: ${p.status} ${JSON.stringify(p.body)}`);
  return {
    tp,
    cloud,
    s3,
    az,
    container,
    prefix,
    drive: d.body.id as string,
    project: p.body.id as string,
    driveInput,
    readObject,
    writeObject,
    async stop() {
      await tp.stop();
      await s3?.stop();
      await az?.stop();
    },
  };
}

/** Splits `data` into parts of `partSize` (the last one shorter); an empty file is one empty part. */
export function splitParts(data: Buffer, partSize: number): Buffer[] {
  if (data.length === 0) return [Buffer.alloc(0)];
  const parts: Buffer[] = [];
  for (let o = 0; o < data.length; o += partSize) parts.push(data.subarray(o, o + partSize));
  return parts;
}

/** /upload for one part, then a PUT of its bytes with exactly the returned headers (no auth). */
export async function putPart(
  tp: TestPlatform,
  fileId: string,
  index: number,
  bytes: Buffer,
): Promise<{ status: number; url: string }> {
  const u = await tp.call(`${fileId}/upload`, { index, size: bytes.length, md5: md5(bytes) });
  if (u.status !== 200)
    throw new Error(`upload ${fileId} part ${index}: ${u.status} ${JSON.stringify(u.body)}`);
  const res = await request(u.body.url as string, {
    method: 'PUT',
    headers: u.body.headers as Record<string, string>,
    body: bytes,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`PUT part ${index}: ${res.statusCode} ${text.slice(0, 300)}`);
  return { status: res.statusCode, url: u.body.url as string };
}

/** file/new → upload + PUT every part → close → wait closed; returns the file ID and its describe. */
export async function rawUpload(
  env: SymlinkEnv,
  o: { name: string; data: Buffer; partSize?: number; folder?: string; project?: string },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ id: string; describe: any }> {
  const n = await env.tp.call('file/new', {
    project: o.project ?? env.project,
    name: o.name,
    folder: o.folder ?? '/',
    parents: true,
  });
  if (n.status !== 200) throw new Error(`file/new: ${n.status} ${JSON.stringify(n.body)}`);
  const id = n.body.id as string;
  const parts = splitParts(o.data, o.partSize ?? 5 * 1024 * 1024);
  for (let i = 0; i < parts.length; i++) await putPart(env.tp, id, i + 1, parts[i]);
  const c = await env.tp.call(`${id}/close`, {});
  if (c.status !== 200) throw new Error(`close: ${c.status} ${JSON.stringify(c.body)}`);
  await waitClosed(env.tp, id);
  // `parts` is not a default describe field: ask for it with the defaults, as dxpy does.
  const d = await env.tp.call(`${id}/describe`, { fields: { parts: true }, defaultFields: true });
  return { id, describe: d.body };
}

export { downloadFile, randomBytes };

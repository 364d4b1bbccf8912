/**
 * After a direct-mode row, the objects it stored are read back and compared with the local files, so a
 * row that stored nothing (or the wrong bytes) cannot pass for a fast one. Each object under the row's
 * prefix is downloaded and hashed; every local file must be there once, by name, with its MD5. This
 * runs outside the timed section (it is not part of any tool's cost).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';

async function md5Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of stream) h.update(chunk);
  return h.digest('hex');
}

const localCache = new Map<string, Map<string, string>>();

/** File name → MD5 of a file or of a folder's files (computed once per input). */
export async function localMd5s(input: string): Promise<Map<string, string>> {
  const hit = localCache.get(input);
  if (hit) return hit;
  const paths = statSync(input).isDirectory() ? readdirSync(input).map((f) => join(input, f)) : [input];
  const m = new Map<string, string>();
  for (const p of paths) m.set(basename(p), await md5Of(createReadStream(p, { highWaterMark: 4 << 20 })));
  localCache.set(input, m);
  return m;
}

/** Compares stored name → MD5 with the local files; undefined when they match, else what is wrong. */
function compare(stored: Map<string, string>, local: Map<string, string>, where: string): string | undefined {
  for (const [name, md5] of local) {
    const got = stored.get(name);
    if (got === undefined) return `${name} is missing under ${where} (${stored.size} objects there)`;
    if (got !== md5) return `${name} under ${where} has MD5 ${got}, the local file ${md5}`;
  }
  if (stored.size !== local.size) return `${stored.size} objects under ${where}, ${local.size} local files`;
  return undefined;
}

export async function checkS3(
  client: S3Client,
  bucket: string,
  prefix: string,
  input: string,
): Promise<string | undefined> {
  const stored = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      stored.set(basename(o.Key!), await md5Of(got.Body as Readable));
    }
    token = page.NextContinuationToken;
  } while (token);
  return compare(stored, await localMd5s(input), `s3://${bucket}/${prefix}`);
}

export async function checkAzure(
  container: ContainerClient,
  prefix: string,
  input: string,
): Promise<string | undefined> {
  const stored = new Map<string, string>();
  for await (const b of container.listBlobsFlat({ prefix })) {
    const got = await container.getBlobClient(b.name).download();
    stored.set(basename(b.name), await md5Of(got.readableStreamBody as Readable));
  }
  return compare(stored, await localMd5s(input), `${container.containerName}/${prefix}`);
}

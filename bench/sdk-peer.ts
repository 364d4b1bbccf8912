/**
 * The cloud SDKs' own upload helpers, as peers for direct mode (what a script would use instead of ua):
 *
 *   node dist/bench/sdk-peer.js s3 <endpoint> <bucket> <path…>        @aws-sdk/lib-storage Upload (S3RVER keys)
 *   node dist/bench/sdk-peer.js azure <connection string> <container> <path…>   BlockBlobClient.uploadFile
 *
 * Files go one after another with each helper's default part size and concurrency, except a
 * 4-way queue for S3 (lib-storage's default) and 5 for Azure.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobServiceClient } from '@azure/storage-blob';

async function s3(endpoint: string, bucket: string, paths: string[]): Promise<void> {
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver stores aws-chunked framing as data; send checksums only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  for (const p of paths) {
    await new Upload({
      client,
      params: { Bucket: bucket, Key: `sdk/${basename(p)}`, Body: createReadStream(p) },
      queueSize: 4,
      partSize: 8 * 1024 * 1024,
    }).done();
  }
  client.destroy();
}

async function azure(conn: string, container: string, paths: string[]): Promise<void> {
  const c = BlobServiceClient.fromConnectionString(conn).getContainerClient(container);
  for (const p of paths) await c.getBlockBlobClient(`sdk/${basename(p)}`).uploadFile(p, { concurrency: 5 });
}

const [kind, where, bucket, ...paths] = process.argv.slice(2);
if (kind === 's3') await s3(where, bucket, paths);
else if (kind === 'azure') await azure(where, bucket, paths);
else throw new Error('usage: sdk-peer.js s3|azure <endpoint|connection string> <bucket> <path…>');

/**
 * Real cloud-storage emulators for tests: s3rver (S3) and azurite (Azure Blob), both run in the test
 * process on 127.0.0.1 with a random port and their data under a fresh temp folder, removed on stop().
 *
 * Known s3rver gaps (measured): no ListParts, no ListMultipartUploads, no AbortMultipartUpload, no
 * Content-MD5 check, and `aws-chunked` streaming bodies are stored with their framing. So the S3 client
 * here sends checksums only when required, and tests must read bytes back instead of trusting the server.
 * ListParts is the one gap filled here (./s3rver-list-parts.ts, against s3rver's own store), along with
 * S3's InvalidPart answer to completing an upload whose part is missing: resume paths depend on both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { addListParts, type S3rverApp } from './s3rver-list-parts.js';

const require = createRequire(import.meta.url);

export interface S3rverHandle {
  /** `http://127.0.0.1:PORT` (path-style buckets). */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** An S3 client for this server with the settings s3rver needs (path style, checksums when required). */
  client(creds?: { accessKeyId: string; secretAccessKey: string }): S3Client;
  createBucket(name: string): Promise<void>;
  getObject(bucket: string, key: string): Promise<Buffer>;
  /** Adds a second valid key pair (s3rver keeps its accounts process-wide): credential rotation tests. */
  addAccessKey(accessKeyId: string, secretAccessKey: string): void;
  /** Revokes a key pair added with addAccessKey. */
  revokeAccessKey(accessKeyId: string): void;
  stop(): Promise<void>;
}

export interface AzuriteHandle {
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  endpoint: string;
  account: 'devstoreaccount1';
  /** The well-known development key (base64). */
  key: string;
  connectionString: string;
  service(): BlobServiceClient;
  createContainer(name: string): Promise<void>;
  getBlob(container: string, name: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

// The emulators ship no type declarations: these are the few members we use.
interface S3rverServer extends S3rverApp {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (o: Record<string, unknown>) => S3rverServer;
interface AwsAccount {
  createKeyPair(id: string, secret: string): void;
  revokeAccessKey(id: string): void;
}

/**
 * Starts s3rver with its built-in key pair S3RVER/S3RVER. `listPartsPageSize` caps how many parts one
 * ListParts answer holds (S3: 1000), so resume tests with a few parts also walk the paging.
 */
export async function startS3rver(o: { listPartsPageSize?: number } = {}): Promise<S3rverHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'ua-s3rver-'));
  const S3rver = require('s3rver') as S3rverCtor;
  const account = (require('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: AwsAccount }).DUMMY_ACCOUNT;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  addListParts(server, o.listPartsPageSize);
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const added: string[] = [];
  const base = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = (creds = base): S3Client => s3Client(endpoint, creds);
  const admin = client();
  return {
    endpoint,
    ...base,
    region: 'us-east-1',
    client,
    async createBucket(name) {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    async getObject(bucket, key) {
      const out = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    addAccessKey(id, secret) {
      account.createKeyPair(id, secret);
      added.push(id);
    },
    revokeAccessKey(id) {
      account.revokeAccessKey(id);
    },
    async stop() {
      for (const id of added) account.revokeAccessKey(id);
      admin.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An S3 client configured for s3rver: path-style, plain bodies with a known length. */
export function s3Client(
  endpoint: string,
  creds: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: creds,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}

/** Starts azurite's blob service in-process (loose, no API-version check, no logs), data under a temp dir. */
export async function startAzurite(): Promise<AzuriteHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'ua-azurite-'));
  const BlobServer = (
    require('azurite/dist/src/blob/BlobServer.js') as { default: new (c: unknown) => AzuriteServer }
  ).default;
  const BlobConfiguration = (
    require('azurite/dist/src/blob/BlobConfiguration.js') as { default: new (...a: unknown[]) => unknown }
  ).default;
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    undefined, // keepAliveTimeout: default
    join(dir, '__azurite_db_blob__.json'),
    join(dir, '__azurite_db_blob_extent__.json'),
    [{ locationId: 'Default', locationPath: join(dir, 'blobs'), maxConcurrency: 10 }],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    true, // loose
    true, // skipApiVersionCheck
  );
  const server = new BlobServer(config);
  await server.start();
  const port = new URL(server.getHttpServerAddress()).port;
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=${endpoint};`;
  const service = (): BlobServiceClient =>
    new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  const admin = service();
  return {
    endpoint,
    account: AZURITE_ACCOUNT,
    key: AZURITE_KEY,
    connectionString,
    service,
    async createContainer(name) {
      await admin.getContainerClient(name).create();
    },
    async getBlob(container, name) {
      return admin.getContainerClient(container).getBlobClient(name).downloadToBuffer();
    },
    async stop() {
      await server.close();
      await server.clean().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

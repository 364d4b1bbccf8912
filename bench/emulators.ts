/**
 * s3rver and azurite started in this process on 127.0.0.1 with a random port and their data in a temp
 * folder, for benchmarks (the tests have their own copy in test/helpers/cloud.ts, which the build
 * does not emit). Their CPU is this process's CPU.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

const require = createRequire(import.meta.url);

export interface Emulator {
  cloud: 'aws' | 'azure';
  /** What /drive/new needs. */
  endpoint: string;
  credentials: Record<string, string>;
  /** What a client process needs in its environment to write with these credentials. */
  clientEnv: Record<string, string>;
  createContainer(name: string): Promise<void>;
  stop(): Promise<void>;
}

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function startS3rverBench(): Promise<Emulator> {
  const dir = await mkdtemp(join(tmpdir(), 'ua-bench-s3rver-'));
  const S3rver = require('s3rver') as new (o: object) => {
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  };
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const admin = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    cloud: 'aws',
    endpoint,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    clientEnv: {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_DEFAULT_REGION: 'us-east-1',
    },
    createContainer: async (name) => void (await admin.send(new CreateBucketCommand({ Bucket: name }))),
    async stop() {
      admin.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startAzuriteBench(): Promise<Emulator> {
  const dir = await mkdtemp(join(tmpdir(), 'ua-bench-azurite-'));
  const BlobServer = (
    require('azurite/dist/src/blob/BlobServer.js') as {
      default: new (c: unknown) => {
        start(): Promise<void>;
        close(): Promise<void>;
        getHttpServerAddress(): string;
      };
    }
  ).default;
  const BlobConfiguration = (
    require('azurite/dist/src/blob/BlobConfiguration.js') as { default: new (...a: unknown[]) => unknown }
  ).default;
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    undefined,
    join(dir, 'db.json'),
    join(dir, 'extent.json'),
    [{ locationId: 'Default', locationPath: join(dir, 'blobs'), maxConcurrency: 10 }],
    false,
    undefined,
    false,
    undefined,
    true,
    true,
  );
  const server = new BlobServer(config);
  await server.start();
  const endpoint = `http://127.0.0.1:${new URL(server.getHttpServerAddress()).port}/${AZURITE_ACCOUNT}`;
  const admin = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  return {
    cloud: 'azure',
    endpoint,
    credentials: { account: AZURITE_ACCOUNT, key: AZURITE_KEY },
    clientEnv: { AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT, AZURE_STORAGE_KEY: AZURITE_KEY },
    createContainer: async (name) => void (await admin.getContainerClient(name).create()),
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { join } from 'node:path';
import type { PlatformConfig } from '../http/route.js';
import type { BlobStore } from './blob-store.js';
import { DiskBlobStore } from './disk.js';

/**
 * One blob store per running server, found from its config (RouteDeps carries no blob store, and
 * routes and the raw HTTP handlers must share one): the disk under `<dataDir>/blobs`, fsync off
 * with UA_PLATFORM_FSYNC=0.
 */
const stores = new WeakMap<PlatformConfig, BlobStore>();

export function blobStoreFor(config: PlatformConfig): BlobStore {
  let s = stores.get(config);
  if (!s) {
    s = new DiskBlobStore(join(config.dataDir, 'blobs'), { fsync: process.env.UA_PLATFORM_FSYNC !== '0' });
    stores.set(config, s);
  }
  return s;
}

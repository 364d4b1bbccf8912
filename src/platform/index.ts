import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { InlineBlobStore } from './blobs/inline.js';
import { DiskBlobStore, sweepTemporaryFiles } from './blobs/disk.js';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAdmin, openAdmin, type PlatformAdmin } from './admin.js';
import { createApp } from './app.js';
import { loadSigningKey } from './data-dir.js';
import { Faults } from './faults.js';
import type { RouteDeps } from './http/route.js';
import { drainAssemblies, ensureAssembling } from './routes/assembly.js';
import { allRoutes } from './routes/index.js';
import { ServerStats } from './stats.js';
import { openDb } from './store/db.js';
import { storeOf } from './store/store.js';

export { openAdmin, type PlatformAdmin };
export { Faults, type FaultRule } from './faults.js';
export { ServerStats } from './stats.js';

export interface StartOptions {
  /** Where platform.db and signing.key live; default: a fresh temp dir, deleted by stop(). */
  dataDir?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How long a file stays `closing` before it is `closed` (default 300 ms). */
  closingDelayMs?: number;
  /** Lifetime of signed URLs (default 15 min). */
  urlTtlMs?: number;
  /** No log lines on stderr. */
  quiet?: boolean;
  /** Base of signed URLs instead of each request's Host (`--public-url`, e.g. behind a TLS proxy). */
  publicUrl?: string;
}

export interface RunningPlatform {
  /** http://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  dataDir: string;
  admin: PlatformAdmin;
  faults: Faults;
  stats: ServerStats;
  deps: RouteDeps;
  /** Closes the server and the DB; deletes the data dir if startPlatform created it. */
  stop(): Promise<void>;
}

/** `--public-url`: an http(s) origin with an optional path prefix, no trailing slash. */
export function publicUrlOf(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`--public-url ${JSON.stringify(s)} is not a URL; give e.g. https://uploads.example.org`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`--public-url must be an http:// or https:// URL, not ${u.protocol}`);
  if (u.search || u.hash) throw new Error('--public-url takes no query or fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

export async function startPlatform(o: StartOptions = {}): Promise<RunningPlatform> {
  const ownsDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'ua-platform-'));
  // Users' data and the signing key: the server's user only (a dir that already exists is left as it is).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const host = o.host ?? '127.0.0.1';
  const swept = sweepTemporaryFiles(join(dataDir, 'blobs'));
  if (swept > 0 && !o.quiet)
    process.stderr.write(`[ua-platform] removed ${swept} temporary file(s) left by an earlier run\n`);
  const store = storeOf(openDb(dataDir, { groupCommit: true }));
  store.pruneNonces(Date.now()); // rows past the replay window are dead weight
  let port = 0;
  const deps: RouteDeps = {
    store,
    // Small parts and single-part objects as rows of the database, the rest as files (inline.ts).
    blobs: new InlineBlobStore(
      new DiskBlobStore(join(dataDir, 'blobs'), { fsync: process.env.UA_PLATFORM_FSYNC !== '0' }),
      store,
    ),
    assemblies: new Map(),
    config: {
      closingDelayMs: o.closingDelayMs ?? 300,
      urlTtlMs: o.urlTtlMs ?? 15 * 60 * 1000,
      signingKey: loadSigningKey(dataDir),
      dataDir,
      ...(o.publicUrl ? { publicUrl: publicUrlOf(o.publicUrl) } : {}),
    },
    baseUrl: () => `http://${host}:${port}`,
    now: () => Date.now(),
    faults: new Faults(),
    stats: new ServerStats(),
  };
  const server = createApp(deps, allRoutes(), { quiet: o.quiet });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    store.close();
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  // Files a stopped server left closing: assemble them now rather than on their next describe.
  for (const id of store.unassembledClosing()) void ensureAssembling(deps, id);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // idle keep-alive sockets would otherwise hold close() open
      await closed;
      await drainAssemblies(deps); // an object being assembled is finished and recorded, not cut off
      store.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    })());

  return {
    url: deps.baseUrl(),
    host,
    port,
    dataDir,
    admin: makeAdmin(store, deps.now),
    faults: deps.faults,
    stats: deps.stats,
    deps,
    stop,
  };
}

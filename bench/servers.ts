/**
 * The servers a benchmark row talks to, each a separate process so its CPU is measured apart from the
 * client's: ua-platform (`node bin/ua-platform.js serve`), the discarding sink platform, s3rver and
 * azurite. Each owns a fresh temp data dir, removed on stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { openAdmin } from '../src/platform/admin.js';
import { freePort, startServer, type ServerProcess } from './measure.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE = process.execPath;
export const BIN = (name: string) => join(ROOT, 'node_modules', '.bin', name);

export interface RunningServer {
  proc: ServerProcess;
  stop(): Promise<void>;
}

/** A platform `ua` can upload to: the env that points ua at it, and a project with UPLOAD access. */
export interface UaTarget extends RunningServer {
  url: string;
  project: string;
  env: Record<string, string>;
  /** POST /<route> with the target's token (ua-platform only: drives, projects). */
  call(route: string, input: object): Promise<Record<string, unknown>>;
}

function uaEnv(url: string, token: string): Record<string, string> {
  const u = new URL(url);
  return {
    DX_APISERVER_PROTOCOL: 'http',
    DX_APISERVER_HOST: u.hostname,
    DX_APISERVER_PORT: u.port,
    DX_SECURITY_CONTEXT: JSON.stringify({ auth_token_type: 'Bearer', auth_token: token }),
  };
}

function caller(url: string, token: string): UaTarget['call'] {
  return async (route, input) => {
    const res = await request(`${url}/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const body = (await res.body.json()) as Record<string, unknown>;
    if (res.statusCode !== 200) throw new Error(`${route}: ${res.statusCode} ${JSON.stringify(body)}`);
    return body;
  };
}

/** `nodeArgs` go before the script (e.g. --cpu-prof to profile the server). */
export async function startUaPlatform(nodeArgs: string[] = []): Promise<UaTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-platform-'));
  const admin = openAdmin(dir);
  let project: string;
  let token: string;
  try {
    const user = admin.createUser('bench');
    project = admin.createProject({ name: 'bench', owner: user });
    token = admin.createToken({ user }).token;
  } finally {
    admin.close();
  }
  const proc = await startServer(
    NODE,
    [...nodeArgs, join(ROOT, 'bin', 'ua-platform.js'), 'serve', '--data', dir, '--closing-delay-ms', '50'],
    /listening on (\S+)/,
  );
  const url = proc.ready[1];
  return {
    proc,
    url,
    project,
    env: uaEnv(url, token),
    call: caller(url, token),
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startSinkPlatform(nodeArgs: string[] = []): Promise<UaTarget> {
  const proc = await startServer(
    NODE,
    [...nodeArgs, join(ROOT, 'dist', 'bench', 'sink-platform.js')],
    /listening on (\S+)\n(project-\S+)/,
  );
  const url = proc.ready[1];
  return {
    proc,
    url,
    project: proc.ready[2],
    env: uaEnv(url, 'sink-token'),
    call: () => Promise.reject(new Error('the sink platform has no admin routes')),
    stop: () => proc.stop(),
  };
}

export interface CloudServer extends RunningServer {
  endpoint: string;
}

/** s3rver as a process; credentials S3RVER / S3RVER, path-style buckets. */
export async function startS3rverProcess(): Promise<CloudServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-s3rver-'));
  const port = await freePort();
  const proc = await startServer(
    BIN('s3rver'),
    ['-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'],
    port,
  );
  return {
    proc,
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** azurite-blob as a process; the well-known devstoreaccount1 key. `endpoint` includes the account. */
export async function startAzuriteProcess(): Promise<CloudServer & { connectionString: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-azurite-'));
  const port = await freePort();
  const proc = await startServer(
    BIN('azurite-blob'),
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '-l',
      dir,
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
    ],
    port,
  );
  const endpoint = `http://127.0.0.1:${port}/devstoreaccount1`;
  return {
    proc,
    endpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

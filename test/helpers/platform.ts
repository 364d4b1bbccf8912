import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { startPlatform, type RunningPlatform, type StartOptions } from '../../src/platform/index.js';
import { tempDir } from './files.js';

export interface CallResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export interface TestPlatform {
  platform: RunningPlatform;
  /** `user-alice`, ADMINISTER of `project`. */
  user: string;
  project: string;
  /** A full-access token for `user`. */
  token: string;
  url: string;
  /** What a client process needs to reach the server as `user`. */
  env: Record<string, string>;
  /** POST `/<route>` with a JSON body; token null = no Authorization header. */
  call(route: string, input?: unknown, token?: string | null): Promise<CallResult>;
  stop(): Promise<void>;
}

/** POSTs JSON to a running server and reads the JSON answer (a tiny real HTTP client for tests). */
export async function callApi(
  url: string,
  route: string,
  input: unknown = {},
  token: string | null = null,
): Promise<CallResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await request(`${url}/${route}`, { method: 'POST', headers, body: JSON.stringify(input) });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

/** A server with one user (alice), one project she administers, and a full-access token. */
export async function startTestPlatform(o: StartOptions = {}): Promise<TestPlatform> {
  const platform = await startPlatform({ quiet: true, ...o });
  const user = platform.admin.createUser('alice');
  const project = platform.admin.createProject({ name: 'test-project', owner: user });
  const { token } = platform.admin.createToken({ user });
  return {
    platform,
    user,
    project,
    token,
    url: platform.url,
    env: {
      DX_APISERVER_PROTOCOL: 'http',
      DX_APISERVER_HOST: platform.host,
      DX_APISERVER_PORT: String(platform.port),
      DX_SECURITY_CONTEXT: JSON.stringify({ auth_token_type: 'Bearer', auth_token: token }),
    },
    call: (route, input = {}, t = token) => callApi(platform.url, route, input, t),
    stop: () => platform.stop(),
  };
}

/**
 * For a test file's top level: a test platform (closing delay 50 ms unless `o` says otherwise) and a
 * temp dir, started before the file's tests and stopped and removed after them. Read `tp` and `tmp`
 * off the returned object inside hooks and tests.
 */
export function usePlatformAndTempDir(o: StartOptions = { closingDelayMs: 50 }): {
  tp: TestPlatform;
  tmp: ReturnType<typeof tempDir>;
} {
  const ctx = {} as { tp: TestPlatform; tmp: ReturnType<typeof tempDir> };
  beforeAll(async () => {
    ctx.tp = await startTestPlatform(o);
    ctx.tmp = tempDir();
  });
  afterAll(async () => {
    await ctx.tp?.stop();
    ctx.tmp?.cleanup();
  });
  return ctx;
}

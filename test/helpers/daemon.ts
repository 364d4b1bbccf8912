/* eslint-disable @typescript-eslint/no-explicit-any -- platform answers are free-form JSON in tests */
import { createServer, type Server } from 'node:http';
import { Daemon } from '../../src/daemon/daemon.js';
import { memoryLog } from '../../src/daemon/ops/log.js';
import type { DaemonOptions } from '../../src/daemon/options.js';
import type { TestPlatform } from './platform.js';

/** Daemon settings for tests: fast scans and settling, short retries. */
export function testDaemonOptions(
  tp: TestPlatform,
  o: Partial<DaemonOptions> & Pick<DaemonOptions, 'watch' | 'stateDir'>,
): DaemonOptions {
  return {
    project: tp.project,
    hostId: 'test-host',
    leaseMs: 10_000,
    folder: '/runs',
    settleMs: 300,
    scanIntervalMs: 100,
    stallAfterMs: 86_400_000,
    profile: 'auto',
    completeAfterMs: 3_600_000,
    layout: 'files',
    tarSize: 1 << 30,
    tarWaitMs: 1_800_000,
    exclude: [],
    failAfter: 3,
    retryBaseMs: 100,
    uploadThreads: 4,
    compressThreads: 1,
    compress: false,
    drainTimeoutMs: 5000,
    ...o,
  };
}

export async function openTestDaemon(
  tp: TestPlatform,
  o: Partial<DaemonOptions> & Pick<DaemonOptions, 'watch' | 'stateDir'>,
  /** Reach the platform through another port (a proxy the test controls). */
  via?: { port: number },
) {
  const log = memoryLog();
  if (process.env.UA_TEST_DAEMON_LOG) {
    const push = log.log;
    log.log = (level, msg, fields) => {
      console.error(new Date().toISOString().slice(11, 23), o.hostId ?? '', level, msg);
      push(level, msg, fields);
    };
  }
  const daemon = await Daemon.open({
    options: testDaemonOptions(tp, o),
    session: {
      server: { protocol: 'http', host: tp.platform.host, port: via?.port ?? tp.platform.port },
      token: tp.token,
      retry: { minDelayMs: 20, maxDelayMs: 100 },
    },
    log,
  });
  return { daemon, log };
}

export async function waitFor<T>(
  what: string,
  f: () => T | Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LiveObject {
  id: string;
  path: string;
  state: string;
  class: string;
  describe: any;
}

/** Every data object under `folder` in the test project (open ones too), keyed by its remote path. */
export async function objectsUnder(tp: TestPlatform, folder: string, klass = 'file'): Promise<LiveObject[]> {
  const r = await tp.call('system/findDataObjects', {
    class: klass,
    scope: { project: tp.project, folder, recurse: true },
    visibility: 'either',
    describe: {
      fields: { name: true, folder: true, state: true, properties: true, types: true, details: true },
    },
    limit: 1000,
  });
  if (r.status !== 200) throw new Error(`findDataObjects: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.results.map((h: any) => ({
    id: h.id,
    class: klass,
    path: `${h.describe.folder === '/' ? '' : h.describe.folder}/${h.describe.name}`,
    state: h.describe.state,
    describe: h.describe,
  }));
}

/** A real local HTTP receiver for webhooks; answers `status()` (default 200). */
export async function webhookReceiver(status: () => number = () => 200) {
  const got: any[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const code = status();
      if (code === 200) got.push(JSON.parse(body));
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/hook`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

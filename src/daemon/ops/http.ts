/**
 * `--metrics HOST:PORT`: Prometheus metrics (prom-client), `/healthz` and `/api/status` (the JSON
 * of `ua daemon status --json`). Loopback by default; it shows no token and no file content.
 * Gauges are computed from the database when scraped, so they agree with `status` by construction.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DaemonStatus } from './status.js';

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(
  listen: { host: string; port: number },
  status: () => DaemonStatus,
): Promise<OpsServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ua_daemon_' });
  const runs = new Gauge({
    name: 'ua_daemon_runs',
    help: 'Runs by state',
    labelNames: ['state'],
    registers: [registry],
  });
  const files = new Gauge({
    name: 'ua_daemon_files',
    help: 'Files of runs not complete, by state (done/total)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const bytes = new Gauge({
    name: 'ua_daemon_uploaded_bytes',
    help: 'Bytes uploaded, per run',
    labelNames: ['run'],
    registers: [registry],
  });
  const rate = new Gauge({
    name: 'ua_daemon_rate_bytes_per_second',
    help: 'Upload rate over the last 5 minutes, all runs',
    registers: [registry],
  });
  const up = new Gauge({
    name: 'ua_daemon_heartbeat_age_seconds',
    help: 'Seconds since the daemon loop last ran',
    registers: [registry],
  });

  const refresh = (s: DaemonStatus) => {
    runs.reset();
    for (const st of ['waiting', 'uploading', 'complete', 'stalled', 'failed']) runs.set({ state: st }, 0);
    bytes.reset();
    let done = 0;
    let total = 0;
    let r = 0;
    for (const run of s.runs) {
      runs.inc({ state: run.state });
      bytes.set({ run: run.name }, run.bytes.done);
      if (run.state !== 'complete') {
        done += run.files.done;
        total += run.files.total;
      }
      r += run.rate;
    }
    files.set({ kind: 'done' }, done);
    files.set({ kind: 'total' }, total);
    rate.set(r);
    up.set(s.daemon.heartbeat_at ? (Date.now() - Date.parse(s.daemon.heartbeat_at)) / 1000 : -1);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method !== 'GET') {
          res.writeHead(405, { allow: 'GET' }).end();
        } else if (path === '/metrics') {
          refresh(status());
          res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
        } else if (path === '/healthz') {
          const s = status();
          res
            .writeHead(s.daemon.running ? 200 : 503, { 'content-type': 'text/plain' })
            .end(s.daemon.running ? 'ok\n' : 'loop not running\n');
        } else if (path === '/api/status') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
        } else {
          res
            .writeHead(404, { 'content-type': 'text/plain' })
            .end('not found: try /metrics, /healthz or /api/status\n');
        }
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

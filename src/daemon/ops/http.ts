/**
 * `--http HOST:PORT` (alias `--metrics`): the status page (/, /runs/<name>), the same data as JSON
 * (/api/status, /api/runs/<name>), server-sent events (/events), Prometheus metrics (/metrics) and
 * /healthz. Loopback by default; any other address needs `--http-token`, given as a bearer header or
 * through the login form (a session cookie: HttpOnly, SameSite=Strict). It never shows a platform
 * token, escapes every name it prints, and sends a strict Content-Security-Policy (nothing inline).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DaemonError } from '../../errors.js';
import { CSS, JS } from '../web/assets.js';
import type { RunDetail } from '../web/detail.js';
import { layout, loginPage, runFragment, runsFragment } from '../web/pages.js';
import { createMetrics } from './metrics.js';
import type { DaemonStatus } from './status.js';

export interface OpsSource {
  status(): Promise<DaemonStatus>;
  detail(name: string, q: { page?: number; state?: string }): Promise<RunDetail | undefined>;
  /** The state of a job or analysis on the platform (cached by the source); undefined if unknown. */
  executionState?(id: string): Promise<string | undefined>;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export interface OpsOptions {
  host: string;
  port: number;
  /** Required unless `host` is loopback. */
  token?: string;
  /** How often the event stream looks for a change, ms (default 1000). */
  pollMs?: number;
}

const CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const MAX_STREAMS = 32;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startOpsServer(o: OpsOptions, source: OpsSource): Promise<OpsServer> {
  if (!isLoopback(o.host) && !o.token)
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `--http ${o.host}:${o.port} is not a loopback address: give --http-token (in the config file) so the page is not open to the network, or bind 127.0.0.1 and use ssh -L`,
    );
  const metrics = createMetrics();
  const session = o.token
    ? createHmac('sha256', o.token).update('ua-daemon-session').digest('hex')
    : undefined;
  const streams = new Set<ServerResponse>();

  const authorized = (req: IncomingMessage): boolean => {
    if (!o.token) return true;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && same(bearer, o.token)) return true;
    const cookie = /(?:^|;\s*)ua_session=([0-9a-f]{64})/.exec(req.headers.cookie ?? '')?.[1];
    return cookie !== undefined && same(cookie, session!);
  };

  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://daemon');
    const path = url.pathname;
    if (path === '/healthz') {
      const up = (await source.status()).daemon.running;
      return send(res, up ? 200 : 503, 'text/plain', up ? 'ok\n' : 'loop not running\n');
    }
    if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    if (path === '/static/app.css') return send(res, 200, 'text/css; charset=utf-8', CSS);
    if (path === '/static/app.js') return send(res, 200, 'text/javascript; charset=utf-8', JS);
    if (path === '/login') return login(req, res);
    if (!authorized(req)) {
      if ((req.headers.accept ?? '').includes('text/html'))
        return send(res, 303, 'text/plain', '', { location: '/login' });
      return send(res, 401, 'text/plain', 'unauthorized: send Authorization: Bearer <--http-token>\n', {
        'www-authenticate': 'Bearer',
      });
    }
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only\n', { allow: 'GET' });
    const fragment = url.searchParams.has('fragment');
    const q = {
      page: Number(url.searchParams.get('page') ?? 1) || 1,
      state: url.searchParams.get('state') ?? undefined,
    };
    if (path === '/metrics')
      return send(res, 200, metrics.contentType, await metrics.render(await source.status()));
    if (path === '/api/status')
      return send(res, 200, 'application/json', JSON.stringify(await source.status()));
    if (path === '/events') return stream(req, res);
    if (path === '/') {
      const main = runsFragment(await source.status());
      return send(
        res,
        200,
        'text/html; charset=utf-8',
        fragment ? main.text : layout('Runs — ua daemon', main),
      );
    }
    const m = /^\/(api\/)?runs\/([^/]+)$/.exec(path);
    if (m) {
      let name: string;
      try {
        name = decodeURIComponent(m[2]);
      } catch {
        return send(res, 400, 'text/plain', 'bad run name\n');
      }
      const d = await source.detail(name, q);
      if (d?.run.job && source.executionState) d.job_state = (await source.executionState(d.run.job)) ?? null;
      if (!d)
        return send(
          res,
          404,
          m[1] ? 'application/json' : 'text/plain',
          m[1] ? '{"error":"no such run"}' : 'no such run\n',
        );
      if (m[1]) return send(res, 200, 'application/json', JSON.stringify(d));
      const main = runFragment(d);
      return send(
        res,
        200,
        'text/html; charset=utf-8',
        fragment ? main.text : layout(`${d.run.name} — ua daemon`, main),
      );
    }
    send(res, 404, 'text/plain', 'not found: try /, /api/status, /metrics or /healthz\n');
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') return send(res, 200, 'text/html; charset=utf-8', loginPage(false));
    if (req.method !== 'POST' || !o.token) return send(res, 303, 'text/plain', '', { location: '/' });
    let body = '';
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 4096) return send(res, 413, 'text/plain', 'too large\n');
    }
    const token = new URLSearchParams(body).get('token') ?? '';
    if (!same(token, o.token)) return send(res, 401, 'text/html; charset=utf-8', loginPage(true));
    send(res, 303, 'text/plain', '', {
      location: '/',
      'set-cookie': `ua_session=${session}; HttpOnly; SameSite=Strict; Path=/`,
    });
  };

  const stream = (req: IncomingMessage, res: ServerResponse) => {
    if (streams.size >= MAX_STREAMS)
      return send(res, 503, 'text/plain', 'too many live pages\n', { 'retry-after': '10' });
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  };

  // One status computation per poll for all live pages; an event only when something changed.
  let last = '';
  let beats = 0;
  let polling = false;
  const poll = setInterval(() => {
    if (streams.size === 0 || polling) return;
    polling = true;
    source
      .status()
      .then((s) => {
        const sig = JSON.stringify({
          ...s,
          daemon: { ...s.daemon, heartbeat_at: null },
          hosts: s.hosts.map((h) => ({ ...h, last_seen: null })),
        });
        const msg =
          sig !== last ? `event: status\ndata: {}\n\n` : ++beats % 15 === 0 ? ': keep-alive\n\n' : '';
        last = sig;
        if (msg) for (const r of streams) r.write(msg);
      })
      .catch(() => {})
      .finally(() => (polling = false));
  }, o.pollMs ?? 1000);
  poll.unref();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `${err.message}\n`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((r) => {
        clearInterval(poll);
        for (const s of streams) s.end();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A tiny HTTP forwarder on 127.0.0.1 in front of a storage emulator: it records every request
 * (method, path, query) so tests can count what a client really sent, and can hold requests (never
 * answer them) so a test can kill the client at a known point.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request's headers (lower-case names), as the client sent them. */
  headers: Record<string, string | string[] | undefined>;
  status?: number;
}

export interface CountingProxy {
  /** The proxy's base URL with the upstream's path, e.g. `http://127.0.0.1:PORT/devstoreaccount1`. */
  url: string;
  seen: SeenRequest[];
  /** Decides per request: 'forward' (default) or 'hold' (no answer until the proxy stops). */
  onRequest?: (r: SeenRequest, req: IncomingMessage) => 'forward' | 'hold';
  reset(): void;
  stop(): Promise<void>;
}

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const up = new URL(upstream);
  const held: IncomingMessage[] = [];
  const proxy: CountingProxy = {
    url: '',
    seen: [],
    reset() {
      proxy.seen.length = 0;
    },
    async stop() {
      for (const r of held) r.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const r: SeenRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
    };
    proxy.seen.push(r);
    if (proxy.onRequest?.(r, req) === 'hold') {
      held.push(req);
      return;
    }
    const out = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        r.status = upRes.statusCode;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${port}${up.pathname.replace(/\/+$/, '')}`;
  return proxy;
}

/**
 * An `onSpawn` for runUa that kills the agent with SIGKILL at the first request `match` accepts and
 * holds that request and every later match (so none of them reaches the upstream); others are forwarded.
 */
export function killAtRequest(
  proxy: CountingProxy,
  match: (r: SeenRequest) => boolean,
): (child: ChildProcess) => void {
  return (child) => {
    let killed = false;
    proxy.onRequest = (r) => {
      if (!match(r)) return 'forward';
      if (!killed) child.kill('SIGKILL');
      killed = true;
      return 'hold';
    };
  };
}

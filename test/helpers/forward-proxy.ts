/**
 * A tiny forward proxy on 127.0.0.1, as a corporate proxy is to ua: it forwards absolute-URI
 * requests (`GET http://host:port/path`, plain http through a proxy) and tunnels CONNECT (https, or
 * http with a tunnel), recording every one so tests can prove what went through it. With `auth` set
 * it answers 407 to anything without that Basic `Proxy-Authorization`.
 */
import { createServer, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** The absolute URI (forwarded) or `host:port` (CONNECT). */
  target: string;
}

export interface ForwardProxy {
  url: string;
  port: number;
  forwarded: ProxiedRequest[];
  tunnels: ProxiedRequest[];
  /** Proxy-Authorization values seen (decoded `user:pass`), one per forwarded request or CONNECT. */
  auth: string[];
  stop(): Promise<void>;
}

export async function startForwardProxy(o: { auth?: string } = {}): Promise<ForwardProxy> {
  const sockets = new Set<Socket>();
  const authOk = (h: string | undefined): boolean => {
    const decoded = h?.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString() : '';
    if (h) p.auth.push(decoded);
    return !o.auth || decoded === o.auth;
  };
  const server: Server = createServer((req, res) => {
    p.forwarded.push({ method: req.method ?? 'GET', target: req.url ?? '' });
    if (!authOk(req.headers['proxy-authorization'])) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const u = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    // Answered here (node:http sent 100 Continue); the upstream gets the body at once.
    delete headers.expect;
    const out = request(
      { host: u.hostname, port: u.port, method: req.method, path: u.pathname + u.search, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    p.tunnels.push({ method: 'CONNECT', target: req.url ?? '' });
    if (!authOk(req.headers['proxy-authorization'])) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  server.on('clientError', (_e, s: Socket) => s.destroy());
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const p: ForwardProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    forwarded: [],
    tunnels: [],
    auth: [],
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return p;
}

/** A 127.0.0.1 port nothing listens on (bound, then closed): a proxy that refuses connections. */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

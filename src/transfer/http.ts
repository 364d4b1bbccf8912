import { Agent, EnvHttpProxyAgent, Pool, request, type Dispatcher } from 'undici';
import { ConnectionError } from '../errors.js';
import { proxyEnv, proxyFor, type ProxyEnv } from './proxy.js';
import { CLASSIC_VERSION, UA_VERSION } from '../version.js';

/** Identifies us to the server; no user id or token in it. */
export const USER_AGENT = `ua/${UA_VERSION} (compatible; DNAnexus-Upload-Agent/${CLASSIC_VERSION}) node/${process.versions.node} platform/${process.platform}`;

export interface HttpOptions {
  /** Keep-alive connections per origin; at least the number of concurrent part uploads. Default 16. */
  connections?: number;
  /** Max time to wait for response headers, ms. Default 600 000 (the classic agent's API timeout). */
  headersTimeoutMs?: number;
  /** Max idle time between body chunks, ms. Default 300 000. */
  bodyTimeoutMs?: number;
  /** Skip TLS verification (`--certificate-file NOVERIFY`). */
  insecure?: boolean;
  /** PEM CA bundle to trust instead of Node's defaults. */
  ca?: string;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The proxy settings each agent was made with, so a failure can name the proxy it went through. */
const agentProxies = new WeakMap<Dispatcher, ProxyEnv>();

/**
 * One keep-alive connection pool per run, shared by API calls and part PUTs. With a proxy in `env`
 * (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; see proxy.ts) it is undici's EnvHttpProxyAgent: https:// goes
 * through a CONNECT tunnel (TLS, the CA bundle included, end to end with the server), http:// is
 * forwarded by absolute URI as curl does (proxies often refuse CONNECT to ports other than 443).
 */
export function createHttpAgent(o: HttpOptions = {}): Dispatcher {
  const base = {
    connections: o.connections ?? 16,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: o.headersTimeoutMs ?? 600_000,
    bodyTimeout: o.bodyTimeoutMs ?? 300_000,
  };
  const tls = o.insecure || o.ca ? { rejectUnauthorized: !o.insecure, ca: o.ca } : undefined;
  const p = proxyEnv(o.env ?? process.env);
  if (!p.http && !p.https) return new Agent({ ...base, connect: tls });
  const agent = new EnvHttpProxyAgent({
    ...base,
    connect: tls,
    // The tunnelled TLS to the server (ProxyAgent ignores `connect` for it).
    requestTls: tls,
    proxyTunnel: false,
    // Explicit, so the agent and proxyFor() read the same values (undici would read process.env).
    httpProxy: p.http?.url ?? '',
    httpsProxy: p.https?.url ?? '',
    noProxy: p.noProxy,
    // The same pool limits for connections to the proxy as for direct ones.
    factory: (origin: string | URL, opts: object) => new Pool(origin, { ...base, ...opts }),
  });
  agentProxies.set(agent, p);
  return agent;
}

/** The proxy (masked, and its variable) a request to `url` through `agent` goes through. */
export function proxyOf(agent: Dispatcher, url: string): { masked: string; from: string } | undefined {
  const p = agentProxies.get(agent);
  return p ? proxyFor(p, url) : undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP exchange; transport failures become ConnectionError, any status is returned. */
export async function httpRequest(
  agent: Dispatcher,
  url: string,
  opts: {
    method: 'POST' | 'PUT' | 'GET';
    headers: Record<string, string>;
    body?: Uint8Array | string | AsyncIterable<Uint8Array>;
    signal?: AbortSignal;
  },
): Promise<HttpResponse> {
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: opts.method,
      headers: opts.headers,
      body: opts.body as never,
      signal: opts.signal,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new ConnectionError(url, err, proxyOf(agent, url));
  }
}

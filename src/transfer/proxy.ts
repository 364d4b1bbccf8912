/**
 * The proxy settings ua sends through, read from the environment exactly as undici's
 * EnvHttpProxyAgent reads them (it does the sending; this module names what it will do, for
 * `--test`, error messages and the cloud SDKs):
 *
 * - http:// URLs use `http_proxy`, else `HTTP_PROXY`; https:// URLs use `https_proxy`, else
 *   `HTTPS_PROXY`, else the http proxy. The lower-case name wins whenever it is set, even empty.
 * - `no_proxy`, else `NO_PROXY`: comma- or space-separated entries; `*` alone = never proxy; `host`
 *   matches it and its subdomains (`.host` and `*.host` the same); `host:port` only on that port.
 * - Loopback addresses are not special (as in curl and undici): with a proxy set, `http://127.0.0.1`
 *   goes through it unless NO_PROXY lists it. `ALL_PROXY` and SOCKS proxies are not used.
 */

export interface ProxySource {
  /** The proxy URL as given (credentials included: never print it, use `masked`). */
  url: string;
  masked: string;
  /** The variable it came from, e.g. `HTTPS_PROXY`. */
  from: string;
}

export interface ProxyEnv {
  http?: ProxySource;
  https?: ProxySource;
  /** The NO_PROXY value ('' when unset) and its variable. */
  noProxy: string;
  noProxyFrom?: string;
}

/** `user:pass@` in a proxy URL becomes `****@` (the classic `--test` masking). */
export function maskProxy(value: string): string {
  return value.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i,
    (_m, scheme: string | undefined) => `${scheme ?? ''}****@`,
  );
}

function pick(env: NodeJS.ProcessEnv, lower: string, upper: string): ProxySource | undefined {
  const from = env[lower] !== undefined ? lower : upper;
  const url = env[from];
  return url ? { url, masked: maskProxy(url), from } : undefined;
}

export function proxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const noProxyFrom =
    env.no_proxy !== undefined ? 'no_proxy' : env.NO_PROXY !== undefined ? 'NO_PROXY' : undefined;
  return {
    http: pick(env, 'http_proxy', 'HTTP_PROXY'),
    https: pick(env, 'https_proxy', 'HTTPS_PROXY'),
    noProxy: noProxyFrom ? (env[noProxyFrom] ?? '') : '',
    noProxyFrom,
  };
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** The NO_PROXY entry that sends `url` directly (undici's matching), or undefined. */
export function noProxyMatch(p: ProxyEnv, url: string | URL): string | undefined {
  const u = new URL(url);
  const hostname = u.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(u.port, 10) || DEFAULT_PORTS[u.protocol] || 0;
  const entries = p.noProxy.split(/[,\s]/).filter(Boolean);
  if (entries.length === 0) return undefined;
  if (p.noProxy === '*') return '*';
  for (const entry of entries) {
    const m = entry.match(/^(.+):(\d+)$/);
    const host = (m ? m[1] : entry).replace(/^\*?\./, '').toLowerCase();
    const entryPort = m ? Number.parseInt(m[2], 10) : 0;
    if (entryPort && entryPort !== port) continue;
    if (hostname === host || hostname.endsWith(`.${host}`)) return entry;
  }
  return undefined;
}

/** The proxy a request to `url` goes through, or undefined for a direct connection. */
export function proxyFor(p: ProxyEnv, url: string | URL): ProxySource | undefined {
  const proxy = new URL(url).protocol === 'https:' ? (p.https ?? p.http) : p.http;
  if (!proxy || noProxyMatch(p, url) !== undefined) return undefined;
  return proxy;
}

/** Why a request to `url` is direct although a proxy variable is set; undefined when none is set. */
export function whyDirect(
  p: ProxyEnv,
  url: string | URL,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const match = noProxyMatch(p, url);
  if ((p.http || p.https) && match !== undefined)
    return `${p.noProxyFrom}=${p.noProxy} matches ${new URL(url).host} (entry "${match}")`;
  if (p.https && !p.http && new URL(url).protocol === 'http:')
    return `${p.https.from}=${p.https.masked} is for https:// URLs; set HTTP_PROXY for an http:// server`;
  const all = env.all_proxy ? 'all_proxy' : env.ALL_PROXY ? 'ALL_PROXY' : undefined;
  if (all && !p.http && !p.https) return `ua does not read ${all}; set HTTPS_PROXY / HTTP_PROXY`;
  return undefined;
}

/** One line for `ua --test`: the proxy used for the API server (credentials masked). */
export function proxyLine(p: ProxyEnv, apiUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  const used = proxyFor(p, apiUrl);
  const np = p.noProxy ? `; ${p.noProxyFrom}: ${p.noProxy}` : '';
  if (used) return `Proxy: ${used.masked} (from ${used.from}${np})`;
  const why = whyDirect(p, apiUrl, env);
  return `Proxy: none, direct connection${why ? ` (${why})` : ''}`;
}

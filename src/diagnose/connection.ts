/**
 * Why the API server could not be reached: refused / unknown host / timeout, a TLS failure, or the
 * proxy ua went through (HTTPS_PROXY / HTTP_PROXY, see transfer/proxy.ts) failing.
 */
import { ConnectionError } from '../errors.js';
import { maskProxy, proxyEnv, whyDirect } from '../transfer/proxy.js';

export { maskProxy };

export const PROXY_VARS = [
  'http_proxy',
  'https_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
] as const;

/** The proxy variables set in `env`, values masked. */
export function proxySettings(env: NodeJS.ProcessEnv = process.env): Array<{ name: string; value: string }> {
  return PROXY_VARS.filter((k) => env[k]).map((k) => ({ name: k, value: maskProxy(env[k]!) }));
}

const TLS_CODES =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|EPROTO|HOSTNAME_MISMATCH)/;

/** The innermost error code (undici wraps socket errors in `cause`). */
function codeOf(err: unknown): string {
  let e = err as { code?: string; cause?: unknown } | undefined;
  let code = '';
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && !e.code.startsWith('UND_ERR')) code = e.code;
    else if (!code && typeof e.code === 'string') code = e.code;
    e = e.cause as typeof e;
  }
  return code;
}

function messageOf(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let msg = '';
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.message) msg = e.message;
    e = e.cause as typeof e;
  }
  return msg;
}

export type ConnectionKind = 'unreachable' | 'tls' | 'proxy';

export interface ConnectionProblem {
  kind: ConnectionKind;
  /** e.g. ECONNREFUSED, CERT_HAS_EXPIRED; '' when unknown. */
  code: string;
  detail: string;
  /** kind 'proxy': the proxy the request went through (masked) and its variable. */
  proxy?: { masked: string; from: string };
}

/**
 * Classifies a transport failure; TLS wins over proxy (a proxy does not explain a bad certificate).
 * 'proxy' = the request went through a proxy (refused, unknown, or it answered the CONNECT with an error).
 */
export function classifyConnection(err: unknown, _env: NodeJS.ProcessEnv = process.env): ConnectionProblem {
  const cause = err instanceof ConnectionError ? err.cause : err;
  const code = codeOf(cause);
  const detail = (messageOf(cause) || String(cause)).trim();
  if (TLS_CODES.test(code) || /certificate|wrong version number|ssl|tls/i.test(detail))
    return { kind: 'tls', code, detail };
  if (err instanceof ConnectionError && err.proxy) return { kind: 'proxy', code, detail, proxy: err.proxy };
  return { kind: 'unreachable', code, detail };
}

export function connectionMessage(
  p: ConnectionProblem,
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const why = p.code ? `${p.code}: ${p.detail}` : p.detail;
  const where =
    'Check the server address (`ua --env` shows it; set it with DX_APISERVER_PROTOCOL, DX_APISERVER_HOST and ' +
    'DX_APISERVER_PORT or the --apiserver-* flags) and that the server is running.';
  if (p.kind === 'tls') {
    return (
      `The TLS connection to the API server at ${url} failed (${why}). Its certificate is not trusted or does ` +
      `not match the host name, or the server does not speak https on that port. If it uses a private CA, ` +
      `give that CA bundle with --certificate-file or DX_CA_CERT; otherwise check DX_APISERVER_PROTOCOL.`
    );
  }
  if (p.kind === 'proxy') {
    const proxy = p.proxy ? `${p.proxy.masked} (from ${p.proxy.from})` : 'set in the environment';
    const hint = /\b407\b/.test(p.detail)
      ? 'The proxy wants credentials (only Basic is supported): give them in the URL, http://USER:PASSWORD@host:port, percent-encoding any special characters.'
      : 'Check that the proxy address and port are right and that it is running and lets this host through ' +
        '(`ua --test` shows the proxy in use); if the server is reachable directly, add its host to NO_PROXY.';
    return `Cannot reach the API server at ${url} through the proxy ${proxy} (${why}). ${hint}`;
  }
  const direct = whyDirect(proxyEnv(env), url, env);
  const note = direct ? ` ua connected directly, not through a proxy: ${direct}.` : '';
  return `Cannot reach the API server at ${url} (${why}).${note} ${where}`;
}

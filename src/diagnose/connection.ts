/**
 * Why the API server could not be reached: refused / unknown host / timeout, a TLS failure, or a
 * proxy variable that suggests the network needs one (ua connects directly; it does not use proxies).
 */
import { ConnectionError } from '../errors.js';

export const PROXY_VARS = [
  'http_proxy',
  'https_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
] as const;

/** `user:pass@` in a proxy URL becomes `****@` (the classic `--test` masking). */
export function maskProxy(value: string): string {
  return value.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i,
    (_m, scheme: string | undefined) => `${scheme ?? ''}****@`,
  );
}

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
}

/** Classifies a transport failure; TLS wins over proxy (a proxy does not explain a bad certificate). */
export function classifyConnection(err: unknown, env: NodeJS.ProcessEnv = process.env): ConnectionProblem {
  const cause = err instanceof ConnectionError ? err.cause : err;
  const code = codeOf(cause);
  const detail = (messageOf(cause) || String(cause)).trim();
  if (TLS_CODES.test(code) || /certificate|wrong version number|ssl|tls/i.test(detail))
    return { kind: 'tls', code, detail };
  if (proxySettings(env).length > 0) return { kind: 'proxy', code, detail };
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
    const set = proxySettings(env)
      .map((s) => `${s.name}=${s.value}`)
      .join(', ');
    return (
      `Cannot reach the API server at ${url} (${why}), and a proxy is set in the environment (${set}). ` +
      `ua connects to the API server directly and does not go through that proxy: if this network only ` +
      `allows traffic through the proxy, run ua where the server is directly reachable. ${where}`
    );
  }
  return `Cannot reach the API server at ${url} (${why}). ${where}`;
}

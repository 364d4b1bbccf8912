/**
 * API server and credentials, resolved like the classic agent (ua-behavior §3.1): for each DX_* key,
 * the environment variable, then `~/.dnanexus_config/environment.json`, then
 * `~/.dnanexus_config/environment` (`export KEY='value'` lines); command-line flags override all.
 * `DX_USER_CONF_DIR` names another directory instead of `~/.dnanexus_config`, as the platform's other
 * clients (dx, dxpy) read it: a leading `~` is the home directory. Only reads files; never logs a
 * token (use `redactToken`).
 */
import { UsageError } from '../errors.js';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CONFIG_KEYS = [
  'DX_APISERVER_HOST',
  'DX_APISERVER_PORT',
  'DX_APISERVER_PROTOCOL',
  'DX_SECURITY_CONTEXT',
  'DX_PROJECT_CONTEXT_ID',
  'DX_WORKSPACE_ID',
  'DX_JOB_ID',
  'DX_CA_CERT',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export const DEFAULT_SERVER = { protocol: 'https', host: 'api.dnanexus.com', port: 443 } as const;

/** A host as a URL can hold it: no scheme, path, query, user or port separators, no blanks. */
// eslint-disable-next-line no-control-regex
const HOST_RE = /^(?:[^\s/?#@:\x00-\x1f[\]]+|\[?[0-9A-Fa-f:.]+\]?)$/;

export type TokenSource = 'flag' | 'env' | 'config-file' | 'none';

export interface ApiConfig {
  protocol: string;
  host: string;
  port: number;
  token?: string;
  /** `Bearer` unless the security context says otherwise. */
  tokenType?: string;
  tokenSource: TokenSource;
  projectContext?: string;
  caCert?: string;
  /** WARNING lines for stderr (ignored config file, loose permissions, malformed context). No secrets. */
  configWarnings: string[];
  /** Where a token was looked for, in order (for diagnostics). */
  looked: string[];
}

export interface ApiConfigInput {
  env?: NodeJS.ProcessEnv;
  /** Home directory holding `.dnanexus_config` (and `~` in DX_USER_CONF_DIR); default os.homedir(). */
  home?: string;
  /** Command-line overrides (--apiserver-*, --auth-token, --certificate-file). */
  cli?: {
    apiserverProtocol?: string;
    apiserverHost?: string;
    apiserverPort?: number;
    authToken?: string;
    certificateFile?: string;
  };
}

/** First 4 characters and an ellipsis: the only form in which a token may be printed. */
export function redactToken(t: string | undefined): string {
  if (!t) return '';
  return `${t.slice(0, 4)}…`;
}

/** The user's config directory: DX_USER_CONF_DIR when set (non-empty), else `<home>/.dnanexus_config`. */
export function configDir(env: NodeJS.ProcessEnv, home: string): string {
  const d = env.DX_USER_CONF_DIR;
  if (!d) return join(home, '.dnanexus_config');
  return d === '~' || d.startsWith('~/') ? join(home, d.slice(1)) : d;
}

interface Source {
  name: string;
  path?: string;
  values: Partial<Record<ConfigKey, string>>;
}

export function resolveApiConfig(input: ApiConfigInput = {}): ApiConfig {
  const env = input.env ?? process.env;
  const dir = configDir(env, input.home ?? homedir());
  const warnings: string[] = [];
  const envSource: Source = { name: 'environment', values: {} };
  for (const k of CONFIG_KEYS) if (env[k] !== undefined && env[k] !== '') envSource.values[k] = env[k];
  const sources = [
    envSource,
    readJsonConfig(join(dir, 'environment.json'), warnings),
    readShellConfig(join(dir, 'environment')),
  ];
  const pick = (k: ConfigKey): { value?: string; source?: Source } => {
    for (const s of sources) if (s.values[k] !== undefined) return { value: s.values[k], source: s };
    return {};
  };
  for (const s of sources)
    if (s.path && s.values.DX_SECURITY_CONTEXT !== undefined) warnIfLoose(s.path, warnings);

  const cli = input.cli ?? {};
  const from = (flag: string, key: ConfigKey, given: unknown) =>
    given !== undefined ? flag : `${key} from ${pick(key).source?.path ?? 'the environment'}`;
  const protocol = cli.apiserverProtocol ?? pick('DX_APISERVER_PROTOCOL').value ?? DEFAULT_SERVER.protocol;
  if (protocol !== 'http' && protocol !== 'https')
    throw new UsageError(
      `Invalid API server protocol '${protocol}' (${from('--apiserver-protocol', 'DX_APISERVER_PROTOCOL', cli.apiserverProtocol)}); use http or https`,
    );
  const host = cli.apiserverHost ?? pick('DX_APISERVER_HOST').value ?? DEFAULT_SERVER.host;
  if (!HOST_RE.test(host))
    throw new UsageError(
      `Invalid API server host '${host}' (${from('--apiserver-host', 'DX_APISERVER_HOST', cli.apiserverHost)}); give a host name or an IP address, without scheme, port or path`,
    );
  if (cli.apiserverPort !== undefined && !(cli.apiserverPort >= 1 && cli.apiserverPort <= 65535))
    throw new UsageError(
      `Invalid --apiserver-port ${cli.apiserverPort}; expected a port number from 1 to 65535`,
    );
  const port = cli.apiserverPort ?? portOf(pick('DX_APISERVER_PORT'));

  const looked = [
    '--auth-token',
    ...sources.map((s) =>
      s.path ? `${s.path} (DX_SECURITY_CONTEXT)` : 'DX_SECURITY_CONTEXT environment variable',
    ),
  ];
  let token: string | undefined;
  let tokenType: string | undefined;
  let tokenSource: TokenSource = 'none';
  if (cli.authToken !== undefined) {
    // Given explicitly: an empty one is a mistake to report, never a reason to fall back to another source.
    token = checkToken(cli.authToken, '--auth-token');
    tokenType = 'Bearer';
    tokenSource = 'flag';
  } else {
    const ctx = pick('DX_SECURITY_CONTEXT');
    if (ctx.value !== undefined) {
      const parsed = parseSecurityContext(ctx.value);
      if (parsed) {
        checkToken(
          parsed.token,
          `the auth_token of DX_SECURITY_CONTEXT (from ${ctx.source!.path ?? 'the environment'})`,
        );
        token = parsed.token;
        tokenType = parsed.type;
        tokenSource = ctx.source === envSource ? 'env' : 'config-file';
      } else {
        warnings.push(
          `WARNING: DX_SECURITY_CONTEXT from ${ctx.source!.path ?? 'the environment'} is not a valid security context; ignored`,
        );
      }
    }
  }

  const jobId = pick('DX_JOB_ID').value;
  const projectContext = jobId ? pick('DX_WORKSPACE_ID').value : pick('DX_PROJECT_CONTEXT_ID').value;
  const caCert = cli.certificateFile ?? pick('DX_CA_CERT').value;
  return {
    protocol,
    host,
    port,
    token,
    tokenType,
    tokenSource,
    projectContext,
    caCert,
    configWarnings: warnings,
    looked,
  };
}

function portOf(p: { value?: string; source?: Source }): number {
  if (p.value === undefined) return DEFAULT_SERVER.port;
  const n = /^\d+$/.test(p.value.trim()) ? Number(p.value.trim()) : NaN;
  if (!(n >= 1 && n <= 65535)) {
    throw new UsageError(
      `Invalid DX_APISERVER_PORT '${p.value}' (from ${p.source?.path ?? 'the environment'}); expected a port number`,
    );
  }
  return n;
}

const CONTROL_NAMES: Record<string, string> = {
  '\n': 'a newline',
  '\r': 'a carriage return',
  '\t': 'a tab',
  ' ': 'a space',
};

/**
 * A token as given: UsageError (exit 1) when it is empty or blank, or holds a control character or
 * a space (a token pasted with its line end, or read from a file with one). Tokens are one word of
 * printable characters; the message says what is wrong and where, never the token.
 */
export function checkToken(token: string, from: string): string {
  if (token.trim() === '')
    throw new UsageError(
      `${from} is empty: give a token, or leave it out to use DX_SECURITY_CONTEXT or ~/.dnanexus_config`,
    );
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x20\x7f]/.exec(token);
  if (bad) {
    const what =
      CONTROL_NAMES[bad[0]] ??
      `a control character (0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')})`;
    throw new UsageError(
      `the token from ${from} contains ${what} at character ${bad.index + 1} of ${token.length}: a token is one line of printable characters; check how it was copied or read from its file`,
    );
  }
  return token;
}

/** `{"auth_token_type":"Bearer","auth_token":"…"}`; anything else → undefined. */
function parseSecurityContext(s: string): { token: string; type: string } | undefined {
  try {
    const v = JSON.parse(s) as { auth_token?: unknown; auth_token_type?: unknown };
    if (v && typeof v.auth_token === 'string') {
      return {
        token: v.auth_token,
        type: typeof v.auth_token_type === 'string' ? v.auth_token_type : 'Bearer',
      };
    }
  } catch {
    // fall through: malformed
  }
  return undefined;
}

/** environment.json: string or integer values only; any other type → the whole file is ignored. */
function readJsonConfig(path: string, warnings: string[]): Source {
  const src: Source = { name: 'environment.json', path, values: {} };
  const text = readIfExists(path);
  if (text === undefined) return src;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    warnings.push(`WARNING: ignoring ${path}: not valid JSON (${(err as Error).message})`);
    return src;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    warnings.push(`WARNING: ignoring ${path}: it is not a JSON object`);
    return src;
  }
  const values: Partial<Record<ConfigKey, string>> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') values[k as ConfigKey] = val;
    else if (typeof val === 'number' && Number.isInteger(val)) values[k as ConfigKey] = String(val);
    else {
      warnings.push(`WARNING: ignoring ${path}: the value of '${k}' is not a string or an integer`);
      return src;
    }
  }
  for (const k of CONFIG_KEYS) if (values[k] !== undefined) src.values[k] = values[k];
  return src;
}

/** `environment`: lines `export KEY='value'` (also `KEY=value`, double quotes, `'\''` escapes). */
function readShellConfig(path: string): Source {
  const src: Source = { name: 'environment', path, values: {} };
  const text = readIfExists(path);
  if (text === undefined) return src;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(raw);
    if (!m || !(CONFIG_KEYS as readonly string[]).includes(m[1])) continue;
    src.values[m[1] as ConfigKey] = unquote(m[2].trim());
  }
  return src;
}

function unquote(v: string): string {
  if (v.startsWith("'")) {
    // Shell single quotes, with '\'' standing for a literal quote.
    return v
      .split("'\\''")
      .map((piece) => piece.replace(/^'|'$/g, ''))
      .join("'");
  }
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2)
    return v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return v;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function warnIfLoose(path: string, warnings: string[]): void {
  try {
    if (process.platform !== 'win32' && (statSync(path).mode & 0o044) !== 0) {
      warnings.push(
        `WARNING: ${path} holds an auth token and can be read by other users; run: chmod 600 ${path}`,
      );
    }
  } catch {
    // unreadable now: nothing to say
  }
}

/** Tests shorten retry waits through the environment (UA_RETRY_MIN_DELAY_MS); users never need to. */
export function retryOverride(
  env: NodeJS.ProcessEnv = process.env,
): { minDelayMs: number; maxDelayMs: number } | undefined {
  const ms = Number(env.UA_RETRY_MIN_DELAY_MS);
  return Number.isFinite(ms) && ms > 0 ? { minDelayMs: ms, maxDelayMs: ms * 8 } : undefined;
}

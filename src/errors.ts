/**
 * Every error class of the agent, in one place. Each has a stable `code` from `UaErrorCode`; API
 * errors keep the platform's error type and HTTP status so diagnostics and retry decisions can be
 * made on them. (ua-platform's own ApiError, the server side, is src/platform/errors.ts.)
 */

/** The stable codes; scripts and tests may match on them, so a code is never renamed. */
export type UaErrorCode =
  | 'UA_ERR_ABORTED'
  | 'UA_ERR_API'
  | 'UA_ERR_AUTH'
  | 'UA_ERR_BAD_JSON'
  | 'UA_ERR_CA'
  | 'UA_ERR_CLOSE'
  | 'UA_ERR_CLOUD'
  | 'UA_ERR_CONNECT'
  | 'UA_ERR_CONNECTION'
  | 'UA_ERR_DAEMON_CONFIG'
  | 'UA_ERR_DAEMON_RUNNING'
  | 'UA_ERR_DIRECT'
  | 'UA_ERR_FILE_CHANGED'
  | 'UA_ERR_LOG_FILE'
  | 'UA_ERR_PROJECT'
  | 'UA_ERR_PROJECT_AMBIGUOUS'
  | 'UA_ERR_PUT'
  | 'UA_ERR_QUEUE'
  | 'UA_ERR_READ'
  | 'UA_ERR_RESUME_AMBIGUOUS'
  | 'UA_ERR_RESUME_MISMATCH'
  | 'UA_ERR_STATE_DIR'
  | 'UA_ERR_TAR'
  | 'UA_ERR_TOO_OLD'
  | 'UA_ERR_USAGE'
  | 'UA_ERR_VERIFY';

export class UaError extends Error {
  readonly code: UaErrorCode;
  constructor(code: UaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UaError';
    this.code = code;
  }
}

/** The platform answered with its error envelope (or a non-JSON error body). */
export class ApiCallError extends UaError {
  readonly route: string;
  readonly status: number;
  /** The platform's error type, e.g. `InvalidAuthentication`; `HTTP<status>` when the body had none. */
  readonly type: string;
  readonly requestId?: string;
  readonly retryAfterMs?: number;

  constructor(o: {
    route: string;
    status: number;
    type: string;
    message: string;
    requestId?: string;
    retryAfterMs?: number;
  }) {
    super('UA_ERR_API', `${o.type}: ${o.message} (HTTP ${o.status} from /${o.route})`);
    this.name = 'ApiCallError';
    this.route = o.route;
    this.status = o.status;
    this.type = o.type;
    this.requestId = o.requestId;
    this.retryAfterMs = o.retryAfterMs;
  }

  /** The platform's own message without our decoration. */
  get apiMessage(): string {
    return this.message.replace(/^[^:]+: /, '').replace(/ \(HTTP \d+ from \/[^)]*\)$/, '');
  }
}

/** The request never got an HTTP answer: DNS, refused, reset, TLS, timeout. */
export class ConnectionError extends UaError {
  readonly url: string;
  /** True when nothing can have reached the server (DNS failure, connection refused). */
  readonly neverConnected: boolean;
  /** The proxy the request went through (URL masked, and its variable), if any. */
  readonly proxy?: { masked: string; from: string };
  constructor(url: string, cause: unknown, proxy?: { masked: string; from: string }) {
    const c = cause as { code?: string; message?: string };
    const via = proxy ? ` through proxy ${proxy.masked} (${proxy.from})` : '';
    super(
      'UA_ERR_CONNECTION',
      `cannot reach ${new URL(url).origin}${via}: ${c?.code ?? ''} ${c?.message ?? String(cause)}`.trim(),
      { cause },
    );
    this.name = 'ConnectionError';
    this.url = url;
    this.proxy = proxy ? { masked: proxy.masked, from: proxy.from } : undefined;
    this.neverConnected = [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'ENETUNREACH',
      'ENETDOWN',
      'EHOSTUNREACH',
    ].includes(c?.code ?? '');
  }
}

/** A part PUT was answered with a non-2xx status. */
export class PartPutError extends UaError {
  readonly status: number;
  readonly body: string;
  readonly retryAfterMs?: number;
  constructor(status: number, body: string, retryAfterMs?: number) {
    super(
      'UA_ERR_PUT',
      `Request failed with HTTP status code ${status}, server Response: '${body.slice(0, 300)}'`,
    );
    this.name = 'PartPutError';
    this.status = status;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The local file is not the version that was planned (rewritten, replaced, truncated) while it was uploaded. */
export class FileChangedError extends UaError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(
      'UA_ERR_FILE_CHANGED',
      `${path} changed while it was uploaded (${detail}); nothing was closed — rerun to upload the new content`,
    );
    this.name = 'FileChangedError';
    this.path = path;
  }
}

/** A run was cancelled through its AbortSignal. */
export class AbortedError extends UaError {
  constructor() {
    super('UA_ERR_ABORTED', 'The upload was cancelled');
    this.name = 'AbortedError';
  }
}

export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return err instanceof AbortedError || (signal?.aborted ?? false) || (err as Error)?.name === 'AbortError';
}

/**
 * A command-line problem; the CLI exits with `exitCode` (1, like the classic agent).
 * `showHelp` true = a parse error: the caller prints `Error processing arguments: <message>` (the
 * classic first line, `displayLine`) and a pointer to `--help` (the classic agent printed the whole
 * help, 36 lines that buried the one that mattered). `showHelp` false = a validate()/input error:
 * the caller prints `ERROR: <message>`.
 */
export class UsageError extends UaError {
  readonly exitCode = 1;
  readonly showHelp: boolean;
  constructor(message: string, showHelp = false) {
    super('UA_ERR_USAGE', message);
    this.name = 'UsageError';
    this.showHelp = showHelp;
  }

  /** The line the classic agent printed for it. */
  get displayLine(): string {
    return this.showHelp ? `Error processing arguments: ${this.message}` : `ERROR: ${this.message}`;
  }
}

/** Failures that stop the whole run before any file object is made; `exitCode` follows the classic agent. */
export class RunError extends UaError {
  readonly exitCode: number;
  constructor(code: UaErrorCode, message: string, exitCode: number, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'RunError';
    this.exitCode = exitCode;
  }
}

/** The daemon cannot start or go on (bad config, state dir in use, executable not found): exit 1. */
export class DaemonError extends UaError {
  readonly exitCode = 1;
  constructor(code: UaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DaemonError';
  }
}

/** Reading a part failed with a system error (ENOENT, EACCES, EIO …); `sysCode` keeps its code. */
export class PartReadError extends UaError {
  readonly path: string;
  readonly sysCode: string;
  constructor(path: string, sysCode: string, message: string) {
    super('UA_ERR_READ', message);
    this.name = 'PartReadError';
    this.path = path;
    this.sysCode = sysCode;
  }
}

/** A tar batch cannot be laid out as given (a bad member name, size, mode, or a name twice). */
export class TarMemberError extends UaError {
  readonly member: string;
  constructor(member: string, detail: string) {
    super('UA_ERR_TAR', `tar member "${member}": ${detail}`);
    this.name = 'TarMemberError';
    this.member = member;
  }
}

/** A cloud request failed for good (after the SDK's retries): names the object and the drive. */
export class CloudError extends UaError {
  readonly status?: number;
  readonly cloudCode?: string;
  constructor(message: string, o: { status?: number; cloudCode?: string; cause?: unknown } = {}) {
    super('UA_ERR_CLOUD', message, { cause: o.cause });
    this.name = 'CloudError';
    this.status = o.status;
    this.cloudCode = o.cloudCode;
  }
}

/** The classic agent's line for a project that cannot be used (scripts grep for it; keep it verbatim). */
export function classicProjectError(spec: string): string {
  return (
    `"${spec}" does not represent a valid project name or ID (with >=UPLOAD access). ` +
    `Please check the project name/ID given and whether you have >= UPLOAD permission to project specified.`
  );
}

export class ProjectResolutionError extends UaError {
  readonly spec: string;
  readonly candidates: Array<{ id: string; name?: string }>;
  constructor(spec: string, candidates: Array<{ id: string; name?: string }>) {
    super(
      candidates.length > 1 ? 'UA_ERR_PROJECT_AMBIGUOUS' : 'UA_ERR_PROJECT',
      candidates.length > 1
        ? `"${spec}" does not uniquely identify a project (multiple matches found)`
        : classicProjectError(spec),
    );
    this.name = 'ProjectResolutionError';
    this.spec = spec;
    this.candidates = candidates;
  }
}

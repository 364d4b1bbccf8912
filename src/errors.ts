/**
 * The agent's error classes. Each has a stable `code`; API errors keep the platform's error type and
 * HTTP status so diagnostics and retry decisions can be made on them.
 */
export class UaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
  constructor(url: string, cause: unknown) {
    const c = cause as { code?: string; message?: string };
    super(
      'UA_ERR_CONNECTION',
      `cannot reach ${new URL(url).origin}: ${c?.code ?? ''} ${c?.message ?? String(cause)}`.trim(),
      { cause },
    );
    this.name = 'ConnectionError';
    this.url = url;
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

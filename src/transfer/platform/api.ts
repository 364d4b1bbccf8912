import { CLASSIC_VERSION } from '../../version.js';
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { ApiCallError, UaError } from '../../errors.js';
import { httpRequest, USER_AGENT } from '../http.js';
import { classify, DEFAULT_RETRY, parseRetryAfter, withRetry, type RetryPolicy } from '../retry.js';

export interface ApiServer {
  protocol: string;
  host: string;
  port: number;
}

export interface PlatformClientOptions {
  server: ApiServer;
  /** Bearer token; kept private to this object and never put in an error or log line. */
  token?: string;
  agent: Dispatcher;
  retry?: Partial<RetryPolicy>;
  /** Told about every retry, for -v logs and JSON events. */
  onRetry?(route: string, attempt: number, delayMs: number, reason: string, err: unknown): void;
  /** Told when each attempt ends, for -vv timings: status undefined = no answer. */
  onCall?(route: string, status: number | undefined, ms: number, attempt: number): void;
}

export interface CallOptions {
  /** Retry on failures that may have reached the server. Our calls are idempotent or carry nonces. */
  idempotent?: boolean;
  /** Attempts override (e.g. 1 for a probe). */
  attempts?: number;
  signal?: AbortSignal;
}

/** A nonce like dxpy's: random hex plus a timestamp, so a retried create returns the first answer. */
export function newNonce(): string {
  return randomBytes(32).toString('hex') + (Date.now() / 1000).toFixed(6);
}

/** Typed calls to the platform API: `POST /<subject>/<method>` with JSON, the error envelope decoded. */
export class PlatformClient {
  readonly baseUrl: string;
  readonly #token?: string;
  readonly #agent: Dispatcher;
  readonly #retry: RetryPolicy;
  readonly #onRetry?: PlatformClientOptions['onRetry'];
  readonly #onCall?: PlatformClientOptions['onCall'];

  constructor(o: PlatformClientOptions) {
    const { protocol, host, port } = o.server;
    this.baseUrl = `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#token = o.token;
    this.#agent = o.agent;
    this.#retry = { ...DEFAULT_RETRY, ...o.retry };
    this.#onRetry = o.onRetry;
    this.#onCall = o.onCall;
  }

  get hasToken(): boolean {
    return this.#token !== undefined && this.#token !== '';
  }

  async call<T = Record<string, unknown>>(
    route: string,
    input: object = {},
    o: CallOptions = {},
  ): Promise<T> {
    const policy = { ...this.#retry, attempts: o.attempts ?? this.#retry.attempts };
    const idempotent = o.idempotent ?? true;
    return withRetry(
      (attempt) => this.#timed<T>(route, input, attempt, o.signal),
      policy,
      (err) => classify(err, idempotent),
      {
        signal: o.signal,
        onRetry: (err, attempt, delay) => this.#onRetry?.(route, attempt, delay, (err as Error).message, err),
      },
    );
  }

  async #timed<T>(route: string, input: object, attempt: number, signal?: AbortSignal): Promise<T> {
    if (!this.#onCall) return this.#once<T>(route, input, signal);
    const t0 = performance.now();
    let status: number | undefined;
    try {
      const reply = await this.#once<T>(route, input, signal);
      status = 200;
      return reply;
    } catch (err) {
      if (err instanceof ApiCallError) status = err.status;
      else if ((err as Error)?.name === 'JsonParseError') status = 200;
      throw err;
    } finally {
      this.#onCall(route, status, performance.now() - t0, attempt);
    }
  }

  async #once<T>(route: string, input: object, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'dnanexus-api': '1.0.0',
      'user-agent': USER_AGENT,
    };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const url = `${this.baseUrl}/${route.split('/').map(encodeURIComponent).join('/')}`;
    const res = await httpRequest(this.#agent, url, {
      method: 'POST',
      headers,
      body: JSON.stringify(input),
      signal,
    });
    const requestId = header(res.headers['x-request-id']);
    const text = res.body.toString('utf8');
    if (res.status === 200) {
      try {
        return JSON.parse(text) as T;
      } catch {
        const e = new UaError('UA_ERR_BAD_JSON', `/${route} answered 200 with a body that is not JSON`);
        e.name = 'JsonParseError';
        throw e;
      }
    }
    let type = `HTTP${res.status}`;
    let message = text.slice(0, 300) || `HTTP status ${res.status}`;
    try {
      const body = JSON.parse(text) as { error?: { type?: string; message?: string } };
      if (body.error?.type) type = body.error.type;
      if (body.error?.message) message = body.error.message;
    } catch {
      // not the envelope: keep the raw text
    }
    throw new ApiCallError({
      route,
      status: res.status,
      type,
      message,
      requestId,
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    });
  }

  // --- typed wrappers for the routes the agent uses -------------------------------------------

  /** Two attempts only: it is the first call, and an unreachable server should be reported quickly. */
  greet(signal?: AbortSignal) {
    return this.call<GreetReply>(
      'system/greet',
      { client: 'dnanexus-upload-agent', version: CLASSIC_VERSION, platform: 'linux' },
      { signal, attempts: 2 },
    );
  }
  whoami(signal?: AbortSignal) {
    return this.call<{ id: string }>('system/whoami', {}, { signal });
  }
  describeProject(id: string, input: object = {}, signal?: AbortSignal) {
    return this.call<ProjectDescription>(`${id}/describe`, input, { signal });
  }
  findProjects(input: object, signal?: AbortSignal) {
    return this.call<{
      results: Array<{ id: string; level: string; describe?: ProjectDescription }>;
      next: unknown;
    }>('system/findProjects', input, { signal });
  }
  findDataObjects(input: object, signal?: AbortSignal) {
    return this.call<{
      results: Array<{ id: string; project: string; describe?: FileDescription }>;
      next: unknown;
    }>('system/findDataObjects', input, { signal });
  }
  fileNew(input: FileNewInput, signal?: AbortSignal) {
    return this.call<{ id: string }>('file/new', { ...input, nonce: input.nonce ?? newNonce() }, { signal });
  }
  describeFile(id: string, input: object = {}, signal?: AbortSignal) {
    return this.call<FileDescription>(`${id}/describe`, input, { signal });
  }
  uploadUrl(id: string, input: { index: number; size: number; md5: string }, signal?: AbortSignal) {
    return this.call<UploadUrlReply>(`${id}/upload`, input, { signal });
  }
  closeFile(id: string, signal?: AbortSignal) {
    return this.call<{ id: string }>(`${id}/close`, {}, { signal });
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export interface GreetReply {
  update?: { available?: boolean; version?: string; url?: string; level?: string };
  messages?: Array<{ date: number; title: string; body: string }>;
}

export interface ProjectDescription {
  id: string;
  name: string;
  level: string;
  region?: string;
  defaultSymlink?: { drive: string; container: string; prefix?: string } | null;
  fileUploadParameters?: FileUploadParameters;
  [k: string]: unknown;
}

export interface FileUploadParameters {
  minimumPartSize: number;
  maximumPartSize: number;
  maximumFileSize: number;
  maximumNumParts: number;
  emptyLastPartAllowed: boolean;
}

export interface FilePart {
  state: string;
  size: number;
  md5: string;
}

export interface FileDescription {
  id: string;
  name: string;
  folder?: string;
  project?: string;
  state: 'open' | 'closing' | 'closed';
  size?: number;
  parts?: Record<string, FilePart>;
  [k: string]: unknown;
}

export interface FileNewInput {
  project: string;
  folder: string;
  name: string;
  parents: true;
  media: string;
  properties: Record<string, string>;
  types?: string[];
  tags?: string[];
  details?: unknown;
  hidden?: true;
  nonce?: string;
}

export interface UploadUrlReply {
  url: string;
  expires: number;
  headers: Record<string, string>;
}

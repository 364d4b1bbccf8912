import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { idClass } from '../common/ids.js';
import { authenticate } from './auth/tokens.js';
import { levelIn, requireLevel } from './auth/policy.js';
import { ApiError } from './errors.js';
import type { FaultRule } from './faults.js';
import { checkContentType, isOversizedBody, parseJsonObject, readBody } from './http/body.js';
import type { Principal, RouteContext, RouteDeps, RouteTable } from './http/route.js';
import { handleDownload, handlePartPut, isSignedUrlRequest } from './routes/parts-http.js';
import { sendS3Error } from './routes/s3-errors.js';
import { isUserId } from './store/users.js';

/** Subjects that name a class (`/file/new`) rather than an entity. */
const CLASS_SUBJECTS = new Set([
  'system',
  'project',
  'file',
  'record',
  'applet',
  'workflow',
  'job',
  'analysis',
  'drive',
  'container',
  'user',
  'org',
]);

export interface AppOptions {
  /** No log lines on stderr (tests). */
  quiet?: boolean;
}

/** The API route key for a request path (`system/greet`, `file/new`, or an entity-ID key: `file-*` then `/describe`); undefined if not API-shaped. */
export function routeKeyOf(pathname: string): { key: string; subject: string; method: string } | undefined {
  const parts = pathname.split('/');
  if (parts.length !== 3 || parts[0] !== '' || parts[1] === '' || parts[2] === '') return undefined;
  let subject: string;
  let method: string;
  try {
    subject = decodeURIComponent(parts[1]);
    method = decodeURIComponent(parts[2]);
  } catch {
    return undefined;
  }
  // A user is named by handle (`user-alice`, §2), not by 24 ID characters: route it as `user-*`.
  const klass = idClass(subject) ?? (isUserId(subject) ? 'user' : undefined);
  return { key: klass ? `${klass}-*/${method}` : `${subject}/${method}`, subject, method };
}

/** Request IDs: a random per-process prefix and a counter (24 hex digits), not 12 random bytes each. */
const REQUEST_ID_PREFIX = randomBytes(6).toString('hex');
let requestCounter = 0;
function nextRequestId(): string {
  return REQUEST_ID_PREFIX + (requestCounter++).toString(16).padStart(12, '0');
}

export function createApp(deps: RouteDeps, routes: RouteTable, opts: AppOptions = {}): Server {
  const log = (line: string) => {
    if (!opts.quiet) process.stderr.write(`[ua-platform] ${line}\n`);
  };
  const server = createServer({ keepAlive: true }, (req, res) => {
    const requestId = nextRequestId();
    res.setHeader('X-Request-ID', requestId);
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    handle(req, res, requestId).catch((err: unknown) => {
      // Only reached when writing the answer itself failed (e.g. a header value Node refuses).
      log(`${requestId} failed to answer: ${err instanceof Error ? err.message : String(err)}`);
      answerInternalError(req, res);
    });
  });
  // Clients (undici) keep connections for ~4 s; stay open a little longer than they do.
  server.keepAliveTimeout = 10_000;

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') return preflight(req, res);
    if (method === 'PUT' && (await handlePartPut(req, res, deps))) return;
    if ((method === 'GET' || method === 'HEAD') && (await handleDownload(req, res, deps))) return;

    const pathname = (req.url ?? '/').split('?')[0]; // query strings are ignored (§1.1)
    const route = routeKeyOf(pathname);
    if (method !== 'POST') {
      req.resume();
      return sendError(res, new ApiError('MethodNotAllowed', `${method} is not allowed on ${pathname}`));
    }
    const key = route?.key ?? pathname;
    deps.stats.countApi(key);
    const fault = deps.faults.take('api', key);
    if (fault && (await applyFaultBefore(fault, req, res))) return;

    let result: unknown;
    try {
      result = await runRoute(req, route, requestId);
    } catch (err) {
      if (fault?.action === 'drop-response') return void res.destroy();
      const apiErr = toApiError(err, requestId, key);
      if (isOversizedBody(err)) res.setHeader('Connection', 'close'); // the rest of the body is never read
      return sendError(res, apiErr);
    }
    if (fault?.action === 'drop-response') return void res.destroy();
    sendJson(res, 200, result ?? {});
  }

  async function runRoute(
    req: IncomingMessage,
    route: ReturnType<typeof routeKeyOf>,
    requestId: string,
  ): Promise<unknown> {
    checkContentType(req.headers['content-type']);
    const input = parseJsonObject(await readBody(req));
    const handler = route && Object.hasOwn(routes, route.key) ? routes[route.key] : undefined;
    if (!route || !handler) {
      const subject = route?.subject;
      if (subject && !CLASS_SUBJECTS.has(subject) && !idClass(subject) && !isUserId(subject)) {
        throw new ApiError('ResourceNotFound', `The entity ${subject} could not be found`);
      }
      throw new ApiError('ResourceNotFound', `The route ${req.url?.split('?')[0]} could not be found`);
    }
    // Every route needs a caller; authenticating up front means no handler can forget to.
    const principal: Principal = authenticate(deps.store, header(req, 'authorization'), deps.now());
    const ctx: RouteContext = {
      subject: route.subject,
      method: route.method,
      input,
      principal: () => principal,
      levelIn: (projectId) => levelIn(deps.store, principal, projectId),
      requireLevel: (projectId, need) => requireLevel(deps.store, principal, projectId, need),
      deps,
      requestId,
      origin: originOf(req, deps),
    };
    const changesBefore = deps.store.durableChanges();
    const result = await handler(ctx);
    // Group commit: a route that wrote answers only once its commits are on disk (see syncWal).
    if (deps.store.open && deps.store.durableChanges() !== changesBefore) await deps.store.syncWal();
    return result;
  }

  /** Returns true when the fault answered (or killed) the request itself. */
  async function applyFaultBefore(
    fault: FaultRule,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<boolean> {
    switch (fault.action) {
      case 'drop':
        req.socket.destroy();
        return true;
      case 'delay':
        await sleep(fault.delayMs ?? 0);
        return false;
      case 'drop-response':
        return false;
      case 'status': {
        req.resume();
        const status = fault.status ?? 503;
        const type =
          status === 503 ? 'ServiceUnavailable' : status === 429 ? 'RateLimitConditional' : 'InternalError';
        const headers: Record<string, string> = {};
        if (status === 503 || status === 429)
          headers['Retry-After'] = String(Math.ceil(fault.retryAfter ?? 1));
        sendJson(res, status, { error: { type, message: `Injected fault: HTTP ${status}` } }, headers);
        return true;
      }
    }
  }

  function toApiError(err: unknown, requestId: string, key: string): ApiError {
    if (err instanceof ApiError) return err;
    // Stack traces carry no request headers, so no token can leak through this line.
    log(
      `${requestId} ${key} internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return new ApiError('InternalError', 'An internal error occurred');
  }

  return server;
}

/** Headers set before a route runs, which an error answer keeps. */
const BASE_HEADERS = new Set(['x-request-id', 'access-control-allow-origin', 'vary']);

/**
 * Answers 500 in the envelope of the endpoint (S3's XML on signed URLs, the API's JSON elsewhere)
 * when no byte of an answer has gone out: a client gets an error it can report and retry, not a
 * closed connection. What the failed answer had set (Content-Length, Content-Range…) is dropped
 * first. Once bytes went out, or if even this fails, the socket is of no further use.
 */
function answerInternalError(req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent || res.writableEnded) return void res.destroy();
  try {
    for (const name of res.getHeaderNames()) if (!BASE_HEADERS.has(name)) res.removeHeader(name);
    // The request body may be partly unread; this connection cannot carry another request.
    res.setHeader('Connection', 'close');
    req.resume();
    if (isSignedUrlRequest(req)) {
      sendS3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    } else sendError(res, new ApiError('InternalError', 'An internal error occurred'));
  } catch {
    res.destroy();
  }
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (header(req, 'access-control-request-method')?.toUpperCase() !== 'POST') {
    return sendError(res, new ApiError('MethodNotAllowed', 'Only POST may be preflighted'));
  }
  res.setHeader('Access-Control-Allow-Methods', 'POST');
  const reqHeaders = header(req, 'access-control-request-headers');
  if (reqHeaders) res.setHeader('Access-Control-Allow-Headers', reqHeaders);
  res.setHeader('Access-Control-Max-Age', '3600');
  res.writeHead(200, { 'Content-Length': '0' }).end();
}

/** A Host header as a URL authority may hold it: a name or IPv4 address, or a bracketed IPv6 one, and a port. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The origin a client used, so signed URLs work behind a port mapping or a proxy that keeps the
 * Host header; a configured public URL wins (a TLS proxy: the server cannot see the scheme). A
 * missing or malformed Host falls back to the listening address.
 */
function originOf(req: IncomingMessage, deps: RouteDeps): string {
  if (deps.config.publicUrl) return deps.config.publicUrl;
  const host = header(req, 'host');
  return host && HOST_HEADER.test(host) ? `http://${host}` : deps.baseUrl();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendError(res: ServerResponse, err: ApiError): void {
  const headers: Record<string, string> = {};
  if (err.retryAfter !== undefined) headers['Retry-After'] = String(Math.ceil(err.retryAfter));
  sendJson(res, err.status, err.body(), headers);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(data.length),
  });
  res.end(data);
}

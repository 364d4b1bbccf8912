import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';

/** Largest JSON request body accepted; API inputs are small, part bytes go to the PUT handler. */
export const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Content-Type must be absent or application/json, optionally with a charset (dxcpp sends utf-8). */
export function checkContentType(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  const [type, ...params] = header.split(';').map((s) => s.trim().toLowerCase());
  const paramsOk = params.every((p) => p === '' || /^charset="?utf-8"?$/.test(p));
  if (type !== 'application/json' || !paramsOk) {
    throw new ApiError(
      'MalformedJSON',
      `Content-Type must be application/json, not ${JSON.stringify(header)}`,
    );
  }
}

/** Reads the whole body; InvalidInput once it passes the limit (the caller then closes the connection). */
export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  // Plain listeners, not `for await`: an async iterator per request cost more than the read.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const oversized = new WeakSet<ApiError>();

function tooLarge(limit: number): ApiError {
  const err = new ApiError('InvalidInput', `The request body is larger than ${limit} bytes`);
  oversized.add(err);
  return err;
}

/** Whether this error left part of the body unread, so the connection cannot be reused. */
export function isOversizedBody(err: unknown): boolean {
  return err instanceof ApiError && oversized.has(err);
}

/**
 * Deepest nesting of arrays and objects accepted in a request body. Inputs are shallow (details and
 * describe options a few levels); the limit keeps every later walk of the value (storing details,
 * answering with them) far from the stack's end: 100,000 levels parsed fine but overflowed the stack
 * in JSON.stringify, a 500.
 */
export const MAX_JSON_DEPTH = 128;

/** The deepest `[`/`{` nesting in JSON text (brackets inside strings do not count). */
function nestingDepth(body: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The body as a JSON object; MalformedJSON for anything else (including an empty body and arrays). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (nestingDepth(body) > MAX_JSON_DEPTH)
    throw new ApiError('InvalidInput', `The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError('MalformedJSON', 'The request body could not be parsed as JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ApiError('MalformedJSON', 'The request body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

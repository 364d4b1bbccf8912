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

/** The body as a JSON object; MalformedJSON for anything else (including an empty body and arrays). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
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

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { isId } from '../../common/ids.js';
import { checkDownload } from '../auth/signing.js';
import { contentDisposition, type ByteRange } from '../blobs/blob-store.js';
import type { RouteDeps } from '../http/route.js';
import { sendS3Error } from './s3-errors.js';

/**
 * `Range` → one byte range, 'unsatisfiable', or undefined for "send it all". Only a single
 * `bytes=a-b` / `bytes=a-` / `bytes=-n` range is honoured; anything else is ignored, as RFC 9110
 * allows.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** GET/HEAD `/download/<fileId>?expires=&sig=&filename=` — the URL `/file-xxxx/download` signs. */
export async function handleDownload(
  req: IncomingMessage,
  res: ServerResponse,
  deps: RouteDeps,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const m = /^\/download\/([^/]+)$/.exec(url.pathname);
  if (!m) return false;
  req.resume();
  const fileId = m[1];
  const q = url.searchParams;
  const expires = Number(q.get('expires'));
  const filename = q.get('filename') ?? '';
  if (!isId(fileId, 'file') || !Number.isSafeInteger(expires) || !q.get('sig')) {
    sendS3Error(res, 400, 'InvalidArgument', 'malformed download URL');
    return true;
  }
  const check = checkDownload(
    deps.config.signingKey,
    { fileId, expires, filename },
    q.get('sig') ?? '',
    deps.now(),
  );
  if (check !== 'ok') {
    if (check === 'expired') sendS3Error(res, 403, 'AccessDenied', 'Request has expired');
    else sendS3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature does not match');
    return true;
  }
  deps.store.settleClosing(deps.now());
  const file = deps.store.getFile(fileId);
  const blobs = deps.blobs;
  const size = file?.state === 'closed' ? await blobs.objectSize(fileId) : undefined;
  if (size === undefined) {
    sendS3Error(res, 404, 'NoSuchKey', 'The file does not exist or is not closed');
    return true;
  }
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': '0' });
    res.end();
    return true;
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Content-Disposition': contentDisposition(filename),
    'Content-Length': String(range ? range.end - range.start + 1 : size),
  };
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return true;
  }
  try {
    await pipeline(blobs.openObject(fileId, range), res);
  } catch {
    res.destroy(); // the client went away; nothing to answer
  }
  return true;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { isId } from '../../common/ids.js';
import { checkUpload } from '../auth/signing.js';
import { PartMismatchError, md5Base64 } from '../blobs/blob-store.js';
import type { RouteDeps } from '../http/route.js';
import { handleDownload } from './download-http.js';
import { sendS3Error } from './s3-errors.js';

export { handleDownload };

/** Requests for the signed-URL endpoints (part PUTs, downloads), which answer in S3's XML, not the API's JSON. */
export function isSignedUrlRequest(req: IncomingMessage): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'PUT') return path.startsWith('/upload/');
  return (req.method === 'GET' || req.method === 'HEAD') && path.startsWith('/download/');
}

const MD5_RE = /^[0-9a-f]{32}$/;

interface SignedPut {
  fileId: string;
  index: number;
  size: number;
  md5: string;
  expires: number;
  sig: string;
}

/** `/upload/<fileId>/<index>?size=&md5=&expires=&sig=` → its fields, or a reason it is malformed. */
function parsePutUrl(url: URL): SignedPut | string {
  const m = /^\/upload\/([^/]+)\/(\d{1,5})$/.exec(url.pathname);
  if (!m || !isId(m[1], 'file')) return 'malformed upload path';
  const q = url.searchParams;
  const num = (k: string) => (/^\d{1,16}$/.test(q.get(k) ?? '') ? Number(q.get(k)) : NaN);
  const put = {
    fileId: m[1],
    index: Number(m[2]),
    size: num('size'),
    md5: q.get('md5') ?? '',
    expires: num('expires'),
  };
  if (Number.isNaN(put.size) || Number.isNaN(put.expires) || !MD5_RE.test(put.md5) || !q.get('sig')) {
    return 'missing or malformed query parameters';
  }
  return { ...put, sig: q.get('sig') ?? '' };
}

/** Reads and discards the rest of a body, so the client sees our answer instead of a reset. */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  req.resume();
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
  });
}

/**
 * PUT of one part to a URL signed by `/file-xxxx/upload`. Streams the body to the blob store while
 * hashing; a size or MD5 mismatch is 400 and nothing is recorded. Success is 200 with an empty
 * body (the classic agent requires that). Every attempt lands in deps.stats.partPuts (the newest 50,000).
 * `Expect: 100-continue` is answered by node:http itself (the server has no 'checkContinue'
 * listener), so the body simply arrives.
 */
export async function handlePartPut(
  req: IncomingMessage,
  res: ServerResponse,
  deps: RouteDeps,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!url.pathname.startsWith('/upload/')) return false;
  const record = { fileId: '', index: 0, size: 0, ok: false };
  try {
    await putPart(req, res, deps, url, record);
  } finally {
    deps.stats.recordPut(record);
  }
  return true;
}

async function putPart(
  req: IncomingMessage,
  res: ServerResponse,
  deps: RouteDeps,
  url: URL,
  record: { fileId: string; index: number; size: number; ok: boolean },
): Promise<void> {
  const put = parsePutUrl(url);
  if (typeof put === 'string') {
    await drain(req);
    return sendS3Error(res, 400, 'InvalidArgument', put);
  }
  Object.assign(record, { fileId: put.fileId, index: put.index, size: put.size });

  const fault = deps.faults.take('put', 'part');
  if (fault?.action === 'delay') await sleep(fault.delayMs ?? 0);
  if (fault?.action === 'status') {
    await drain(req);
    const status = fault.status ?? 503;
    const retryAfter = status === 503 || status === 429 ? Math.ceil(fault.retryAfter ?? 1) : undefined;
    const code = status === 503 ? 'SlowDown' : status >= 500 ? 'InternalError' : 'InvalidRequest';
    return sendS3Error(res, status, code, `Injected fault: HTTP ${status}`, retryAfter);
  }
  if (fault?.action === 'drop') return dropHalfway(req, put.size);

  const check = checkUpload(deps.config.signingKey, put, put.sig, deps.now());
  if (check !== 'ok') {
    await drain(req);
    return check === 'expired'
      ? sendS3Error(res, 403, 'AccessDenied', 'Request has expired')
      : sendS3Error(
          res,
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided',
        );
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) !== put.size) {
    await drain(req);
    return sendS3Error(
      res,
      400,
      'IncompleteBody',
      `Content-Length ${declared} is not the signed size ${put.size}`,
    );
  }
  const contentMd5 = req.headers['content-md5'];
  if (contentMd5 !== undefined && contentMd5 !== md5Base64(put.md5)) {
    await drain(req);
    return sendS3Error(
      res,
      400,
      'InvalidDigest',
      'The Content-MD5 you specified does not match the signed MD5',
    );
  }
  const state = deps.store.fileState(put.fileId);
  if (state !== 'open') {
    await drain(req);
    return state
      ? sendS3Error(
          res,
          409,
          'InvalidObjectState',
          `The file is ${state}; parts can only be uploaded while it is open`,
        )
      : sendS3Error(res, 404, 'NoSuchUpload', 'The file does not exist');
  }

  const blobs = deps.blobs;
  let stored;
  try {
    stored = await blobs.putPart(put.fileId, put.index, req, { size: put.size, md5: put.md5 });
  } catch (err) {
    if (err instanceof PartMismatchError) {
      record.size = err.got.size;
      return sendS3Error(res, 400, err.code === 'BadDigest' ? 'BadDigest' : 'IncompleteBody', err.message);
    }
    // The client went away mid-body (or the disk failed): nothing was kept. A destroyed `req` has
    // no socket any more (null, whatever the type says).
    const socket = req.socket as IncomingMessage['socket'] | null;
    if (!res.headersSent && socket !== null && !socket.destroyed)
      return sendS3Error(res, 500, 'InternalError', 'Could not store the part');
    return;
  }
  const replaced = deps.store.open
    ? deps.store.recordPart(put.fileId, {
        index: put.index,
        size: stored.size,
        md5: stored.md5,
        blob: stored.key,
        now: deps.now(),
      })
    : false;
  if (replaced === false) {
    await blobs.deletePart(stored.key);
    return sendS3Error(res, 409, 'InvalidObjectState', 'The file was closed while the part was uploading');
  }
  // The part row (and a small part's bytes, a row too: blobs/inline.ts) must be on disk before
  // the 200, and before the blob it replaced is deleted.
  await deps.store.syncWal();
  if (replaced !== null) await blobs.deletePart(replaced);
  record.ok = true;
  if (fault?.action === 'drop-response') return void req.socket.destroy();
  res.writeHead(200, { ETag: `"${stored.md5}"`, 'Content-Length': '0' });
  res.end();
}

/** The `drop` fault: take about half the body, then cut the connection. */
async function dropHalfway(req: IncomingMessage, size: number): Promise<void> {
  // Taken first: leaving the loop destroys `req`, which detaches it from its socket.
  const socket = req.socket;
  let got = 0;
  const half = Math.floor(size / 2);
  for await (const chunk of req) {
    got += (chunk as Buffer).length;
    if (got >= half) break;
  }
  socket.destroy();
}

/**
 * The one route s3rver 3.7.1 lacks that the code under test relies on: ListParts
 * (`GET /bucket/key?uploadId=…`, https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html).
 * It answers from s3rver's own filesystem store, where UploadPart left each part as
 * `<root>/<bucket>/._S3rver_uploads/<uploadId>/<partNumber>` with its MD5 (hex) in `<partNumber>.md5`
 * and the upload's key in `…/<uploadId>/key`. It honours `max-parts` and `part-number-marker`, and an
 * unknown upload ID (or one of another key) is NoSuchUpload (404), as on S3. For an upload created with
 * `x-amz-checksum-algorithm: CRC32` each part also carries ChecksumCRC32, as S3 lists it: computed here
 * from the stored bytes (s3rver neither checks nor keeps the checksum header an UploadPart sends).
 *
 * In the same store, CompleteMultipartUpload is made to answer InvalidPart (400) the way S3 does when
 * a listed part was never uploaded or its ETag differs, and NoSuchUpload for an unknown upload:
 * unpatched, s3rver's request handler dies on the missing part file (uncaught ENOENT) and never answers.
 *
 * Everything else stays s3rver's, including its authentication middleware (access key lookup; it does
 * not check SigV4 signatures) and its XML encoding of responses and errors.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const require = createRequire(import.meta.url);

/** The members of s3rver's Koa context this route touches. */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  body?: unknown;
}
type Next = () => Promise<void>;
type Middleware = (ctx: KoaContext, next: Next) => Promise<void> | void;

/** s3rver's FilesystemStore, as far as it is used here. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getBucket(bucket: string): Promise<unknown>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<unknown>;
}

/** An S3rver instance: a Koa app (its middleware array ends with s3rver's router) and its store. */
export interface S3rverApp {
  middleware: Middleware[];
  store: FilesystemStore;
}

type S3ErrorCtor = new (code: string, message: string, detail?: Record<string, unknown>) => Error;
const S3Error = require('s3rver/lib/models/error.js') as S3ErrorCtor;
const authentication = require('s3rver/lib/middleware/authentication.js') as () => Middleware;

const noSuchUpload = (uploadId: string) =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );

/**
 * Adds ListParts and a real InvalidPart answer to an S3rver before it is started (run()).
 * `pageSize` is the most parts one answer lists whatever max-parts asks (S3's is 1000): a small one makes
 * callers that never set max-parts follow NextPartNumberMarker on a few parts.
 */
export function addListParts(app: S3rverApp, pageSize = 1000): void {
  const store = app.store;
  const uploadDir = (bucket: string, uploadId: string) =>
    // s3rver's upload IDs are 32 hex digits; anything else cannot name one (and no path escapes).
    /^[0-9a-f]+$/i.test(uploadId)
      ? join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId)
      : undefined;
  const readOr = (path: string) => readFile(path, 'utf8').catch(() => undefined);

  const listParts: Middleware = async (ctx, next) => {
    const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== 'GET' || !m || typeof uploadId !== 'string') return next();
    const bucket = decodeURIComponent(m[1]);
    const key = decodeURIComponent(m[2]);
    ctx.params = { bucket, key };
    // s3rver's own access check first (it reads ctx.params), then the answer.
    await authentication()(ctx, async () => {
      if (!(await store.getBucket(bucket)))
        throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
      const dir = uploadDir(bucket, uploadId);
      if (!dir || (await readOr(join(dir, 'key'))) !== key) throw noSuchUpload(uploadId);
      const maxParts = Math.min(pageSize, Number(ctx.query['max-parts'] ?? pageSize));
      const marker = Number(ctx.query['part-number-marker'] ?? 0);
      if (!Number.isInteger(maxParts) || maxParts < 0 || !Number.isInteger(marker) || marker < 0)
        throw new S3Error(
          'InvalidArgument',
          'max-parts and part-number-marker must be non-negative integers',
        );
      const numbers = (await readdir(dir))
        .filter((f) => /^[1-9]\d*$/.test(f))
        .map(Number)
        .filter((n) => n > marker)
        .sort((a, b) => a - b);
      const page = numbers.slice(0, maxParts);
      // s3rver keeps the CreateMultipartUpload request headers in `metadata`.
      const created = JSON.parse((await readOr(join(dir, 'metadata'))) ?? '{}') as Record<string, string>;
      const withCrc = created['x-amz-checksum-algorithm']?.toUpperCase() === 'CRC32';
      const parts = [];
      for (const n of page) {
        const [st, md5] = await Promise.all([stat(join(dir, String(n))), readOr(join(dir, `${n}.md5`))]);
        if (md5 === undefined) continue; // still being written: UploadPart has not answered yet
        const crc = withCrc ? Buffer.alloc(4) : undefined;
        crc?.writeUInt32BE(crc32(await readFile(join(dir, String(n)))));
        parts.push({
          PartNumber: n,
          LastModified: st.mtime.toISOString(),
          ETag: JSON.stringify(md5),
          ...(crc ? { ChecksumCRC32: crc.toString('base64') } : {}),
          Size: st.size,
        });
      }
      // s3rver's XML middleware turns a plain object body into the XML document (arrays repeat the tag).
      ctx.body = {
        ListPartsResult: {
          '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker: marker,
          NextPartNumberMarker: page.length ? page[page.length - 1] : marker,
          MaxParts: maxParts,
          IsTruncated: numbers.length > page.length,
          StorageClass: 'STANDARD',
          Part: parts,
        },
      };
    });
  };
  // Koa composes app.middleware when the server starts; the last entry is s3rver's router, which
  // would answer this GET with MethodNotAllowed, so the route goes just before it.
  app.middleware.splice(app.middleware.length - 1, 0, listParts);

  // CompleteMultipartUpload: check every listed part the way S3 does before s3rver concatenates them.
  const complete = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const dir = uploadDir(bucket, uploadId);
    if (!dir || (await readOr(join(dir, 'key'))) === undefined) throw noSuchUpload(uploadId);
    if (parts.some((p, i) => i > 0 && p.number <= parts[i - 1].number))
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.', {
        UploadId: uploadId,
      });
    for (const p of parts) {
      if ((await readOr(join(dir, `${p.number}.md5`))) !== p.etag)
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
          { UploadId: uploadId, PartNumber: p.number, ETag: p.etag },
        );
    }
    return complete(bucket, uploadId, parts);
  };
}

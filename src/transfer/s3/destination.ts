/**
 * Direct uploads into an S3 bucket with the user's own credentials (@aws-sdk/client-s3).
 *
 * A file of one part is one PutObject with Content-MD5 (the worker's MD5 of exactly the bytes sent,
 * which is also the object's MD5). Larger files are a multipart upload created with the CRC32
 * checksum algorithm: UploadPart per part with x-amz-checksum-crc32 (the worker's CRC-32, ~6× cheaper
 * than an MD5; S3 rejects a part whose bytes do not match it) and a known Content-Length, then
 * CompleteMultipartUpload with the ETags and CRCs. The object's MD5 is computed once, in order, by
 * direct/ordered-md5.ts. Multipart uploads journalled with Content-MD5 parts (before CRC32) are
 * finished the same way. Bodies are plain (no `aws-chunked` framing: S3-compatible servers such as
 * s3rver store the framing as data), and their payload hash is `UNSIGNED-PAYLOAD`: the signed
 * Content-MD5 / CRC32 header binds the body, as botocore does over TLS, instead of one more SHA-256
 * pass over every byte on the main thread. Credentials: explicit, else the SDK's standard chain (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE and ~/.aws files, SSO, web identity, IMDS).
 *
 * Resume: ListParts confirms the journal's parts (same number, size and ETag). Servers without
 * ListParts (s3rver answers 405) are trusted through the journal; NoSuchUpload means start again.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type ListPartsCommandOutput,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { CloudError, isAbort } from '../../errors.js';
import { proxyFor, type ProxyEnv } from '../proxy.js';
import type { JournalPart } from '../../state/journal.js';
import {
  crc32Base64,
  type BodyThrottle,
  type CloudObject,
  type CloudPart,
  type CloudTarget,
} from '../direct/cloud.js';

/** The commands whose body is part data: their payload is not hashed for the signature (see above). */
const DATA_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

export interface S3TargetOptions {
  bucket: string;
  /** e.g. `http://127.0.0.1:4569` for an emulator; path-style addressing is used with it. */
  endpoint?: string;
  region?: string;
  /** Without them, the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the SDK's retries included. */
  maxAttempts: number;
  /** Names the drive in error messages. */
  drive?: string;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY (the SDK's Node handler reads none of them itself). */
  proxy?: ProxyEnv;
  /** `--throttle` for part bodies; unset: sent as they are. */
  throttle?: BodyThrottle;
}

export class S3Target implements CloudTarget {
  readonly cloud = 'aws' as const;
  readonly container: string;
  readonly #client: S3Client;
  readonly #o: S3TargetOptions;

  constructor(o: S3TargetOptions) {
    // The SDK's notice about future Node versions is for developers, not for a user's upload run.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.#o = o;
    this.container = o.bucket;
    const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    // Decided once for the endpoint (virtual-hosted buckets are subdomains of it: NO_PROXY suffixes match).
    const endpoint = o.endpoint ?? `https://${o.bucket}.s3.${region}.amazonaws.com`;
    const proxy = o.proxy ? proxyFor(o.proxy, endpoint) : undefined;
    this.#client = new S3Client({
      ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
      region,
      ...(proxy
        ? {
            requestHandler: {
              // A CONNECT tunnel for http:// endpoints too: http-proxy-agent's absolute-URI rewrite
              // drops Content-Length from the SDK's `Expect: 100-continue` part PUTs.
              httpAgent: new HttpsProxyAgent(proxy.url, { keepAlive: true }),
              httpsAgent: new HttpsProxyAgent(proxy.url, { keepAlive: true }),
            },
          }
        : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      maxAttempts: Math.max(1, o.maxAttempts),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    // A preset x-amz-content-sha256 is what SigV4 signs as the payload hash (no pass over the body).
    this.#client.middlewareStack.add(
      (next, context) => (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (DATA_COMMANDS.has(context.commandName ?? '') && request.headers)
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'uaUnsignedPayload' },
    );
  }

  describeObject(key: string): string {
    return `s3://${this.#o.bucket}/${key}${this.#o.endpoint ? ` (${this.#o.endpoint})` : ''}`;
  }

  async start(
    key: string,
    partCount: number | undefined,
    contentType: string,
    signal: AbortSignal,
  ): Promise<CloudObject> {
    if (partCount === 1) return this.#single(key, contentType);
    const out = await this.#send<{ UploadId?: string }>(
      'CreateMultipartUpload',
      key,
      new CreateMultipartUploadCommand({
        Bucket: this.#o.bucket,
        Key: key,
        ChecksumAlgorithm: 'CRC32',
        ...(contentType ? { ContentType: contentType } : {}),
      }),
      signal,
    );
    if (!out.UploadId)
      throw new CloudError(`S3 CreateMultipartUpload for ${this.describeObject(key)} returned no upload ID`);
    return this.#multipart(key, out.UploadId, true);
  }

  async resume(
    key: string,
    uploadId: string,
    known: Map<number, JournalPart>,
    _contentType: string,
    signal: AbortSignal,
  ) {
    // The upload was created with CRC32 when its parts carry one; with none journalled, which way it
    // was created is unknown, and nothing is lost by starting over.
    const parts = [...known.values()];
    if (parts.length === 0) return undefined;
    const crc = parts.some((p) => p.crc32 !== undefined);
    const listed = new Map<number, { size: number; etag: string; crc32?: string }>();
    try {
      let marker: string | undefined;
      do {
        const page: ListPartsCommandOutput = await this.#client.send(
          new ListPartsCommand({
            Bucket: this.#o.bucket,
            Key: key,
            UploadId: uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
          { abortSignal: signal },
        );
        for (const p of page.Parts ?? [])
          listed.set(p.PartNumber!, { size: p.Size ?? -1, etag: p.ETag ?? '', crc32: p.ChecksumCRC32 });
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      const { name, status } = sdkError(err);
      if (name === 'NoSuchUpload' || status === 404) return undefined;
      // No ListParts on this server: the journal only holds acknowledged parts, so trust it.
      if (status === 405 || status === 501 || name === 'NotImplemented' || name === 'MethodNotAllowed') {
        return { object: this.#multipart(key, uploadId, crc), held: new Map(known) };
      }
      throw this.#error('ListParts', key, err);
    }
    const held = new Map<number, JournalPart>();
    for (const [index, p] of known) {
      const l = listed.get(index);
      if (
        l &&
        l.size === p.size &&
        unquote(l.etag) === unquote(p.etag) &&
        (l.crc32 === undefined || p.crc32 === undefined || l.crc32 === p.crc32)
      )
        held.set(index, p);
    }
    return { object: this.#multipart(key, uploadId, crc), held };
  }

  async objectSize(key: string, signal: AbortSignal): Promise<number | undefined> {
    try {
      const h = await this.#client.send(new HeadObjectCommand({ Bucket: this.#o.bucket, Key: key }), {
        abortSignal: signal,
      });
      return h.ContentLength;
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      const { name, status } = sdkError(err);
      if (status === 404 || name === 'NotFound' || name === 'NoSuchKey') return undefined;
      throw this.#error('HeadObject', key, err);
    }
  }

  close(): void {
    this.#client.destroy();
  }

  #single(key: string, contentType: string): CloudObject {
    return {
      uploadId: 'single-put',
      partDigest: 'md5',
      sendPart: async (part, signal) => {
        const out = await this.#send<{ ETag?: string }>(
          'PutObject',
          key,
          new PutObjectCommand({
            Bucket: this.#o.bucket,
            Key: key,
            Body: part.data,
            ContentLength: part.size,
            ContentMD5: b64(part.md5),
            ...(contentType ? { ContentType: contentType } : {}),
          }),
          signal,
          part.data,
        );
        return out.ETag ?? `"${part.md5}"`;
      },
      complete: async () => undefined,
    };
  }

  /** `crc`: created with ChecksumAlgorithm CRC32 (parts carry a CRC32); else parts carry Content-MD5. */
  #multipart(key: string, uploadId: string, crc: boolean): CloudObject {
    return {
      uploadId,
      partDigest: crc ? 'crc32' : 'md5',
      sendPart: async (part, signal) => {
        if (crc && part.crc32 === undefined)
          throw new CloudError(
            `S3 UploadPart ${part.index} of ${this.describeObject(key)}: no CRC32 computed`,
          );
        const out = await this.#send<{ ETag?: string }>(
          'UploadPart',
          key,
          new UploadPartCommand({
            Bucket: this.#o.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: part.index,
            Body: part.data,
            ContentLength: part.size,
            ...(crc ? { ChecksumCRC32: crc32Base64(part.crc32!) } : { ContentMD5: b64(part.md5) }),
          }),
          signal,
          part.data,
        );
        if (!out.ETag)
          throw new CloudError(`S3 UploadPart ${part.index} of ${this.describeObject(key)} returned no ETag`);
        return out.ETag;
      },
      complete: async (parts: CloudPart[], _md5, signal) => {
        await this.#send(
          'CompleteMultipartUpload',
          key,
          new CompleteMultipartUploadCommand({
            Bucket: this.#o.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: parts.map((p) => ({
                PartNumber: p.index,
                ETag: p.etag,
                ...(crc && p.crc32 ? { ChecksumCRC32: p.crc32 } : {}),
              })),
            },
          }),
          signal,
        );
      },
    };
  }

  /** `data`: the command's part body, which `--throttle` paces (a fresh stream for every attempt). */
  async #send<T>(
    op: string,
    key: string,
    command: object,
    signal: AbortSignal,
    data?: Uint8Array,
  ): Promise<T> {
    const throttle = this.#o.throttle;
    if (data && throttle) {
      // After the retry middleware: it runs once per attempt. Content-Length is already set from the
      // buffer; only the pace of its bytes changes. The attempt gets a copy of the request: the retry
      // middleware keeps the original, and would not retry one whose body it saw become a stream.
      const pace = (next: (a: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
        const body = throttle(data, signal);
        if (body instanceof Uint8Array) return next(args);
        const req = args.request as { headers?: Record<string, string> };
        const copy = Object.assign(Object.create(Object.getPrototypeOf(req) as object) as object, req, {
          headers: { ...req.headers },
          body: Readable.from(body),
        });
        return next({ ...args, request: copy });
      };
      (command as UploadPartCommand).middlewareStack.addRelativeTo(pace as never, {
        relation: 'after',
        toMiddleware: 'retryMiddleware',
        name: 'uaThrottle',
      });
    }
    try {
      return (await this.#client.send(command as never, { abortSignal: signal })) as T;
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      throw this.#error(op, key, err);
    }
  }

  #error(op: string, key: string, err: unknown): CloudError {
    const { name, status, message } = sdkError(err);
    const hint = CREDENTIAL_ERRORS.has(name)
      ? ` Check the AWS credentials in your environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)${this.#o.drive ? ` for the bucket of drive ${this.#o.drive}` : ''}.`
      : '';
    return new CloudError(
      `S3 ${op} failed for ${this.describeObject(key)}: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}.${hint}`,
      { status, cloudCode: name, cause: err },
    );
  }
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'CredentialsProviderError',
  'InvalidToken',
]);

function sdkError(err: unknown): { name: string; status?: number; message: string } {
  const e = err as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  return {
    name: e?.Code ?? e?.name ?? 'Error',
    status: e?.$metadata?.httpStatusCode,
    message: (e?.message ?? String(err)).replace(/\.$/, ''),
  };
}

function b64(hexMd5: string): string {
  return Buffer.from(hexMd5, 'hex').toString('base64');
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}

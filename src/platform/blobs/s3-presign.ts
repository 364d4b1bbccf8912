import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature V4 query-string presigning for path-style S3 URLs (UploadPart, GetObject). The SDK's
 * presigner lives in a package this project does not depend on; the algorithm is small and stable.
 * Headers listed in `signedHeaders` (besides host) must be sent by the client with exactly these values.
 */
export interface PresignInput {
  method: 'GET' | 'PUT';
  /** e.g. http://127.0.0.1:4568 or https://s3.us-east-1.amazonaws.com */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  key: string;
  query?: Record<string, string>;
  /** Lower-case header name → value; signed, so the client must send them. */
  signedHeaders?: Record<string, string>;
  expiresSeconds: number;
  /** bucket.host/key instead of host/bucket/key (real AWS prefers it; emulators want path style). */
  virtualHosted?: boolean;
  now?: Date;
}

/** RFC 3986 encoding, as SigV4 requires (encodeURIComponent leaves !'()* alone). */
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

export function presignS3(i: PresignInput): string {
  const url = new URL(i.endpoint);
  const now = i.now ?? new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${i.region}/s3/aws4_request`;
  const basePath = url.pathname.replace(/\/$/, '');
  const keyPath = i.key.split('/').map(enc).join('/');
  const host = i.virtualHosted ? `${i.bucket}.${url.host}` : url.host;
  const path = i.virtualHosted ? `${basePath}/${keyPath}` : `${basePath}/${enc(i.bucket)}/${keyPath}`;
  const headers: Record<string, string> = { host, ...(i.signedHeaders ?? {}) };
  const headerNames = Object.keys(headers).sort();
  const query: Record<string, string> = {
    ...(i.query ?? {}),
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${i.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(i.expiresSeconds),
    'X-Amz-SignedHeaders': headerNames.join(';'),
  };
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${enc(k)}=${enc(query[k])}`)
    .join('&');
  const canonicalRequest = [
    i.method,
    path,
    canonicalQuery,
    headerNames.map((h) => `${h}:${headers[h].trim()}\n`).join(''),
    headerNames.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${i.secretAccessKey}`, day);
  const kSigning = hmac(hmac(hmac(kDate, i.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return `${url.protocol}//${host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

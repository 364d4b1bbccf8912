import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures for the preauthenticated URLs this server hands out: a part PUT is bound
 * to (file, index, size, md5, expiry), a download to (file, expiry, filename). The URL carries
 * the fields in the clear plus `sig`; the server recomputes and compares in constant time.
 */
export interface UploadGrant {
  fileId: string;
  index: number;
  size: number;
  md5: string;
  /** ms since epoch */
  expires: number;
}

export interface DownloadGrant {
  fileId: string;
  expires: number;
  filename: string;
}

function mac(key: Buffer, fields: Array<string | number>): string {
  // Newline-separated: no field can contain a newline that matters (IDs, ints, hex; the filename
  // is the last field, so a newline in it cannot shift the others).
  return createHmac('sha256', key).update(fields.join('\n')).digest('base64url');
}

export function signUpload(key: Buffer, g: UploadGrant): string {
  return mac(key, ['PUT', g.fileId, g.index, g.size, g.md5, g.expires]);
}

export function signDownload(key: Buffer, g: DownloadGrant): string {
  return mac(key, ['GET', g.fileId, g.expires, g.filename]);
}

export function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type SignatureCheck = 'ok' | 'bad-signature' | 'expired';

/** Signature first, so a tampered expiry is reported as tampering, not as expiry. */
export function checkUpload(key: Buffer, g: UploadGrant, sig: string, now: number): SignatureCheck {
  if (!sameSignature(signUpload(key, g), sig)) return 'bad-signature';
  return now > g.expires ? 'expired' : 'ok';
}

export function checkDownload(key: Buffer, g: DownloadGrant, sig: string, now: number): SignatureCheck {
  if (!sameSignature(signDownload(key, g), sig)) return 'bad-signature';
  return now > g.expires ? 'expired' : 'ok';
}

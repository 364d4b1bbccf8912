import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Error answers on the signed-URL endpoints look like S3's (which is what these URLs stand in
 * for): an XML `<Error>` with Code, Message and RequestId. Clients print the body verbatim.
 */
export function sendS3Error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  retryAfter?: number,
): void {
  if (res.headersSent) return void res.destroy();
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
    `<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId></Error>`;
  const headers: Record<string, string> = {
    'Content-Type': 'application/xml',
    'Content-Length': String(Buffer.byteLength(body)),
  };
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(body);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

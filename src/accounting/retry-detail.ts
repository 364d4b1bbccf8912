/**
 * The short facts of a failed attempt for the retry line (`HTTP 503 SlowDown`, `ECONNRESET`) and, kept
 * apart, the server's body, which only -v shows: a body can be a whole XML or HTML page.
 */
import { ApiCallError, ConnectionError, PartPutError, UaError } from '../errors.js';
import type { RetryDetail } from './events.js';

/** Longest body kept in an event; the rest of a page says nothing more. */
const BODY_MAX = 2000;

export function retryDetail(err: unknown): RetryDetail {
  if (err instanceof PartPutError) {
    return { status: err.status, code: bodyCode(err.body), body: oneLine(err.body) || undefined };
  }
  if (err instanceof ApiCallError)
    return { status: err.status, code: err.type, body: oneLine(err.apiMessage) };
  if (err instanceof ConnectionError) {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    return { code: typeof cause?.code === 'string' ? cause.code : err.code };
  }
  if (err instanceof UaError) return { code: err.code };
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? { code } : {};
}

/** The error code in an S3-style XML body (`<Code>SlowDown</Code>`) or a JSON error envelope. */
function bodyCode(body: string): string | undefined {
  const xml = /<Code>([^<]{1,64})<\/Code>/.exec(body);
  if (xml) return xml[1];
  try {
    const type = (JSON.parse(body) as { error?: { type?: unknown } }).error?.type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

/** Whitespace (newlines of a pretty-printed XML body) folded, so the body is one log line. */
function oneLine(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > BODY_MAX ? `${s.slice(0, BODY_MAX)}…` : s;
}

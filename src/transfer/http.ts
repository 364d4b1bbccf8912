import { Agent, request, type Dispatcher } from 'undici';
import { ConnectionError } from '../errors.js';
import { CLASSIC_VERSION, UA_VERSION } from '../version.js';

/** Identifies us to the server; no user id or token in it. */
export const USER_AGENT = `ua/${UA_VERSION} (compatible; DNAnexus-Upload-Agent/${CLASSIC_VERSION}) node/${process.versions.node} platform/${process.platform}`;

export interface HttpOptions {
  /** Keep-alive connections per origin; at least the number of concurrent part uploads. Default 16. */
  connections?: number;
  /** Max time to wait for response headers, ms. Default 600 000 (the classic agent's API timeout). */
  headersTimeoutMs?: number;
  /** Max idle time between body chunks, ms. Default 300 000. */
  bodyTimeoutMs?: number;
  /** Skip TLS verification (`--certificate-file NOVERIFY`). */
  insecure?: boolean;
  /** PEM CA bundle to trust instead of Node's defaults. */
  ca?: string;
}

/** One keep-alive connection pool per run, shared by API calls and part PUTs. */
export function createHttpAgent(o: HttpOptions = {}): Agent {
  return new Agent({
    connections: o.connections ?? 16,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: o.headersTimeoutMs ?? 600_000,
    bodyTimeout: o.bodyTimeoutMs ?? 300_000,
    connect: o.insecure || o.ca ? { rejectUnauthorized: !o.insecure, ca: o.ca } : undefined,
  });
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP exchange; transport failures become ConnectionError, any status is returned. */
export async function httpRequest(
  agent: Dispatcher,
  url: string,
  opts: {
    method: 'POST' | 'PUT' | 'GET';
    headers: Record<string, string>;
    body?: Uint8Array | string | AsyncIterable<Uint8Array>;
    signal?: AbortSignal;
  },
): Promise<HttpResponse> {
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: opts.method,
      headers: opts.headers,
      body: opts.body as never,
      signal: opts.signal,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new ConnectionError(url, err);
  }
}

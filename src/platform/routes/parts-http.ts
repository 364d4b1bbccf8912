// Owned by the files half of the server: the signed part PUT and download GET handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteDeps } from '../http/route.js';

/** PUT /upload/... — returns false when the path is not its own. */
export async function handlePartPut(_req: IncomingMessage, _res: ServerResponse, _deps: RouteDeps): Promise<boolean> {
  return false;
}

/** GET /download/... — returns false when the path is not its own. */
export async function handleDownload(_req: IncomingMessage, _res: ServerResponse, _deps: RouteDeps): Promise<boolean> {
  return false;
}

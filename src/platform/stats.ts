/** What the server has seen since it started; tests read it to prove what a client sent. */
export interface PartPutRecord {
  fileId: string;
  index: number;
  size: number;
  /** false when the PUT was refused (size/MD5 mismatch, bad signature) or cut off. */
  ok: boolean;
}

/**
 * Kept so `serve` running for months stays bounded: the newest PUT records (older ones are dropped
 * in halves), and at most MAX_ROUTE_KEYS distinct route keys (a request to a route that does not
 * exist is keyed by its path, which a client chooses).
 */
const MAX_PUT_RECORDS = 50_000;
const MAX_ROUTE_KEYS = 1_000;
export const OTHER_ROUTES = '(other routes)';

/** What the server has seen since it started; tests read it to prove what a client sent. */
export class ServerStats {
  readonly apiCalls = new Map<string, number>();
  /** The newest MAX_PUT_RECORDS part PUT attempts, oldest first. */
  readonly partPuts: PartPutRecord[] = [];

  countApi(route: string): void {
    const key = this.apiCalls.has(route) || this.apiCalls.size < MAX_ROUTE_KEYS ? route : OTHER_ROUTES;
    this.apiCalls.set(key, (this.apiCalls.get(key) ?? 0) + 1);
  }

  recordPut(r: PartPutRecord): void {
    this.partPuts.push(r);
    if (this.partPuts.length > MAX_PUT_RECORDS) this.partPuts.splice(0, MAX_PUT_RECORDS / 2);
  }

  /** Successful part PUTs, optionally for one file. */
  okPuts(fileId?: string): PartPutRecord[] {
    return this.partPuts.filter((p) => p.ok && (fileId === undefined || p.fileId === fileId));
  }

  reset(): void {
    this.apiCalls.clear();
    this.partPuts.length = 0;
  }
}

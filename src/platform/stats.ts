/** What the server has seen since it started; tests read it to prove what a client sent. */
export interface PartPutRecord {
  fileId: string;
  index: number;
  size: number;
  /** false when the PUT was refused (size/MD5 mismatch, bad signature) or cut off. */
  ok: boolean;
}

export class ServerStats {
  readonly apiCalls = new Map<string, number>();
  readonly partPuts: PartPutRecord[] = [];

  countApi(route: string): void {
    this.apiCalls.set(route, (this.apiCalls.get(route) ?? 0) + 1);
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

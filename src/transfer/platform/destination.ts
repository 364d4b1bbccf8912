import type { Dispatcher } from 'undici';
import { PartPutError } from '../../errors.js';
import type { FilePlan } from '../../plan/plan.js';
import type { Destination, DonePart, PartPayload, Prepared, RemoteFile } from '../destination.js';
import { httpRequest, USER_AGENT } from '../http.js';
import { classify, parseRetryAfter, withRetry, type RetryPolicy } from '../retry.js';
import type { FileDescription, FileNewInput, PlatformClient } from './api.js';
import { findResumable } from './resume-lookup.js';

export interface PlatformDestinationOptions {
  api: PlatformClient;
  agent: Dispatcher;
  /** Per-part policy: `attempts` is --tries. */
  partRetry: RetryPolicy;
  /** Look for an earlier upload of the same local file (classic signature) before creating one. */
  resume: boolean;
  /** Wraps a part body, e.g. for --throttle and to count bytes as they leave (part-progress). */
  throttle?(
    data: Uint8Array,
    signal: AbortSignal,
    part: { fileId: string; index: number },
  ): Uint8Array | AsyncIterable<Uint8Array>;
  onPartRetry?(
    fileId: string,
    index: number,
    attempt: number,
    delayMs: number,
    reason: string,
    err: unknown,
  ): void;
}

/** Platform storage: file/new → per part (/upload → PUT) → close, resuming by the classic signature. */
export class PlatformDestination implements Destination {
  readonly kind = 'platform';
  // The platform's limits (platform-api.md §5): 5 MiB minimum part but the last, 5 GiB most, 10,000 parts.
  readonly capabilities = {
    partDigest: 'md5',
    minPartSize: 5 * 2 ** 20,
    maxPartSize: 5 * 2 ** 30,
    maxParts: 10_000,
    resume: true,
    // Unfinished files stay open, to be resumed; the platform removes abandoned ones after days.
    abort: false,
  } as const;
  readonly #o: PlatformDestinationOptions;

  constructor(o: PlatformDestinationOptions) {
    this.#o = o;
  }

  async prepare(plan: FilePlan, projectId: string, signal: AbortSignal): Promise<Prepared> {
    const { api } = this.#o;
    if (this.#o.resume) {
      const hit = await findResumable(api, plan, projectId, signal);
      if (hit && hit.describe.state !== 'open')
        return { kind: 'already-closed', fileId: hit.id, remoteName: hit.describe.name };
      if (hit)
        return {
          kind: 'upload',
          file: this.#remote(hit.id),
          resumed: true,
          doneParts: completeParts(hit.describe),
          remoteName: hit.describe.name,
        };
    }
    const { id } = await api.fileNew(fileNewInput(plan, projectId), signal);
    return {
      kind: 'upload',
      file: this.#remote(id),
      resumed: false,
      doneParts: new Map(),
      remoteName: plan.remoteName,
    };
  }

  #remote(fileId: string): RemoteFile {
    return {
      fileId,
      uploadPart: (part, signal) => this.#uploadPart(fileId, part, signal),
      complete: async (signal) => {
        await this.#o.api.closeFile(fileId, signal);
      },
      describe: async (signal) => {
        const d = await this.#o.api.describeFile(fileId, { fields: { state: true, parts: true } }, signal);
        return { state: d.state, parts: completeParts(d) };
      },
    };
  }

  /** One attempt = a fresh signed URL + one PUT; the whole pair is retried --tries times. */
  async #uploadPart(fileId: string, part: PartPayload, signal: AbortSignal): Promise<void> {
    const { api, agent } = this.#o;
    await withRetry(
      async () => {
        const { url, headers } = await api.uploadUrl(
          fileId,
          { index: part.index, size: part.size, md5: part.md5 },
          signal,
        );
        const sendHeaders: Record<string, string> = { 'user-agent': USER_AGENT };
        for (const [k, v] of Object.entries(headers ?? {})) sendHeaders[k.toLowerCase()] = String(v);
        sendHeaders['content-length'] ??= String(part.size);
        const body = this.#o.throttle
          ? this.#o.throttle(part.data, signal, { fileId, index: part.index })
          : part.data;
        const res = await httpRequest(agent, url, { method: 'PUT', headers: sendHeaders, body, signal });
        if (res.status < 200 || res.status >= 300) {
          throw new PartPutError(
            res.status,
            res.body.toString('utf8'),
            parseRetryAfter(res.headers['retry-after']),
          );
        }
      },
      this.#o.partRetry,
      // A part PUT is idempotent: the last complete upload of an index wins.
      (err) => classify(err, true),
      {
        signal,
        onRetry: (err, attempt, delay) =>
          this.#o.onPartRetry?.(fileId, part.index, attempt, delay, (err as Error).message, err),
      },
    );
  }
}

/** The `/file/new` fields of a planned file: its place and metadata (direct mode registers with them too). */
export function fileNewInput(plan: FilePlan, projectId: string): FileNewInput {
  return {
    project: projectId,
    folder: plan.entry.folder,
    name: plan.remoteName,
    parents: true,
    media: plan.media,
    properties: plan.properties,
    ...(plan.types.length ? { types: plan.types } : {}),
    ...(plan.tags.length ? { tags: plan.tags } : {}),
    ...(plan.details !== undefined ? { details: plan.details } : {}),
    ...(plan.hidden ? { hidden: true as const } : {}),
  };
}

export function completeParts(d: FileDescription): Map<number, DonePart> {
  const done = new Map<number, DonePart>();
  for (const [k, p] of Object.entries(d.parts ?? {})) {
    if (p.state === 'complete') done.set(Number(k), { size: p.size, md5: p.md5 });
  }
  return done;
}

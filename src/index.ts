/**
 * The classic command line's upload: greet, expand and plan the inputs, resolve projects (refusals
 * diagnosed before any file object exists), then one engine session (engine/session.ts) for the
 * whole batch. cli/ua.ts wraps it with argument parsing and output.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ApiConfig } from './config/env.js';
import type { UaOptions } from './config/options.js';
import type { EventSink } from './accounting/events.js';
import {
  diagnoseConfigOf,
  explainGreetError,
  explainRunRefusals,
  refusalText,
  resolveAllExplained,
} from './diagnose/refusal.js';
import type { DiagnoseConfig } from './diagnose/permission.js';
import { openSession } from './engine/session.js';
import { ApiCallError, ConnectionError, RunError } from './errors.js';
import { expandInputs, type UploadEntry } from './plan/inputs.js';
import { streamPartSize } from './plan/parts.js';
import { planEntries, planFile, type FilePlan } from './plan/plan.js';
import type { ByteBudget } from './read/budget.js';
import { readParts } from './read/stdin.js';
import type { ApiServer, PlatformClient } from './transfer/platform/api.js';
import type { ResolvedProject } from './transfer/platform/projects.js';
import type { RetryPolicy } from './transfer/retry.js';
import type { BufferedPart, FileResult, ScheduledFile } from './transfer/scheduler.js';

export type { FileResult } from './transfer/scheduler.js';

export interface UploadRequest {
  options: UaOptions;
  positionals: string[];
  server: ApiServer;
  token: string;
  /** Where the token came from and where ua looked (for refusal diagnoses; messages never show the token). */
  config?: Pick<ApiConfig, 'tokenSource' | 'looked'>;
  /** The project used when no --project is given (DX_PROJECT_CONTEXT_ID …). */
  projectContext?: string;
  stdin?: Readable;
  events: EventSink;
  signal: AbortSignal;
  /** Retry timing override (tests use short delays). */
  retry?: Partial<RetryPolicy>;
  /** A PEM CA bundle file to trust (`--certificate-file`, `DX_CA_CERT`), or `NOVERIFY` to skip TLS checks. */
  certificateFile?: string;
  memoryBudget?: number;
}

/** Uploads every input; resolves to one result per input (in input order) or throws RunError. */
export async function upload(req: UploadRequest): Promise<FileResult[]> {
  const o = req.options;
  const session = await openSession(
    {
      options: o,
      server: req.server,
      token: req.token,
      retry: req.retry,
      tls: tlsOptions(req.certificateFile),
      memoryBudget: req.memoryBudget,
      partProgress: o.progress,
      apiTimings: o.verbosity >= 2 || o.logFile !== undefined,
    },
    req.events,
    req.signal,
  );
  const api = session.api;
  const diag = diagnoseConfigOf(req.server, req.config);
  try {
    await greet(api, req.signal, diag);
    const entries = await expandInputs(req.positionals, o, req.projectContext);
    const projects = await resolveProjects(api, entries, req.signal, diag);
    const plans: ScheduledFile[] = planEntries(entries, (spec) => projects.get(spec)!.id, o).flatMap((p) =>
      p.plan ? [{ plan: p.plan, projectId: p.projectId }] : [],
    );
    const stdinEntry = entries.find((e) => e.stdin);
    if (stdinEntry)
      plans.push(
        await stdinFile(
          stdinEntry,
          o,
          projects.get(stdinEntry.projectSpec)!,
          req.stdin ?? process.stdin,
          session.budget,
        ),
      );
    // Auto-symlink projects may take their files straight into the container (--direct / cloud
    // credentials): decided for every project now, so a refusal comes before any file object.
    await session.router!.warm(projects.values(), req.signal);
    const totalBytes = plans.reduce((n, p) => n + p.plan.entry.size, 0);
    req.events({ type: 'run-start', files: plans.length, totalBytes });
    const byOrder = new Map<number, FileResult>();
    await session.upload(plans, (r) => byOrder.set(r.order, r));
    const results = plans.map((p) => byOrder.get(p.plan.entry.order)!);
    const failures = plans.map((p, i) => ({ projectId: p.projectId, error: results[i]?.error }));
    await explainRunRefusals(
      api,
      diag,
      failures,
      (message) => req.events({ type: 'warning', message }),
      req.signal,
    );
    return results;
  } finally {
    await session.close();
  }
}

/** The classic first call; a 401 here means the token itself is bad (exit 3). */
async function greet(api: PlatformClient, signal: AbortSignal, diag: DiagnoseConfig): Promise<void> {
  try {
    const reply = await api.greet(signal);
    if (reply.update?.available && reply.update.level === 'required') {
      throw new RunError(
        'UA_ERR_TOO_OLD',
        `**********\nUpload Agent being used is too old to continue.\nPlease download latest version (v${reply.update.version}) from ${reply.update.url}\n**********`,
        3,
      );
    }
  } catch (err) {
    if (err instanceof RunError) throw err;
    if (err instanceof ApiCallError && err.status === 401) {
      const classic = `Invalid authentication token. Please provide a correct token by running 'dx login' or using the '--auth-token' option. (${err.type}: ${err.apiMessage})`;
      throw new RunError('UA_ERR_AUTH', explainGreetError(classic, err, diag), 3, err);
    }
    if (err instanceof ApiCallError)
      throw new RunError(
        'UA_ERR_API',
        `Unable to connect to API server: an unexpected error occurred. (${err.message})`,
        3,
        err,
      );
    if (err instanceof ConnectionError) {
      const classic = `Unable to connect to API server. Run 'ua --env' to see the current configuration.\n\nDetailed message (for advanced users only):\n${err.message}`;
      throw new RunError('UA_ERR_CONNECT', explainGreetError(classic, err, diag), 3, err);
    }
    throw err;
  }
}

/** Every distinct project once, sorted, before any file object exists; refusals carry their diagnosis. */
async function resolveProjects(
  api: PlatformClient,
  entries: UploadEntry[],
  signal: AbortSignal,
  diag: DiagnoseConfig,
): Promise<Map<string, ResolvedProject>> {
  const { resolved, refusals } = await resolveAllExplained(
    api,
    entries.map((e) => e.projectSpec),
    diag,
    signal,
  );
  if (refusals.length > 0)
    throw new RunError(refusals[0].error.code, refusalText(refusals), 1, refusals[0].error);
  return resolved;
}

/** stdin: parts are read as they come, each kept until acknowledged so a failed part is re-sent. */
async function stdinFile(
  entry: UploadEntry,
  o: UaOptions,
  project: ResolvedProject,
  input: Readable,
  budget: ByteBudget,
): Promise<ScheduledFile> {
  // Parts grow past 1,000 × chunk so an endless stream still fits in 10,000 parts.
  const sizeOf = (index: number) => streamPartSize(index, o.chunkSize);
  const iterator = readParts(input, sizeOf, async (size) => {
    await budget.acquire(size);
    return new ArrayBuffer(size);
  })[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done
    ? new Uint8Array(0)
    : new Uint8Array(first.value.buffer, 0, Math.min(first.value.length, 65536));
  const plan: FilePlan = planFile({ ...entry, size: 0 }, o, head);
  async function* parts(): AsyncGenerator<BufferedPart> {
    let next = first;
    while (!next.done) {
      const p = next.value;
      const size = p.buffer.byteLength;
      yield {
        index: p.index,
        buffer: p.buffer,
        length: p.length,
        last: p.last,
        release: () => budget.release(size),
      };
      if (p.last) return;
      next = await iterator.next();
    }
  }
  return { plan, projectId: project.id, bufferedParts: parts() };
}

/**
 * `NOVERIFY` turns TLS verification off (as the classic agent's option); a path is a CA bundle to
 * trust. Shared by `ua` and `ua daemon` (DX_CA_CERT / --certificate-file).
 */
export function tlsOptions(certificateFile: string | undefined): { insecure?: boolean; ca?: string } {
  if (!certificateFile) return {};
  if (certificateFile === 'NOVERIFY') return { insecure: true };
  try {
    return { ca: readFileSync(certificateFile, 'utf8') };
  } catch (err) {
    throw new RunError(
      'UA_ERR_CA',
      `Unable to read the certificate file "${certificateFile}": ${(err as Error).message}. Use --certificate-file PATH or set it to NOVERIFY.`,
      1,
      err,
    );
  }
}

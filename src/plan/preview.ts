/**
 * `--dry-run`'s plan: what a real run would do with each input, found the way the real run finds it
 * (index.ts: inputs expanded, projects resolved, each file planned, the duplicate check, then the
 * resume lookup of transfer/platform/resume-lookup.ts) but read-only. Only describe and find calls
 * reach the platform: no file object, part, folder or nonce is made, and the resume journal is never
 * opened. Printed by cli/dry-run.ts.
 *
 * With --direct (or UA_DIRECT=1) the lookup keeps only closed objects, as direct mode's does: an open
 * platform object is not what a direct upload resumes, and the multipart upload it does resume lives
 * in the journal, which a dry run does not open. The automatic choice of direct mode (cloud
 * credentials in the environment and an auto-symlink project) is not predicted, nor whether the
 * project can take direct uploads at all: those are decided when the real run starts.
 */
import type { UaOptions } from '../config/options.js';
import type { FileDescription, PlatformClient } from '../transfer/platform/api.js';
import { findResumable } from '../transfer/platform/resume-lookup.js';
import type { ResolvedProject } from '../transfer/platform/projects.js';
import type { UploadEntry } from './inputs.js';
import { planEntries, type FilePlan } from './plan.js';

/** What a rerun would find on the platform for one file. */
export type ResumeState =
  | { state: 'new' }
  /** --do-not-resume: a new object whatever is there. */
  | { state: 'not-looked-up' }
  /** stdin has no signature: always a new object. */
  | { state: 'stdin' }
  | { state: 'closed'; fileId: string; remoteName: string }
  | {
      state: 'open';
      fileId: string;
      remoteName: string;
      /** Planned parts that are complete on the server (each checked again before a real run skips it). */
      partsOnServer: number;
      bytesOnServer: number;
    };

export interface PreviewFile {
  entry: UploadEntry;
  projectId: string;
  /** Undefined for stdin: its compression and parts are decided as it is read. */
  plan?: FilePlan;
  resume: ResumeState;
}

/**
 * The plan of every entry, in input order. `projects` comes from the same resolution the real run
 * uses; throws the real run's errors (duplicate signature, ambiguous resume targets).
 */
export async function preview(
  api: PlatformClient,
  entries: readonly UploadEntry[],
  projects: ReadonlyMap<string, ResolvedProject>,
  o: UaOptions,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PreviewFile[]> {
  const direct = o.direct === true || env.UA_DIRECT === '1';
  const planned = planEntries(entries, (spec) => projects.get(spec)!.id, o);
  const out: PreviewFile[] = [];
  for (const p of planned) {
    if (!p.plan) out.push({ ...p, resume: { state: 'stdin' } });
    else if (o.doNotResume) out.push({ ...p, resume: { state: 'not-looked-up' } });
    else out.push({ ...p, resume: await lookup(api, p.plan, p.projectId, signal, direct) });
  }
  return out;
}

async function lookup(
  api: PlatformClient,
  plan: FilePlan,
  projectId: string,
  signal: AbortSignal,
  direct: boolean,
): Promise<ResumeState> {
  const closedOnly = (d: FileDescription | undefined) => d?.state !== 'open';
  const hit = await findResumable(api, plan, projectId, signal, direct ? closedOnly : undefined);
  if (!hit) return { state: 'new' };
  const remoteName = hit.describe.name ?? plan.remoteName;
  if (hit.describe.state !== 'open') return { state: 'closed', fileId: hit.id, remoteName };
  const done = onServer(hit.describe, plan);
  return { state: 'open', fileId: hit.id, remoteName, ...done };
}

/** Complete parts of the planned ones; uncompressed parts count only with their planned length, as a real run keeps them. */
function onServer(d: FileDescription, plan: FilePlan): { partsOnServer: number; bytesOnServer: number } {
  let partsOnServer = 0;
  let bytesOnServer = 0;
  for (const spec of plan.parts) {
    const p = d.parts?.[String(spec.index)];
    if (p?.state !== 'complete' || (!plan.compress && p.size !== spec.length)) continue;
    partsOnServer++;
    bytesOnServer += spec.length;
  }
  return { partsOnServer, bytesOnServer };
}

/**
 * The agent's hooks: resolve every distinct project, and for each one that fails keep the classic
 * line (scripts grep it) and add the diagnosis — all before any file object exists. After a run,
 * files refused with InvalidAuthentication/PermissionDenied get one diagnosis per project.
 */
import type { ApiConfig } from '../config/env.js';
import { ApiCallError, UaError } from '../errors.js';
import type { ApiServer, PlatformClient } from '../transfer/platform/api.js';
import { resolveProject, type ResolvedProject } from '../transfer/platform/projects.js';
import {
  diagnoseCallError,
  diagnoseProjects,
  formatDiagnosis,
  type DiagnoseConfig,
  type Diagnosis,
} from './permission.js';

export interface Refusal {
  spec: string;
  /** The resolution error (its message is the classic line). */
  error: UaError;
  diagnosis?: Diagnosis;
}

export function diagnoseConfigOf(
  server: ApiServer,
  config?: Pick<ApiConfig, 'tokenSource' | 'looked'>,
): DiagnoseConfig {
  return {
    ...server,
    tokenSource: config?.tokenSource ?? 'flag',
    looked: config?.looked ?? ['--auth-token'],
  };
}

/** Resolves each distinct spec (sorted); the failures come back diagnosed, not thrown. */
export async function resolveAllExplained(
  api: PlatformClient,
  specs: string[],
  cfg: DiagnoseConfig,
  signal?: AbortSignal,
): Promise<{ resolved: Map<string, ResolvedProject>; refusals: Refusal[] }> {
  const resolved = new Map<string, ResolvedProject>();
  const failed = new Map<string, UaError>();
  for (const spec of [...new Set(specs)].sort()) {
    try {
      resolved.set(spec, await resolveProject(api, spec, signal));
    } catch (err) {
      if (!(err instanceof UaError) || signal?.aborted) throw err;
      failed.set(spec, err);
    }
  }
  if (failed.size === 0) return { resolved, refusals: [] };
  let diagnoses = new Map<string, Diagnosis>();
  try {
    diagnoses = await diagnoseProjects(api, cfg, [...failed.keys()], signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    // A diagnosis that itself fails must not hide the classic line.
  }
  const refusals = [...failed].map(([spec, error]) => ({ spec, error, diagnosis: diagnoses.get(spec) }));
  return { resolved, refusals };
}

/** The classic line of each refusal, each followed by its diagnosis (the first line gets `ERROR: ` from the caller). */
export function refusalText(refusals: Refusal[]): string {
  return refusals
    .map(
      (r, i) =>
        `${i > 0 ? 'ERROR: ' : ''}${r.error.message}${r.diagnosis ? `\n${formatDiagnosis(r.diagnosis)}` : ''}`,
    )
    .join('\n');
}

/** The classic greet message plus a diagnosis when the error alone explains it (bad token, no connection). */
export function explainGreetError(classic: string, err: unknown, cfg: DiagnoseConfig): string {
  const d = diagnoseCallError(err, cfg);
  return d ? `${classic}\n${formatDiagnosis(d)}` : classic;
}

const AUTH_REFUSAL = /\b(InvalidAuthentication|PermissionDenied)\b/;

/**
 * Files that failed mid-run because a call was refused (token revoked or access lowered during the
 * run): one diagnosis per project, handed to `emit` (e.g. as a warning event).
 */
export async function explainRunRefusals(
  api: PlatformClient,
  cfg: DiagnoseConfig,
  failures: Array<{ projectId: string; error?: string }>,
  emit: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const projects = [
    ...new Set(failures.filter((f) => f.error && AUTH_REFUSAL.test(f.error)).map((f) => f.projectId)),
  ];
  if (projects.length === 0) return;
  try {
    for (const d of (await diagnoseProjects(api, cfg, projects, signal)).values()) {
      if (d.kind !== 'ok') emit(formatDiagnosis(d));
    }
  } catch (err) {
    if (err instanceof ApiCallError || err instanceof UaError) return; // the files already say why they failed
    throw err;
  }
}

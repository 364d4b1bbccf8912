/**
 * The daemon's platform calls that must take effect once: removing replaced versions, closing a
 * run's sentinel record, launching its workflow. Each is made idempotent from the platform side
 * (look for what an earlier attempt left first, then create with a nonce stored before the call),
 * so a crash between the call and the state write only repeats a call that changes nothing.
 */
import { newNonce, type PlatformClient } from '../../transfer/platform/api.js';
import { SIGNATURE_PROPERTY } from '../../plan/signature.js';
import type { DaemonStore, RunRow, StaleRow } from '../state/store.js';
import type { TarBatches } from '../state/tars.js';

export const SENTINEL_TYPE = 'UploadSentinel';

/** `<folder>/<run folder name>`, one slash between. */
export function runFolder(base: string, run: Pick<RunRow, 'name'>): string {
  return `${base.replace(/\/+$/, '')}/${run.name}`;
}

export const sentinelName = (run: Pick<RunRow, 'name'>): string => `${run.name}.upload_sentinel`;

const link = (id: string) => ({ $dnanexus_link: id });

interface Found {
  results: Array<{ id: string; describe?: { state?: string; types?: string[]; name?: string } }>;
}

/** Removes one replaced or deleted version: by its ID, and by its signature (an object a crash left). */
export async function removeStale(api: PlatformClient, row: StaleRow, signal: AbortSignal): Promise<void> {
  const ids = new Set<string>();
  if (row.file_id) ids.add(row.file_id);
  if (row.signature) {
    const found = await api.call<Found>(
      'system/findDataObjects',
      {
        class: 'file',
        properties: { [SIGNATURE_PROPERTY]: row.signature },
        scope: { project: row.project, folder: '/', recurse: true },
        visibility: 'either',
      },
      { signal },
    );
    for (const r of found.results) ids.add(r.id);
  }
  if (ids.size === 0) return;
  await api.call(`${row.project}/removeObjects`, { objects: [...ids], force: true }, { signal });
}

export interface SentinelContext {
  api: PlatformClient;
  store: DaemonStore;
  /** --layout tar: the sentinel lists the batches (`tar_file_ids`), as dx-streaming-upload's does. */
  tars?: TarBatches;
  project: string;
  folder: string;
  signal: AbortSignal;
}

/** Thrown while files of the run are still `closing` on the platform: retried soon, not a failure. */
export class NotYetClosed extends Error {}

/** Files of the run still `closing` (the platform assembles them after close): the sentinel waits. */
async function stillClosing(c: SentinelContext, folder: string): Promise<number> {
  const r = await c.api.call<Found>(
    'system/findDataObjects',
    {
      class: 'file',
      state: 'closing',
      scope: { project: c.project, folder, recurse: true },
      visibility: 'either',
      limit: 1,
    },
    { signal: c.signal },
  );
  return r.results.length;
}

/**
 * The run's `UploadSentinel` record, closed, listing every file: found (an earlier attempt made it)
 * or created closed in one call with a stored nonce. Returns its ID.
 */
export async function closeSentinel(c: SentinelContext, run: RunRow, runId: string): Promise<string> {
  const folder = runFolder(c.folder, run);
  const name = sentinelName(run);
  const nonce = run.sentinel_nonce ?? (await c.store.nonceOnce(run.id, 'sentinel_nonce', newNonce()));
  if ((await stillClosing(c, folder)) > 0) throw new NotYetClosed('files of the run are still closing');
  const details: Record<string, unknown> = { run_id: runId, run_folder: run.name, dnanexus_path: folder };
  if (c.tars) {
    const tars = await c.tars.uploadedOf(run.id);
    details.tar_file_ids = tars.map((t) => t.file_id);
    details.files = tars.reduce((n, t) => n + t.files, 0);
    details.bytes = tars.reduce((n, t) => n + t.size, 0);
  } else {
    const files = await c.store.uploadedFiles(run.id);
    const idOf = (path: string) => files.find((f) => f.path === path)?.file_id;
    details.file_ids = files.map((f) => f.file_id);
    details.files = files.length;
    details.bytes = files.reduce((n, f) => n + f.size, 0);
    const runinfo = idOf('RunInfo.xml');
    if (runinfo) details.runinfo_file_id = runinfo;
    const sheet = idOf('SampleSheet.csv');
    if (sheet) details.samplesheet_file_id = sheet;
  }

  const found = await c.api.call<Found>(
    'system/findDataObjects',
    {
      class: 'record',
      name,
      type: SENTINEL_TYPE,
      scope: { project: c.project, folder, recurse: false },
      visibility: 'either',
      describe: { fields: { state: true, types: true, name: true } },
    },
    { signal: c.signal },
  );
  const hit = found.results.find((r) => r.describe?.types?.includes(SENTINEL_TYPE) ?? true);
  if (hit) {
    if (hit.describe?.state !== 'closed') {
      // setDetails takes the details as the whole body (as dx-toolkit sends it).
      await c.api.call(`${hit.id}/setDetails`, details, { signal: c.signal });
      await c.api.call(`${hit.id}/close`, {}, { signal: c.signal });
    }
    return hit.id;
  }
  const made = await c.api.call<{ id: string }>(
    'record/new',
    {
      project: c.project,
      folder,
      parents: true,
      name,
      types: [SENTINEL_TYPE],
      properties: { run_id: runId },
      details,
      close: true,
      nonce,
    },
    { signal: c.signal },
  );
  return made.id;
}

export interface LaunchContext extends SentinelContext {
  executable: string;
}

/**
 * Runs the applet or workflow on the sentinel, once: an execution tagged with this sentinel is
 * adopted, else it is launched with the nonce stored before the call. Returns the job/analysis ID.
 */
export async function launchWorkflow(c: LaunchContext, run: RunRow, sentinelId: string): Promise<string> {
  const nonce = run.workflow_nonce ?? (await c.store.nonceOnce(run.id, 'workflow_nonce', newNonce()));
  const properties = { ua_run: run.name, ua_sentinel: sentinelId };
  const found = await c.api.call<{ results: Array<{ id: string }> }>(
    'system/findExecutions',
    { project: c.project, executable: c.executable, properties: { ua_sentinel: sentinelId } },
    { signal: c.signal },
  );
  if (found.results.length > 0) return found.results[0].id;
  const workflow = c.executable.startsWith('workflow-');
  const input = workflow
    ? { '0.upload_sentinel_record': link(sentinelId) }
    : { upload_sentinel_record: link(sentinelId) };
  const made = await c.api.call<{ id: string }>(
    `${c.executable}/run`,
    {
      project: c.project,
      folder: `${runFolder(c.folder, run)}/analyses`,
      name: run.name,
      input,
      properties,
      nonce,
    },
    { signal: c.signal },
  );
  return made.id;
}

/** Before any upload: the executable exists and can be run from the project (as dx-streaming-upload checks). */
export async function checkExecutable(
  api: PlatformClient,
  executable: string,
  signal: AbortSignal,
): Promise<string> {
  const d = await api.call<{ name?: string; class?: string }>(
    `${executable}/describe`,
    {},
    { signal, attempts: 2 },
  );
  return d.name ?? executable;
}

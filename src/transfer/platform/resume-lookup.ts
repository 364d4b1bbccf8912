/**
 * The resume lookup every destination shares (ua-behavior §4.1): the file object an earlier run (of
 * ua or of the classic agent) left for the same local file, found by its `.system-fileSignature` in
 * the project. More than one candidate is the classic refusal, word for word.
 */
import { UaError } from '../../errors.js';
import type { FilePlan } from '../../plan/plan.js';
import { SIGNATURE_PROPERTY } from '../../plan/signature.js';
import type { FileDescription, PlatformClient } from './api.js';

/**
 * What the lookup reads of a candidate: the default fields (state, name) and its parts, which the
 * platform returns only when asked for by name (describe's `parts` is not a default field).
 */
const CANDIDATE_DESCRIBE = { defaultFields: true, fields: { parts: true } } as const;

export interface ResumeCandidate {
  id: string;
  describe: FileDescription;
}

/**
 * The one earlier file object of `plan` in `projectId` that `keep` accepts (default: any), with its
 * description; undefined when there is none. Throws UA_ERR_RESUME_AMBIGUOUS when several are.
 */
export async function findResumable(
  api: PlatformClient,
  plan: FilePlan,
  projectId: string,
  signal: AbortSignal,
  keep: (d: FileDescription | undefined) => boolean = () => true,
): Promise<ResumeCandidate | undefined> {
  if (!plan.signature) return undefined;
  const found = await api.findDataObjects(
    {
      class: 'file',
      properties: { [SIGNATURE_PROPERTY]: plan.signature },
      scope: { project: projectId, folder: '/', recurse: true },
      visibility: 'either',
      describe: { project: projectId, ...CANDIDATE_DESCRIBE },
    },
    signal,
  );
  const hits = found.results.filter((h) => keep(h.describe));
  if (hits.length > 1) {
    const list = hits.map((h, i) => `\t${i + 1}. ${h.describe?.name ?? '?'} (${h.id})`).join('\n');
    throw new UaError(
      'UA_ERR_RESUME_AMBIGUOUS',
      `More than one resumable targets for local file "${plan.entry.localPath}" found in the project '${projectId}', candidates: \n${list}\n` +
        `Unable to upload: "${plan.entry.localPath}"\nPlease either clean up the potential candidate files, or run upload agent with '--do-not-resume' option`,
    );
  }
  if (hits.length === 0) return undefined;
  const [h] = hits;
  return { id: h.id, describe: h.describe ?? (await api.describeFile(h.id, CANDIDATE_DESCRIBE, signal)) };
}

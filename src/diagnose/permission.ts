/**
 * Why an upload to a project is refused, found by running the platform FAQ's troubleshooting
 * sequence (platform-api.md §9.2, §9.4) ourselves: check the token (`/system/whoami`), then the
 * project (`/<id>/describe` or `/system/findProjects` by name), then the level — telling the user's
 * own membership from the token's scope. A handful of calls, one attempt each, a few seconds at most.
 *
 * The platform side (ua-platform) answers two things the reference does not confirm (§10): whoami's
 * `token` ({id, created, expires, scope}) and describe's on-request `membershipLevel`. Against a
 * server without them, a VIEW level is reported as `view-only` unless the token's scope is known to
 * be the cap.
 *
 * Messages never contain the token (the client keeps it private); they name where it came from.
 */
import { isId } from '../common/ids.js';
import { atLeast, isLevel, type Level } from '../common/levels.js';
import type { TokenSource } from '../config/env.js';
import { ApiCallError, ConnectionError } from '../errors.js';
import type { PlatformClient } from '../transfer/platform/api.js';
import { classifyConnection, connectionMessage } from './connection.js';
import { inviteAdvice, newTokenAdvice, scopeText, sourceText } from './advice.js';

export type DiagnosisKind =
  | 'no-token'
  | 'bad-token'
  | 'unreachable'
  | 'tls'
  | 'proxy'
  | 'not-found'
  | 'no-access'
  | 'view-only'
  | 'token-scope'
  | 'ambiguous'
  | 'ok';

export interface ProjectCandidate {
  id: string;
  name: string;
  /** Effective level through this token. */
  level: Level;
  /** The user's own membership level, when the server tells (ua-platform does). */
  membershipLevel?: Level;
}

export interface Diagnosis {
  kind: DiagnosisKind;
  /** Plain sentences, ending with the next step. */
  message: string;
  /** The --project value diagnosed (absent for token/connection-only diagnoses). */
  spec?: string;
  /** The project meant, when one was identified. */
  project?: { id: string; name?: string };
  /** `ambiguous`: every project the name matches with ≥ UPLOAD; `view-only`/`token-scope` by name: the matches. */
  candidates?: ProjectCandidate[];
}

/** What the diagnosis needs to know about the configuration (ApiConfig fits). */
export interface DiagnoseConfig {
  protocol: string;
  host: string;
  port: number;
  tokenSource: TokenSource;
  /** Where a token was looked for (ApiConfig.looked). */
  looked: string[];
  env?: NodeJS.ProcessEnv;
}

export type TokenScope = { projects: Record<string, string> } | null;

export interface WhoAmI {
  id: string;
  handle?: string;
  /** ua-platform only: the caller's own token. */
  token?: { id?: string; created?: number | null; expires?: number | null; scope?: TokenScope };
}

/** Per-call bound: the whole diagnosis stays within a few seconds even against a silent server. */
const PROBE_TIMEOUT_MS = 5000;

function serverUrl(cfg: DiagnoseConfig): string {
  return `${cfg.protocol}://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
}

export function noTokenDiagnosis(cfg: Pick<DiagnoseConfig, 'looked'>): Diagnosis {
  return {
    kind: 'no-token',
    message:
      `No API token was found. ua looked in: ${cfg.looked.join('; ')}. ` +
      `Give one with --auth-token, or set DX_SECURITY_CONTEXT='{"auth_token_type":"Bearer","auth_token":"<token>"}'. ` +
      newTokenAdvice(),
  };
}

/**
 * A diagnosis from an error alone, without further calls: a refused or missing token, or a
 * transport failure. undefined when the error needs the project probes (e.g. PermissionDenied on a
 * project route).
 */
export function diagnoseCallError(err: unknown, cfg: DiagnoseConfig): Diagnosis | undefined {
  if (err instanceof ConnectionError) {
    const p = classifyConnection(err, cfg.env);
    return { kind: p.kind, message: connectionMessage(p, serverUrl(cfg), cfg.env) };
  }
  if ((err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError') {
    return {
      kind: 'unreachable',
      message: `The API server at ${serverUrl(cfg)} did not answer within ${PROBE_TIMEOUT_MS / 1000} s. Check the server address (\`ua --env\`) and your network, then retry.`,
    };
  }
  if (!(err instanceof ApiCallError)) return undefined;
  if (err.type === 'InvalidAuthentication') {
    return {
      kind: 'bad-token',
      message:
        `The API token from ${sourceText(cfg.tokenSource)} was refused by the API server at ${serverUrl(cfg)}: ` +
        `${err.apiMessage}. A token that is unknown, expired or revoked cannot be repaired. ${newTokenAdvice()}`,
    };
  }
  if (err.type === 'PermissionDenied' && /supply authentication/i.test(err.apiMessage))
    return noTokenDiagnosis(cfg);
  if (err.status >= 500 || err.status === 429) {
    return {
      kind: 'unreachable',
      message: `The API server at ${serverUrl(cfg)} answered ${err.type} (HTTP ${err.status}): ${err.apiMessage}. It is up but failing or busy; retry later.`,
    };
  }
  return undefined;
}

function probeSignal(signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, t]) : t;
}

/** Step 1 of the FAQ: is the token good? Returns the caller, or the diagnosis that stops here. */
export async function checkToken(
  api: PlatformClient,
  cfg: DiagnoseConfig,
  signal?: AbortSignal,
): Promise<{ whoami: WhoAmI } | { diagnosis: Diagnosis }> {
  if (!api.hasToken) return { diagnosis: noTokenDiagnosis(cfg) };
  try {
    return {
      whoami: await api.call<WhoAmI>('system/whoami', {}, { attempts: 1, signal: probeSignal(signal) }),
    };
  } catch (err) {
    if (signal?.aborted) throw err;
    const d = diagnoseCallError(err, cfg);
    if (d) return { diagnosis: d };
    throw err;
  }
}

function scopeCap(scope: TokenScope | undefined, projectId: string): Level | undefined {
  if (scope === undefined) return undefined; // server does not say
  if (scope === null) return 'ADMINISTER';
  const l = scope.projects[projectId] ?? scope.projects['*'] ?? 'NONE';
  return isLevel(l) ? l : undefined;
}

const DESCRIBE_FIELDS = { id: true, name: true, level: true, membershipLevel: true };

function candidateOf(
  id: string,
  d: { name?: unknown; level?: unknown; membershipLevel?: unknown } | undefined,
  level?: unknown,
): ProjectCandidate {
  const lv = isLevel(level) ? level : isLevel(d?.level) ? d.level : 'NONE';
  return {
    id,
    name: typeof d?.name === 'string' ? d.name : id,
    level: lv,
    ...(isLevel(d?.membershipLevel) ? { membershipLevel: d.membershipLevel } : {}),
  };
}

/** Steps 2–3 of the FAQ for one `--project` value. */
export async function diagnoseProject(
  api: PlatformClient,
  cfg: DiagnoseConfig,
  spec: string,
  signal?: AbortSignal,
  who?: WhoAmI,
): Promise<Diagnosis> {
  let whoami = who;
  if (!whoami) {
    const t = await checkToken(api, cfg, signal);
    if ('diagnosis' in t) return { ...t.diagnosis, spec };
    whoami = t.whoami;
  }
  try {
    const d =
      isId(spec, 'project') || isId(spec, 'container')
        ? await byId(api, spec, whoami, signal)
        : await byName(api, spec, whoami, signal);
    return { ...d, spec };
  } catch (err) {
    if (signal?.aborted) throw err;
    const d = diagnoseCallError(err, cfg);
    if (d) return { ...d, spec };
    throw err;
  }
}

/** Every distinct spec once; the token is checked once for all. */
export async function diagnoseProjects(
  api: PlatformClient,
  cfg: DiagnoseConfig,
  specs: string[],
  signal?: AbortSignal,
): Promise<Map<string, Diagnosis>> {
  const out = new Map<string, Diagnosis>();
  const distinct = [...new Set(specs)];
  const t = await checkToken(api, cfg, signal);
  for (const spec of distinct) {
    out.set(
      spec,
      'diagnosis' in t ? { ...t.diagnosis, spec } : await diagnoseProject(api, cfg, spec, signal, t.whoami),
    );
  }
  return out;
}

async function byId(api: PlatformClient, id: string, who: WhoAmI, signal?: AbortSignal): Promise<Diagnosis> {
  const scope = who.token?.scope;
  let c: ProjectCandidate;
  try {
    const d = await api.call<Record<string, unknown>>(
      `${id}/describe`,
      { fields: DESCRIBE_FIELDS },
      { attempts: 1, signal: probeSignal(signal) },
    );
    c = candidateOf(id, d);
  } catch (err) {
    if (!(err instanceof ApiCallError)) throw err;
    if (err.type === 'ResourceNotFound') {
      return {
        kind: 'not-found',
        project: { id },
        message:
          `Project ${id} does not exist (the API server answered ResourceNotFound). Check the ID: copy it from the ` +
          `project's page or from \`dx find projects\`; it is "project-" and 24 case-sensitive characters.`,
      };
    }
    if (err.type !== 'PermissionDenied') throw err;
    const cap = scopeCap(scope, id);
    if (cap === 'NONE') return scopedElsewhere(id, `project ${id}`, who);
    return {
      kind: 'no-access',
      project: { id },
      message: `Project ${id} exists, but ${who.id} has no access to it. ${inviteAdvice(who, id)}`,
    };
  }
  return levelDiagnosis(c, who);
}

async function byName(
  api: PlatformClient,
  name: string,
  who: WhoAmI,
  signal?: AbortSignal,
): Promise<Diagnosis> {
  const found: ProjectCandidate[] = [];
  let starting: unknown;
  do {
    const page = await api.call<{
      results: Array<{ id: string; level: string; describe?: Record<string, unknown> }>;
      next: unknown;
    }>(
      'system/findProjects',
      { name, level: 'VIEW', describe: { fields: DESCRIBE_FIELDS }, ...(starting ? { starting } : {}) },
      { attempts: 1, signal: probeSignal(signal) },
    );
    for (const r of page.results) found.push(candidateOf(r.id, r.describe, r.level));
    starting = page.next;
  } while (starting);
  const uploadable = found.filter((c) => atLeast(c.level, 'UPLOAD'));
  if (uploadable.length > 1) {
    const list = uploadable.map((c) => `  ${c.id}  "${c.name}" (${c.level})`).join('\n');
    return {
      kind: 'ambiguous',
      candidates: uploadable,
      message: `The name "${name}" matches ${uploadable.length} projects you can upload to:\n${list}\nGive the project ID with --project instead of the name.`,
    };
  }
  if (uploadable.length === 1) return levelDiagnosis(uploadable[0], who);
  if (found.length === 0) {
    const scope = who.token?.scope;
    if (scope && scope.projects['*'] === undefined)
      return scopedElsewhere(undefined, `a project named "${name}"`, who);
    return {
      kind: 'not-found',
      message:
        `No project named "${name}" is visible to ${who.id}. Check the name (it must match exactly, case ` +
        `included) or give the project ID instead. If the project belongs to someone else, ask its owner to ` +
        `invite ${who.id} at UPLOAD.`,
    };
  }
  // Only VIEW matches: one whose membership is higher is held back by the token's scope.
  const capped = found.find((c) => c.membershipLevel && atLeast(c.membershipLevel, 'UPLOAD'));
  return { ...levelDiagnosis(capped ?? found[0], who), candidates: found };
}

/** The project is visible; is the level enough, and if not, is it the user or the token? */
function levelDiagnosis(c: ProjectCandidate, who: WhoAmI): Diagnosis {
  const project = { id: c.id, name: c.name };
  const named = `${c.id} ("${c.name}")`;
  if (atLeast(c.level, 'UPLOAD')) {
    return {
      kind: 'ok',
      project,
      message: `${who.id} can upload to ${named} (access through this token: ${c.level}).`,
    };
  }
  const cap = scopeCap(who.token?.scope, c.id);
  const member = c.membershipLevel;
  const tokenIsCap = member
    ? atLeast(member, 'UPLOAD')
    : cap !== undefined && cap !== 'ADMINISTER' && !atLeast(cap, 'UPLOAD');
  if (tokenIsCap) {
    const yours = member ? `${who.id} has ${member} access to ${named}, but` : `For ${named},`;
    return {
      kind: 'token-scope',
      project,
      message:
        `${yours} this token is limited to ${scopeText(who.token?.scope)}, so it only reaches ${c.level} there; ` +
        `uploading needs UPLOAD or more. ${newTokenAdvice(who, c.id)}`,
    };
  }
  return {
    kind: 'view-only',
    project,
    message:
      `${who.id} has only ${c.level} access to ${named}; uploading needs UPLOAD, CONTRIBUTE or ADMINISTER. ` +
      `Ask an ADMINISTER of the project to raise your access: dx invite ${who.id} ${c.id} UPLOAD ` +
      `(on ua-platform: ua-platform invite ${c.id} ${who.handle ?? who.id} UPLOAD).`,
  };
}

function scopedElsewhere(id: string | undefined, what: string, who: WhoAmI): Diagnosis {
  return {
    kind: 'token-scope',
    ...(id ? { project: { id } } : {}),
    message:
      `This token is limited to ${scopeText(who.token?.scope)}; it cannot reach ${what}. If ${who.id} has UPLOAD ` +
      `access there, ${newTokenAdvice(who, id).replace(/^Make/, 'make')} Otherwise ask the project's owner to ` +
      `invite ${who.id} first.`,
  };
}

/** `Diagnosis: …` lines for stderr. */
export function formatDiagnosis(d: Diagnosis): string {
  return `Diagnosis: ${d.message}`;
}

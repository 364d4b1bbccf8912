import { isId } from '../../common/ids.js';
import { atLeast, isLevel } from '../../common/levels.js';
import { ApiCallError, ConnectionError, ProjectResolutionError } from '../../errors.js';
import type { PlatformClient, ProjectDescription } from './api.js';

export interface ResolvedProject {
  id: string;
  name: string;
  description?: ProjectDescription;
}

/**
 * The classic resolution: describe the spec as an ID (usable when level ≥ UPLOAD), plus
 * findProjects by exact name at ≥ UPLOAD (every page, unlike the classic agent). Exactly one must match.
 * API errors from the describe are not final (the spec may be a name); auth errors surface from
 * findProjects, and connection errors are never swallowed.
 */
export async function resolveProject(
  api: PlatformClient,
  spec: string,
  signal?: AbortSignal,
): Promise<ResolvedProject> {
  const found = new Map<string, ResolvedProject>();
  if (isId(spec, 'project') || isId(spec, 'container')) {
    try {
      const d = await api.describeProject(spec, {}, signal);
      if (isLevel(d.level) && atLeast(d.level, 'UPLOAD'))
        found.set(d.id, { id: d.id, name: d.name, description: d });
    } catch (err) {
      if (err instanceof ConnectionError || !(err instanceof ApiCallError)) throw err;
    }
  }
  let starting: unknown = undefined;
  do {
    const page = await api.findProjects(
      {
        name: spec,
        level: 'UPLOAD',
        describe: { fields: { name: true } },
        ...(starting ? { starting } : {}),
      },
      signal,
    );
    for (const r of page.results)
      if (!found.has(r.id)) found.set(r.id, { id: r.id, name: r.describe?.name ?? r.id });
    starting = page.next;
  } while (starting);
  if (found.size !== 1) throw new ProjectResolutionError(spec, [...found.values()]);
  return [...found.values()][0];
}

import { atLeast } from '../../common/levels.js';
import { effectiveLevel } from '../auth/policy.js';
import { notFound } from '../errors.js';
import type { RouteContext, RouteDeps } from '../http/route.js';
import { loadObject, type Loaded } from './object-describe.js';

/**
 * Which copy of an object a request means. A cloned object has one row per project
 * (store/copies.ts); loadObject reads whichever row comes first, which carries the shared state
 * (state, size, parts, spec) correctly but another project's metadata. These pick the copy and
 * lay its metadata over that.
 */

function withCopy(deps: RouteDeps, l: Loaded, project: string): Loaded | undefined {
  if (l.obj.project === project) return l;
  const copy = deps.store.objectCopy(l.obj.class, l.obj.id, project);
  if (!copy) return undefined;
  return { ...l, obj: { ...l.obj, ...copy } } as Loaded;
}

/** The copy in `project`; ResourceNotFound when the object is not there. */
export function loadIn(deps: RouteDeps, id: string, project: string): Loaded {
  const l = withCopy(deps, loadObject(deps, id), project);
  if (!l) throw notFound(id);
  return l;
}

/**
 * The copy a caller names with a `project` hint (ResourceNotFound if the object is not there,
 * as before clones existed); without one, the first copy the caller can view, else the first
 * copy made, so that a refusal names a project that really holds the object. Which copy the
 * platform describes without a hint is not in the reference: an emulator choice.
 */
export function loadForViewer(ctx: RouteContext, id: string, hint?: string): Loaded {
  if (hint !== undefined) return loadIn(ctx.deps, id, hint);
  const l = loadObject(ctx.deps, id);
  const principal = ctx.principal();
  const canView = (p: string) => atLeast(effectiveLevel(ctx.deps.store, principal, p), 'VIEW');
  if (canView(l.obj.project)) return l;
  const projects = ctx.deps.store.copyProjects(l.obj.class, id);
  const project = projects.find(canView) ?? projects[0] ?? l.obj.project;
  return withCopy(ctx.deps, l, project) ?? l;
}

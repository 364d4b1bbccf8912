import { atLeast, type Level } from '../../common/levels.js';
import { effectiveLevel, NEED } from '../auth/policy.js';
import { invalidInput, invalidState } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import { checkObjectName } from '../store/folders.js';
import { type MetaPatch, type ObjectClass } from '../store/objects.js';
import { isPlainObject, optString, optStringArray, reqString } from './input-checks.js';
import { loadForViewer } from './object-copies.js';
import { describeLoadedFresh, parseDescribeOptions, type Loaded } from './object-describe.js';

/**
 * Routes every data-object class shares: describe and the metadata edits (platform-api.md §5.7).
 * Editing an open object needs UPLOAD; a closing/closed one needs CONTRIBUTE (§4.1).
 */
export function loadForCaller(ctx: RouteContext, need: 'read' | 'edit'): Loaded {
  // The copy in the `project` hint, else one the caller can see (a clone is in several projects).
  const l = loadForViewer(ctx, ctx.subject, optString(ctx.input, 'project'));
  const level = need === 'read' ? NEED.read : l.obj.state === 'open' ? NEED.modifyOpen : NEED.modifyClosed;
  ctx.requireLevel(l.obj.project, level);
  return l;
}

const describe: Handler = (ctx) => {
  const l = loadForCaller(ctx, 'read');
  return describeLoadedFresh(ctx.deps, l, parseDescribeOptions(ctx.input));
};

function edit(patchOf: (ctx: RouteContext, l: Loaded) => MetaPatch): Handler {
  return (ctx) => {
    const l = loadForCaller(ctx, 'edit');
    ctx.deps.store.updateMeta(l.obj.class, l.obj.id, l.obj.project, patchOf(ctx, l), ctx.deps.now());
    return { id: l.obj.id };
  };
}

/**
 * `/…/setDetails`: the request body itself is the new details, as dxpy sends it
 * (`set_details(details)` posts `details` as the whole input), and `/…/getDetails` answers the
 * value itself. This server takes only JSON objects as bodies, so details set here are objects.
 * Details are fixed at close (§5.7: on a closed object names, properties and tags may change,
 * details may not): anything not `open` is InvalidState, after the UPLOAD an open object needs.
 * The body has no `project` hint: any `project` key in it is part of the details.
 */
const setDetails: Handler = (ctx) => {
  const l = loadForViewer(ctx, ctx.subject);
  ctx.requireLevel(l.obj.project, NEED.modifyOpen);
  const ok =
    l.obj.state === 'open' && ctx.deps.store.setDetails(l.obj.class, l.obj.id, ctx.input, ctx.deps.now());
  if (!ok) {
    const state = l.obj.state === 'open' ? 'closed' : l.obj.state; // a close won the race
    throw invalidState(`Cannot set details of ${l.obj.id} because it is in state ${state}`);
  }
  return { id: l.obj.id };
};

const getDetails: Handler = (ctx) => loadForCaller(ctx, 'read').obj.details;

/**
 * `/…/setVisibility {hidden, project?}` → `{id}`. The level is that of the other metadata edits
 * (UPLOAD while open, CONTRIBUTE after); then, as for details, anything not `open` is
 * InvalidState: dxpy documents hide/unhide as failing unless the object is open, and its
 * test_close_dxrecord expects hiding a closed record to fail. So only open objects, which
 * cannot have been cloned, ever change here.
 */
const setVisibility: Handler = (ctx) => {
  const l = loadForCaller(ctx, 'edit');
  const hidden = ctx.input.hidden;
  if (typeof hidden !== 'boolean') throw invalidInput('hidden must be a boolean');
  const { store } = ctx.deps;
  if (!store.setHidden(l.obj.class, l.obj.id, l.obj.project, hidden, ctx.deps.now())) {
    const state = l.obj.state === 'open' ? 'closed' : l.obj.state; // a close won the race
    throw invalidState(`Cannot change the visibility of ${l.obj.id} because it is in state ${state}`);
  }
  return { id: l.obj.id };
};

/**
 * `/…/listProjects` → `{<project>: <caller's level>}` for every project holding a copy that the
 * caller can view (dxpy's list_projects; its test_list_projects_dxrecord clones a record and
 * expects both projects). A caller who can view none is refused like describe.
 */
const listProjects: Handler = (ctx) => {
  const l = loadForCaller(ctx, 'read');
  const { store } = ctx.deps;
  const principal = ctx.principal();
  const out: Record<string, Level> = {};
  for (const p of store.copyProjects(l.obj.class, l.obj.id)) {
    const level = effectiveLevel(store, principal, p);
    if (atLeast(level, 'VIEW')) out[p] = level;
  }
  return out;
};

function reqList(ctx: RouteContext, key: string): string[] {
  const v = optStringArray(ctx.input, key);
  if (v === undefined) throw invalidInput(`${key} is required`);
  return v;
}

const added = (have: string[], more: string[]) => [...new Set([...have, ...more])];
const removed = (have: string[], less: string[]) => have.filter((x) => !less.includes(x));

export function metadataRoutes(klass: ObjectClass): RouteTable {
  return {
    [`${klass}-*/describe`]: describe,
    [`${klass}-*/setDetails`]: setDetails,
    [`${klass}-*/getDetails`]: getDetails,
    [`${klass}-*/setVisibility`]: setVisibility,
    [`${klass}-*/listProjects`]: listProjects,
    [`${klass}-*/setProperties`]: edit((ctx) => {
      const props = ctx.input.properties;
      if (!isPlainObject(props) || !Object.values(props).every((v) => v === null || typeof v === 'string')) {
        throw invalidInput('properties must be a mapping of strings to strings or null');
      }
      return { properties: props as Record<string, string | null> };
    }),
    [`${klass}-*/rename`]: edit((ctx) => {
      return { name: checkObjectName(reqString(ctx.input, 'name')) };
    }),
    [`${klass}-*/addTags`]: edit((ctx, l) => ({ tags: added(l.obj.tags, reqList(ctx, 'tags')) })),
    [`${klass}-*/removeTags`]: edit((ctx, l) => ({ tags: removed(l.obj.tags, reqList(ctx, 'tags')) })),
    [`${klass}-*/addTypes`]: edit((ctx, l) => ({ types: added(l.obj.types, reqList(ctx, 'types')) })),
    [`${klass}-*/removeTypes`]: edit((ctx, l) => ({ types: removed(l.obj.types, reqList(ctx, 'types')) })),
  };
}

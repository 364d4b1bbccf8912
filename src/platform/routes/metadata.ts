import { invalidInput, invalidState, notFound } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import { checkObjectName } from '../store/folders.js';
import { type MetaPatch, type ObjectClass } from '../store/objects.js';
import { NEED } from '../auth/policy.js';
import { isPlainObject, optString, optStringArray, reqString } from './input-checks.js';
import { describeLoadedFresh, loadObject, parseDescribeOptions, type Loaded } from './object-describe.js';

/**
 * Routes every data-object class shares: describe and the metadata edits (platform-api.md §5.7).
 * Editing an open object needs UPLOAD; a closing/closed one needs CONTRIBUTE (§4.1).
 */
export function loadForCaller(ctx: RouteContext, need: 'read' | 'edit'): Loaded {
  const l = loadObject(ctx.deps, ctx.subject);
  const hint = optString(ctx.input, 'project');
  if (hint !== undefined && hint !== l.obj.project) throw notFound(l.obj.id);
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
    ctx.deps.store.updateMeta(l.obj.class, l.obj.id, patchOf(ctx, l), ctx.deps.now());
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
  const l = loadObject(ctx.deps, ctx.subject);
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

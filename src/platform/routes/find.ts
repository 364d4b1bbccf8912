import { idClass } from '../../common/ids.js';
import { atLeast, isGrantLevel, type GrantLevel } from '../../common/levels.js';
import { ApiError, invalidInput } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import { type FindCursor, type FindQuery, type FoundRow } from '../store/find.js';
import { normaliseFolder } from '../store/folders.js';
import { OBJECT_CLASSES, type ObjectClass } from '../store/objects.js';
import { isPlainObject, optString } from './input-checks.js';
import { loadForViewer, loadIn } from './object-copies.js';
import {
  describeLoaded,
  describeLoadedFresh,
  parseDescribeOptions,
  type DescribeOptions,
} from './object-describe.js';
import { listMatcher, nameMatcher, readRange } from './find-filters.js';

const MAX_LIMIT = 1000;
const CLASSES: ObjectClass[] = OBJECT_CLASSES;

/** Projects to search: the scope's (caller needs VIEW there) or every one the caller can view. */
function searchProjects(ctx: RouteContext, scopeProject: string | undefined, minimum: GrantLevel): string[] {
  if (scopeProject !== undefined) {
    ctx.requireLevel(scopeProject, 'VIEW');
    return atLeast(ctx.levelIn(scopeProject), minimum) ? [scopeProject] : [];
  }
  return ctx.deps.store.projectsWithObjects().filter((p) => atLeast(ctx.levelIn(p), minimum));
}

function readCursor(v: unknown): FindCursor | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    !isPlainObject(v) ||
    typeof v.project !== 'string' ||
    typeof v.modified !== 'number' ||
    typeof v.id !== 'string'
  ) {
    throw invalidInput('starting must be the `next` value of a previous findDataObjects answer');
  }
  return { project: v.project, modified: v.modified, id: v.id };
}

/**
 * `/system/findDataObjects` (platform-api.md §5.8). Defaults: any class, any state (the classic
 * resume query sends none and must find open files), visibility `visible`, limit 1000.
 */
const findDataObjects: Handler = async (ctx) => {
  const input = ctx.input;
  const klass = optString(input, 'class');
  if (klass !== undefined && !CLASSES.includes(klass as ObjectClass)) {
    return { results: [], next: null }; // classes this server does not store have no objects
  }
  const state = optString(input, 'state') ?? 'any';
  if (!['open', 'closing', 'closed', 'any'].includes(state))
    throw invalidInput('state must be open, closing, closed or any');
  const visibility = optString(input, 'visibility') ?? 'visible';
  if (!['visible', 'hidden', 'either'].includes(visibility))
    throw invalidInput('visibility must be visible, hidden or either');
  const level = input.level ?? 'VIEW';
  if (!isGrantLevel(level)) throw invalidInput('level must be VIEW, UPLOAD, CONTRIBUTE or ADMINISTER');
  const limit = input.limit === undefined ? MAX_LIMIT : input.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
    throw invalidInput('limit must be a positive integer');

  const q: FindQuery = { classes: klass ? [klass as ObjectClass] : CLASSES, projects: [] };
  if (state !== 'any') q.state = state;
  if (visibility !== 'either') q.hidden = visibility === 'hidden';
  let scopeProject: string | undefined;
  if (input.scope !== undefined) {
    const s = input.scope;
    if (!isPlainObject(s) || typeof s.project !== 'string')
      throw invalidInput('scope must be {"project": …, "folder"?, "recurse"?}');
    if (s.recurse !== undefined && typeof s.recurse !== 'boolean')
      throw invalidInput('scope.recurse must be a boolean');
    scopeProject = s.project;
    q.folder = { path: normaliseFolder(s.folder ?? '/'), recurse: s.recurse ?? true };
  }
  if (input.properties !== undefined) {
    const p = input.properties;
    if (!isPlainObject(p) || !Object.values(p).every((v) => typeof v === 'string' || v === true)) {
      throw invalidInput('properties must map keys to a string or true');
    }
    q.properties = p as Record<string, string | true>;
  }
  if (typeof input.name === 'string') q.name = input.name;
  const nameOk = nameMatcher(input.name);
  const tagsOk = listMatcher(input.tags ?? input.tag, 'tags');
  const typesOk = listMatcher(input.type, 'type');
  q.created = readRange(input.created, 'created');
  q.modified = readRange(input.modified, 'modified');
  q.after = readCursor(input.starting);
  const describe =
    input.describe === undefined || input.describe === false
      ? undefined
      : parseDescribeOptions(input.describe);

  ctx.deps.store.settleClosing(ctx.deps.now());
  q.projects = searchProjects(ctx, scopeProject, level);
  const page: FoundRow[] = [];
  let more = false;
  for (const row of ctx.deps.store.findObjects(q)) {
    if (
      !nameOk(row.name) ||
      !tagsOk(JSON.parse(row.tags) as string[]) ||
      !typesOk(JSON.parse(row.types) as string[]) ||
      !ownPropertiesMatch(ctx, row, q.properties)
    )
      continue;
    if (page.length === Math.min(limit, MAX_LIMIT)) {
      more = true;
      break; // leaving the loop closes the statement
    }
    page.push(row);
  }
  const last = page[page.length - 1];
  const results: Array<Record<string, unknown>> = [];
  // One at a time: an open symlinked file's describe asks its container which parts arrived.
  for (const r of page) {
    const out: Record<string, unknown> = { project: r.project, id: r.id };
    if (describe) out.describe = await describeRow(ctx, r, describe);
    results.push(out);
  }
  return {
    results,
    next: more && last ? { project: last.project, modified: last.modified, id: last.id } : null,
  };
};

/**
 * The property index holds the values of every copy of a cloned object (store/copies.ts), so a
 * row the SQL found may be a copy whose own properties differ: check them.
 */
function ownPropertiesMatch(ctx: RouteContext, row: FoundRow, want: FindQuery['properties']): boolean {
  if (want === undefined) return true;
  const have = ctx.deps.store.objectCopy(row.class, row.id, row.project)?.properties ?? {};
  return Object.entries(want).every(([k, v]) => (v === true ? Object.hasOwn(have, k) : have[k] === v));
}

function describeRow(
  ctx: RouteContext,
  r: FoundRow,
  opts: DescribeOptions,
): Promise<Record<string, unknown>> {
  // Each result is one copy (r.project), so the `project` hint has nothing to choose.
  const { project: _hint, ...rest } = opts;
  return describeLoadedFresh(ctx.deps, loadIn(ctx.deps, r.id, r.project), rest);
}

/** `/system/describeDataObjects`: up to 1000 objects; per-object errors instead of failing all. */
const describeDataObjects: Handler = (ctx) => {
  const objects = ctx.input.objects;
  if (!Array.isArray(objects) || objects.length > MAX_LIMIT)
    throw invalidInput(`objects must be an array of at most ${MAX_LIMIT}`);
  const classOpts = ctx.input.classDescribeOptions ?? {};
  if (!isPlainObject(classOpts)) throw invalidInput('classDescribeOptions must be a mapping');
  return {
    results: objects.map((o) => {
      const id = typeof o === 'string' ? o : isPlainObject(o) && typeof o.id === 'string' ? o.id : undefined;
      if (id === undefined) throw invalidInput('objects must be IDs or {"id": …}');
      try {
        const klass = idClass(id) ?? '*';
        const base = parseDescribeOptions(classOpts[klass] ?? classOpts['*'], 'classDescribeOptions');
        const own = isPlainObject(o) && o.describe !== undefined ? parseDescribeOptions(o.describe) : {};
        const l = loadForViewer(ctx, id); // of a cloned object, a copy the caller can see
        ctx.requireLevel(l.obj.project, 'VIEW');
        return { describe: describeLoaded(ctx.deps, l, { ...base, ...own, project: undefined }) };
      } catch (err) {
        if (err instanceof ApiError && err.type !== 'InvalidInput') return err.body();
        throw err;
      }
    }),
  };
};

export const findRoutes: RouteTable = {
  'system/findDataObjects': findDataObjects,
  'system/describeDataObjects': describeDataObjects,
};

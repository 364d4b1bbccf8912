import { atLeast, type GrantLevel, type Level } from '../../common/levels.js';
import { effectiveLevel } from '../auth/policy.js';
import { invalidInput } from '../errors.js';
import type { RouteContext, RouteTable } from '../http/route.js';
import { type ProjectRecord } from '../store/projects.js';
import { isPlainObject, optInt, reqGrantLevel } from './input-checks.js';
import { nameMatcher as objectNameMatcher, readRange } from './find-filters.js';
import { describeProject } from './project-describe.js';

const DEFAULT_LIMIT = 1000;

/**
 * `name` filter: an exact string (matched literally: a backslash is just a character), `{glob}`
 * with the same escapes as findDataObjects (find-filters.ts), `{regexp}` (optionally with `flags`),
 * or absent.
 */
function nameMatcher(name: unknown): (s: string) => boolean {
  if (typeof name === 'string') return (s) => s === name;
  return objectNameMatcher(name);
}

/** `tags`: a string, an array (all required), `{$and: [...]}` or `{$or: [...]}`. */
function tagsMatcher(tags: unknown): (t: string[]) => boolean {
  if (tags === undefined) return () => true;
  if (typeof tags === 'string') return (t) => t.includes(tags);
  const all = Array.isArray(tags) ? tags : isPlainObject(tags) ? tags.$and : undefined;
  const any = isPlainObject(tags) ? tags.$or : undefined;
  const list = (all ?? any) as unknown;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw invalidInput('tags must be a string, an array of strings, {"$and": […]} or {"$or": […]}');
  }
  return all ? (t) => list.every((x) => t.includes(x)) : (t) => list.some((x) => t.includes(x));
}

/** `properties`: each key must be present (value `true`) or equal the given string. */
function propertiesMatcher(props: unknown): (p: Record<string, string>) => boolean {
  if (props === undefined) return () => true;
  if (!isPlainObject(props)) throw invalidInput('properties must be a mapping');
  for (const v of Object.values(props)) {
    if (v !== true && typeof v !== 'string') throw invalidInput('property values must be strings or true');
  }
  return (p) => Object.entries(props).every(([k, v]) => (v === true ? Object.hasOwn(p, k) : p[k] === v));
}

function createdMatcher(created: unknown): (t: number) => boolean {
  if (created === undefined) return () => true;
  if (!isPlainObject(created)) throw invalidInput('created must be {"after": ms, "before": ms}');
  const { after, before } = created;
  if (
    (after !== undefined && typeof after !== 'number') ||
    (before !== undefined && typeof before !== 'number')
  ) {
    throw invalidInput('created.after and created.before must be numbers');
  }
  return (t) => (after === undefined || t >= after) && (before === undefined || t <= before);
}

function regionMatcher(region: unknown): (r: string) => boolean {
  if (region === undefined) return () => true;
  if (typeof region === 'string') return (r) => r === region;
  if (Array.isArray(region) && region.every((x) => typeof x === 'string')) return (r) => region.includes(r);
  throw invalidInput('region must be a string or an array of strings');
}

function findProjects(ctx: RouteContext) {
  const { input, deps } = ctx;
  const principal = ctx.principal();
  const minLevel: GrantLevel = input.level === undefined ? 'VIEW' : reqGrantLevel(input, 'level');
  const describe = input.describe;
  if (describe !== undefined && typeof describe !== 'boolean' && !isPlainObject(describe)) {
    throw invalidInput('describe must be a boolean or a describe input mapping');
  }
  const limit = optInt(input, 'limit', 1, DEFAULT_LIMIT) ?? DEFAULT_LIMIT;
  const starting = input.starting;
  if (starting !== undefined && starting !== null && typeof starting !== 'string') {
    throw invalidInput('starting must be the "next" value of an earlier call');
  }
  const byName = nameMatcher(input.name);
  const byTags = tagsMatcher(input.tags);
  const byProps = propertiesMatcher(input.properties);
  const byCreated = createdMatcher(input.created);
  const byRegion = regionMatcher(input.region);
  const ok = (p: ProjectRecord) =>
    byName(p.name) && byTags(p.tags) && byProps(p.properties) && byCreated(p.created) && byRegion(p.region);

  // Membership lists are small here; filter in memory, in a stable (created, id) order.
  const matches: Array<{ project: ProjectRecord; level: Level }> = [];
  for (const { project } of deps.store.projectsOfUser(principal.userId)) {
    const level = effectiveLevel(deps.store, principal, project.id);
    if (!atLeast(level, minLevel) || !ok(project)) continue; // minLevel is VIEW or more
    matches.push({ project, level });
  }
  // The cursor is the ID of the first result of the next page.
  let from = 0;
  if (typeof starting === 'string') {
    from = matches.findIndex((m) => m.project.id === starting);
    if (from < 0) throw invalidInput('starting does not name a result of this search');
  }
  const page = matches.slice(from, from + limit);
  const next = from + limit < matches.length ? matches[from + limit].project.id : null;
  const describeInput = isPlainObject(describe) ? describe : {};
  const memberOf = (id: string): Level => deps.store.memberLevel(id, principal.userId) ?? 'NONE';
  return {
    results: page.map(({ project, level }) => ({
      id: project.id,
      level,
      ...(describe
        ? { describe: describeProject(deps.store, project, level, describeInput, memberOf(project.id)) }
        : {}),
    })),
    next,
  };
}

/**
 * `{id, handle, token}`. The reference only confirms `id` (§3); `token` is our addition so a client
 * can diagnose a refused upload by itself (issue 4): it describes the caller's own token — its ID,
 * creation and expiry times (ms, expiry null = never) and scope (null = the user's full access,
 * else `{projects: {<project-id or *>: LEVEL}}`). Never the token text or its hash. A token can
 * only ever learn about itself this way.
 */
function whoami(ctx: RouteContext) {
  const { userId, tokenId, scope } = ctx.principal();
  const user = ctx.deps.store.getUser(userId);
  const rec = ctx.deps.store.tokenById(tokenId);
  return {
    id: userId,
    ...(user ? { handle: user.handle } : {}),
    token: { id: tokenId, created: rec?.created ?? null, expires: rec?.expires ?? null, scope },
  };
}

/**
 * `/system/findApps` and `/system/findGlobalWorkflows`: `dx describe <name>` asks the first, then
 * the second when nothing is found, before it tries the name as a data object. This server has
 * no apps or global workflows, so the answer is always `{results: [], next: null}`. The input is
 * checked loosely, for the shapes dxpy's find_global_executables sends (name exact, glob or
 * regexp; category; allVersions/published; billTo/createdBy/developer; created/modified ranges;
 * describe; limit; starting); anything else is ignored.
 */
function findNoExecutables(ctx: RouteContext) {
  const { input } = ctx;
  nameMatcher(input.name);
  for (const key of ['category', 'billTo', 'createdBy', 'developer']) {
    const v = input[key];
    if (
      v !== undefined &&
      typeof v !== 'string' &&
      !(Array.isArray(v) && v.every((x) => typeof x === 'string'))
    )
      throw invalidInput(`${key} must be a string`);
  }
  for (const key of ['allVersions', 'published']) {
    if (input[key] !== undefined && typeof input[key] !== 'boolean')
      throw invalidInput(`${key} must be a boolean`);
  }
  readRange(input.created, 'created');
  readRange(input.modified, 'modified');
  if (input.describe !== undefined && typeof input.describe !== 'boolean' && !isPlainObject(input.describe))
    throw invalidInput('describe must be a boolean or a describe input mapping');
  optInt(input, 'limit', 1, DEFAULT_LIMIT);
  return { results: [], next: null };
}

export const systemRoutes: RouteTable = {
  'system/findApps': findNoExecutables,
  'system/findGlobalWorkflows': findNoExecutables,
  // ua sends {client, version, platform} (§9.1); any object is accepted. No update is ever offered.
  'system/greet': () => ({ update: { available: false }, messages: [] }),
  'system/whoami': whoami,
  'system/findProjects': findProjects,
};

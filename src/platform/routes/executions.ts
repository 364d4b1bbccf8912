import { atLeast } from '../../common/levels.js';
import { NEED } from '../auth/policy.js';
import { invalidInput, notFound } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import {
  type ExecutionClass,
  type ExecutionCursor,
  type ExecutionQuery,
  type ExecutionRecord,
} from '../store/executions.js';
import { isPlainObject, optString } from './input-checks.js';

const MAX_LIMIT = 1000;
const CLASSES: ExecutionClass[] = ['job', 'analysis'];

/**
 * An execution's describe. The executable is under the platform's key for its class (`applet`
 * for a job, `workflow` for an analysis) and under `executable`, which both carry there.
 */
function describeExecution(e: ExecutionRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: e.id,
    class: e.class,
    project: e.project,
    folder: e.folder,
    name: e.name,
    state: e.state,
    input: e.input,
    executable: e.executable,
    [e.class === 'job' ? 'applet' : 'workflow']: e.executable,
    launchedBy: e.launchedBy,
    created: e.created,
    modified: e.modified,
    properties: e.properties,
    tags: e.tags,
    details: e.details,
  };
  if (e.class === 'analysis') out.stages = [];
  return out;
}

/** `describe` as findExecutions takes it: true, or `{fields: {name: bool}}` to pick (id always kept). */
function readDescribe(v: unknown): ((d: Record<string, unknown>) => Record<string, unknown>) | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return (d) => d;
  if (!isPlainObject(v)) throw invalidInput('describe must be a boolean or a mapping');
  const fields = v.fields;
  if (fields === undefined) return (d) => d;
  if (!isPlainObject(fields) || !Object.values(fields).every((x) => typeof x === 'boolean'))
    throw invalidInput('describe.fields must be a mapping of field names to booleans');
  return (d) => {
    const out: Record<string, unknown> = { id: d.id };
    for (const [k, want] of Object.entries(fields)) if (want && k in d) out[k] = d[k];
    return out;
  };
}

const describe: Handler = (ctx) => {
  const e = ctx.deps.store.getExecution(ctx.subject);
  if (!e) throw notFound(ctx.subject);
  ctx.requireLevel(e.project, NEED.read);
  const pick = readDescribe(ctx.input.fields === undefined ? true : { fields: ctx.input.fields });
  const full = describeExecution(e);
  return pick ? pick(full) : full;
};

function readCursor(v: unknown): ExecutionCursor | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v) || typeof v.created !== 'number' || typeof v.id !== 'string')
    throw invalidInput('starting must be the `next` value of a previous findExecutions answer');
  return { created: v.created, id: v.id };
}

/**
 * `/system/findExecutions`: filters `project`, `executable`, `class`, `properties` (a value, or
 * true for any value), `describe`, `limit`, `starting`; newest first. Without `project` it
 * searches every project the caller can view; a named project needs VIEW. `only` fixes the class
 * (findJobs, findAnalyses).
 */
function findExecutions(only?: ExecutionClass): Handler {
  return (ctx: RouteContext) => {
    const input = ctx.input;
    const klass = only ?? optString(input, 'class');
    if (klass !== undefined && !CLASSES.includes(klass as ExecutionClass))
      throw invalidInput('class must be job or analysis');
    const project = optString(input, 'project');
    const executable = optString(input, 'executable');
    const limit = input.limit ?? MAX_LIMIT;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
      throw invalidInput('limit must be a positive integer');
    const q: ExecutionQuery = {
      projects: [],
      classes: klass ? [klass as ExecutionClass] : CLASSES,
      executable,
      after: readCursor(input.starting),
      limit: Math.min(limit, MAX_LIMIT),
    };
    if (input.properties !== undefined) {
      const p = input.properties;
      if (!isPlainObject(p) || !Object.values(p).every((v) => typeof v === 'string' || v === true))
        throw invalidInput('properties must map keys to a string or true');
      q.properties = p as Record<string, string | true>;
    }
    const pick = readDescribe(input.describe);
    const store = ctx.deps.store;
    if (project !== undefined) {
      ctx.requireLevel(project, NEED.read);
      q.projects = [project];
    } else {
      q.projects = store.projectsWithExecutions().filter((p) => atLeast(ctx.levelIn(p), NEED.read));
    }
    const rows = store.findExecutions(q);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      results: page.map((e) => (pick ? { id: e.id, describe: pick(describeExecution(e)) } : { id: e.id })),
      next: rows.length > q.limit && last ? { created: last.created, id: last.id } : null,
    };
  };
}

export const executionRoutes: RouteTable = {
  'job-*/describe': describe,
  'analysis-*/describe': describe,
  'system/findExecutions': findExecutions(),
  'system/findJobs': findExecutions('job'),
  'system/findAnalyses': findExecutions('analysis'),
};

import { isId, newId } from '../../common/ids.js';
import { NEED } from '../auth/policy.js';
import { invalidInput, notFound } from '../errors.js';
import type { Handler, RouteContext, RouteTable } from '../http/route.js';
import { type ExecutableClass, type ExecutableObject } from '../store/executables.js';
import { type ExecutionClass } from '../store/executions.js';
import { checkObjectName, normaliseFolder } from '../store/folders.js';
import { readCreation } from './files.js';
import { isPlainObject, optString, optStringArray, optStringMap } from './input-checks.js';
import { metadataRoutes } from './metadata.js';
import { loadForViewer } from './object-copies.js';

/**
 * Applets and workflows, minimally: created (closed) with the data-object creation fields of
 * §5.2 and their executable fields kept as given, never validated; and run, which records an
 * execution. There is no compute here (see run below).
 */
const SPEC_KEYS: Record<ExecutableClass, readonly string[]> = {
  applet: ['runSpec', 'inputSpec', 'outputSpec', 'dxapi', 'access', 'title', 'summary', 'description'],
  workflow: ['stages', 'title', 'summary', 'description'],
};

function executableNew(klass: ExecutableClass): Handler {
  return (ctx) => {
    const c = readCreation(ctx);
    // UPLOAD creates data objects (§4.1); applets and workflows are data objects.
    ctx.requireLevel(c.project, NEED.create);
    const spec: Record<string, unknown> = {};
    for (const k of SPEC_KEYS[klass]) if (ctx.input[k] !== undefined) spec[k] = ctx.input[k];
    const store = ctx.deps.store;
    const now = ctx.deps.now();
    return store.withNonce(
      ctx.principal().userId,
      `${klass}/new`,
      ctx.input,
      () => {
        const folder = store.ensureFolder(c.project, c.folder, c.parents);
        const id = newId(klass);
        const createdBy = ctx.principal().userId;
        store.insertExecutable({ ...c, id, class: klass, folder, name: c.name ?? id, spec, createdBy, now });
        return { id };
      },
      now,
    );
  };
}

const EXECUTION_OF: Record<ExecutableClass, ExecutionClass> = { applet: 'job', workflow: 'analysis' };

/**
 * `/applet-xxxx/run` → `{id: "job-…"}`, `/workflow-xxxx/run` → `{id: "analysis-…", stages: []}`.
 * Needs VIEW on the executable's project and CONTRIBUTE where it runs (`project`, by default the
 * executable's own). A nonce makes it idempotent (§1.5): the executable is hashed with the input,
 * so one nonce reused on another executable is InvalidInput rather than a second launch.
 *
 * No compute: the execution is created in its final state `done`, with no output. That is the
 * state a caller waiting on a launch polls describe for, so it can be tested end to end.
 */
function run(klass: ExecutableClass): Handler {
  return (ctx) => {
    const exe = loadExecutable(ctx, klass);
    ctx.requireLevel(exe.project, NEED.read);
    const input = ctx.input.input;
    if (input === undefined) throw invalidInput('input is required');
    if (!isPlainObject(input)) throw invalidInput('input must be a mapping of input names to values');
    const project = optString(ctx.input, 'project') ?? exe.project;
    if (!isId(project, 'project') && !isId(project, 'container'))
      throw invalidInput('project must be a project ID');
    const folder = normaliseFolder(ctx.input.folder ?? '/');
    const given = optString(ctx.input, 'name');
    const name = given === undefined ? exe.name : checkObjectName(given);
    const properties = optStringMap(ctx.input, 'properties') ?? {};
    const tags = optStringArray(ctx.input, 'tags') ?? [];
    const details = ctx.input.details ?? {};
    ctx.requireLevel(project, NEED.run);
    const store = ctx.deps.store;
    const now = ctx.deps.now();
    const userId = ctx.principal().userId;
    const execution = EXECUTION_OF[klass];
    return store.withNonce(
      userId,
      `${klass}-*/run`,
      { ...ctx.input, $executable: exe.id },
      () => {
        const id = newId(execution);
        store.insertExecution({
          id,
          class: execution,
          executable: exe.id,
          project,
          folder,
          name,
          input,
          properties,
          tags,
          details,
          state: 'done',
          launchedBy: userId,
          now,
        });
        return execution === 'analysis' ? { id, stages: [] } : { id };
      },
      now,
    );
  };
}

/** A cloned executable is in several projects: run the copy the caller can see. */
function loadExecutable(ctx: RouteContext, klass: ExecutableClass): ExecutableObject {
  const l = loadForViewer(ctx, ctx.subject);
  if (l.kind !== klass) throw notFound(ctx.subject);
  return l.obj;
}

export const executableRoutes: RouteTable = {
  'applet/new': executableNew('applet'),
  'workflow/new': executableNew('workflow'),
  ...metadataRoutes('applet'),
  ...metadataRoutes('workflow'),
  'applet-*/run': run('applet'),
  'workflow-*/run': run('workflow'),
};

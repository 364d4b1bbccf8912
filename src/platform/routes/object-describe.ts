import { idClass } from '../../common/ids.js';
import { invalidInput, notFound } from '../errors.js';
import type { RouteDeps } from '../http/route.js';
import { type ExecutableObject } from '../store/executables.js';
import { type FileRecord, type PartRecord } from '../store/files.js';
import { type DataObject } from '../store/objects.js';
import { ensureAssembling } from './assembly.js';
import { isPlainObject } from './input-checks.js';
import { refreshArrivedParts } from './symlink-files.js';

/**
 * Describe output for files, records, applets and workflows (platform-api.md §5.5): a default
 * field set, `fields` to pick (with `defaultFields` to add the defaults back), and the legacy
 * `properties: true` / `details: true` / `parts: true` switches. A closed file's `parts` and any
 * file's `archivalState` come only when asked for, as on the platform (dxpy asks with
 * `fields: {parts: true}, defaultFields: true` wherever it reads parts); an open file's `parts` are
 * a default field, which the classic agent's resume relies on.
 */
export interface DescribeOptions {
  fields?: Record<string, boolean>;
  defaultFields?: boolean;
  properties?: boolean;
  details?: boolean;
  /** Adds a file's `parts` to whatever else is returned. */
  parts?: boolean;
  /** Which copy's metadata; objects live in one project here, so another project is NotFound. */
  project?: string;
}

export function parseDescribeOptions(v: unknown, what = 'describe'): DescribeOptions {
  if (v === undefined || v === true) return {};
  if (!isPlainObject(v)) throw invalidInput(`${what} must be a boolean or a mapping`);
  const out: DescribeOptions = {};
  if (v.fields !== undefined) {
    if (!isPlainObject(v.fields) || !Object.values(v.fields).every((x) => typeof x === 'boolean')) {
      throw invalidInput(`${what}.fields must be a mapping of field names to booleans`);
    }
    out.fields = v.fields as Record<string, boolean>;
  }
  for (const k of ['defaultFields', 'properties', 'details', 'parts'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'boolean') throw invalidInput(`${what}.${k} must be a boolean`);
    out[k] = v[k];
  }
  if (v.project !== undefined) {
    if (typeof v.project !== 'string') throw invalidInput(`${what}.project must be a string`);
    out.project = v.project;
  }
  return out;
}

function common(o: DataObject): Record<string, unknown> {
  return {
    id: o.id,
    class: o.class,
    project: o.project,
    folder: o.folder,
    name: o.name,
    state: o.state,
    hidden: o.hidden,
    links: [],
    types: o.types,
    tags: o.tags,
    created: o.created,
    modified: o.modified,
    createdBy: { user: o.createdBy },
    sponsored: false,
  };
}

export function fileDescribeFull(f: FileRecord, parts: PartRecord[]): Record<string, unknown> {
  const partMap: Record<string, { state: string; size: number; md5: string }> = {};
  for (const p of parts) partMap[String(p.index)] = { state: p.state, size: p.size, md5: p.md5 };
  const out: Record<string, unknown> = {
    ...common(f),
    media: f.media,
    // Open files report what has arrived so far; closed ones the size fixed at close.
    size: f.size ?? parts.reduce((n, p) => n + p.size, 0),
    archivalState: 'live',
    parts: partMap,
  };
  if (f.drive !== null) out.drive = f.drive;
  if (f.symlinkObject !== null) out.symlinkPath = { container: f.symlinkContainer, object: f.symlinkObject };
  if (f.drive !== null && f.md5 !== null) out.md5 = f.md5;
  return out;
}

/** Fields of a full describe that are returned only when asked for by name (or `parts: true`). */
const ON_REQUEST = ['parts', 'archivalState'] as const;

/** Picks the requested fields out of a full describe (id is always kept). */
export function selectFields(
  full: Record<string, unknown>,
  o: DataObject,
  opts: DescribeOptions,
): Record<string, unknown> {
  const defaults: Record<string, unknown> = { ...full };
  const extras: Record<string, unknown> = { properties: o.properties, details: o.details };
  for (const k of ON_REQUEST) {
    if (!(k in full)) continue;
    extras[k] = full[k];
    // An open file keeps its parts among the defaults: the classic Upload Agent resumes by reading
    // `parts` from a describe with no input (file.cpp) and works against the real platform, while
    // dxpy asks for them by name only for closed files. Closed files: on request only.
    if (k === 'parts' && full.state === 'open') continue;
    delete defaults[k];
  }
  let out: Record<string, unknown>;
  if (opts.fields) {
    out = opts.defaultFields ? { ...defaults } : { id: full.id };
    for (const [k, want] of Object.entries(opts.fields)) {
      if (!want) continue;
      if (k in defaults) out[k] = defaults[k];
      else if (k in extras) out[k] = extras[k];
    }
  } else {
    out = defaults;
  }
  if (opts.properties) out.properties = o.properties;
  if (opts.details) out.details = o.details;
  if (opts.parts && 'parts' in extras) out.parts = extras.parts;
  return out;
}

export type Loaded =
  | { kind: 'file'; obj: FileRecord }
  | { kind: 'record'; obj: DataObject }
  | { kind: 'applet' | 'workflow'; obj: ExecutableObject };

/** An applet's or workflow's describe: the common fields and its spec echoed back as given. */
function executableDescribeFull(e: ExecutableObject): Record<string, unknown> {
  const out: Record<string, unknown> = { ...common(e), ...e.spec };
  // A workflow's stages are how a caller reads what it runs; none given is none.
  if (e.class === 'workflow' && out.stages === undefined) out.stages = [];
  return out;
}

/**
 * Loads a data object by ID with `closing` settled first. A file stuck in `closing` without
 * its bytes (the server stopped mid-assembly) gets its assembly restarted here.
 */
export function loadObject(deps: RouteDeps, id: string): Loaded {
  const klass = idClass(id);
  if (klass === 'file') {
    deps.store.settleClosing(deps.now());
    const f = deps.store.getFile(id);
    if (!f) throw notFound(id);
    if (f.state === 'closing' && !f.assembled) ensureAssembling(deps, id);
    return { kind: 'file', obj: f };
  }
  if (klass === 'record') {
    const r = deps.store.getRecord(id);
    if (!r) throw notFound(id);
    return { kind: 'record', obj: r };
  }
  if (klass === 'applet' || klass === 'workflow') {
    const e = deps.store.getExecutable(klass, id);
    if (!e) throw notFound(id);
    return { kind: klass, obj: e };
  }
  throw notFound(id);
}

export function describeLoaded(deps: RouteDeps, l: Loaded, opts: DescribeOptions): Record<string, unknown> {
  if (opts.project !== undefined && opts.project !== l.obj.project) throw notFound(l.obj.id);
  const full =
    l.kind === 'file'
      ? fileDescribeFull(l.obj, deps.store.listParts(l.obj.id))
      : l.kind === 'record'
        ? common(l.obj)
        : executableDescribeFull(l.obj);
  return selectFields(full, l.obj, opts);
}

const wantsParts = (o: DescribeOptions) => o.parts === true || o.fields?.parts === true;

/**
 * describeLoaded, but an open file whose bytes go to a drive's container first has its `pending`
 * parts checked against the container (symlink-files.ts refreshArrivedParts), when `parts` is
 * asked for: a resuming client sees which parts really arrived.
 */
export async function describeLoadedFresh(
  deps: RouteDeps,
  l: Loaded,
  opts: DescribeOptions,
): Promise<Record<string, unknown>> {
  if (opts.project !== undefined && opts.project !== l.obj.project) throw notFound(l.obj.id);
  if (l.kind === 'file' && l.obj.state === 'open' && wantsParts(opts)) await refreshArrivedParts(deps, l.obj);
  return describeLoaded(deps, l, opts);
}

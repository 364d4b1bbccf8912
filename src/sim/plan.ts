/**
 * A run as a plan: a time-ordered list of writes (each an append to one file, which the first one
 * creates) and cycle ticks. The planners (illumina.ts, ont.ts) are pure, so the same plan drives the
 * writer (sequencer.ts) and `expectedRun`, which is how a test knows every byte a run will write.
 */
import { join } from 'node:path';
import { isProfile, type Profile, type SimulateOptions } from './types.js';

export interface WriteOp {
  kind: 'write';
  /** ms after the run starts. */
  at: number;
  path: string;
  /** The bytes to append; pure, called once by the writer and once by expectedRun. */
  data: () => Buffer;
  marker: boolean;
  /** Set by finish(): no later write to this path. */
  last: boolean;
}

export interface CycleOp {
  kind: 'cycle';
  at: number;
  cycle: number;
}

export type Op = WriteOp | CycleOp;

export interface Plan {
  profile: Profile;
  runName: string;
  runId: string;
  /** The run folder relative to root (ONT nested: `<experiment>/<sample>/<run>`). */
  relDir: string;
  /** Cycles this plan writes (fewer than asked for when the run stalls). */
  cycles: number;
  /** Cycles asked for. */
  planned: number;
  ops: Op[];
  markers: string[];
}

/** Options with every default filled in and checked. */
export interface Resolved {
  root: string;
  profile: Profile;
  cycles: number;
  lanes: number;
  tiles: number;
  cbclBytes: number;
  cycleMs: number;
  seed: number;
  runName: string | undefined;
  complete: boolean;
  /** Cycles written: all of them, or stallAfterCycles when the run stalls. */
  written: number;
  growMs: number;
  appends: number;
  flat: boolean;
  experiment: string;
  sample: string;
}

const DEFAULT_LANES: Record<Profile, number> = { novaseq: 2, nextseq2000: 1, miseq: 1, ont: 1 };
export const MIN_FILE_BYTES = 128;

function int(name: string, v: number, min: number, max = 1e6): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max} (got ${v})`);
  return v;
}

function fileBytes(v: number): number {
  if (!Number.isSafeInteger(v) || v < MIN_FILE_BYTES)
    throw new RangeError(`cbclBytes must be at least ${MIN_FILE_BYTES} bytes (got ${v})`);
  return v;
}

function ms(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a duration ≥ 0 ms (got ${v})`);
  return v;
}

/** A folder name: one path segment, no separators, not `.`/`..`. */
function segment(name: string, v: string): string {
  if (v === '' || v === '.' || v === '..' || /[/\\\0]/.test(v))
    throw new RangeError(`${name} must be a single folder name (got ${JSON.stringify(v)})`);
  return v;
}

export function resolveOptions(o: SimulateOptions): Resolved {
  if (!isProfile(o.profile))
    throw new RangeError(
      `profile must be novaseq, nextseq2000, miseq or ont (got ${JSON.stringify(o.profile)})`,
    );
  const cycles = int('cycles', o.cycles ?? 10, 1, 10_000);
  const cycleMs = ms('cycleMs', o.cycleMs ?? 200);
  const complete = o.complete ?? true;
  const stall = int('stallAfterCycles', o.stallAfterCycles ?? Math.max(1, Math.floor(cycles / 2)), 0, cycles);
  return {
    root: o.root,
    profile: o.profile,
    cycles,
    // Real flowcells: NovaSeq S4 has 4 lanes, NextSeq P3 2, MiSeq 1; 8 leaves room for odd tests.
    lanes: int('lanes', o.lanes ?? DEFAULT_LANES[o.profile], 1, 8),
    tiles: int('tiles', o.tiles ?? 2, 1, 99),
    // Below this a CBCL header (65 bytes) or POD5 frame (48) would not fit with some payload.
    cbclBytes: fileBytes(o.cbclBytes ?? 64 * 1024),
    cycleMs,
    seed: int('seed', o.seed ?? 1, 0, 2 ** 32 - 1),
    runName: o.runName === undefined ? undefined : segment('runName', o.runName),
    complete,
    written: complete ? cycles : stall,
    growMs: ms('growMs', o.growMs ?? cycleMs * 0.75),
    appends: int('appendsPerFile', o.appendsPerFile ?? 4, 1, 1000),
    flat: o.flat ?? true,
    experiment: segment('experiment', o.experiment ?? 'sim_experiment'),
    sample: segment('sample', o.sample ?? 'sim_sample'),
  };
}

/** Collects ops in the order they are planned; finish() orders them by time, keeping that order on ties. */
export class PlanBuilder {
  readonly #ops: Op[] = [];
  readonly markers: string[] = [];

  write(at: number, path: string, data: () => Buffer, marker = false): void {
    this.#ops.push({ kind: 'write', at, path, data, marker, last: false });
    if (marker) this.markers.push(path);
  }

  /** A file growing by `appends` writes spread evenly over [t0, t0 + growMs]. */
  grow(
    t0: number,
    growMs: number,
    appends: number,
    path: string,
    ranges: Array<[number, number]>,
    slice: (from: number, to: number) => Buffer,
  ): void {
    ranges.forEach(([from, to], k) => {
      const at = appends === 1 ? t0 : t0 + (growMs * k) / (appends - 1);
      this.write(at, path, () => slice(from, to));
    });
  }

  cycle(at: number, cycle: number): void {
    this.#ops.push({ kind: 'cycle', at, cycle });
  }

  /** The latest time of any op so far (markers go after it). */
  get end(): number {
    return this.#ops.reduce((m, op) => Math.max(m, op.at), 0);
  }

  finish(): Op[] {
    const ops = [...this.#ops].sort((a, b) => a.at - b.at); // stable: planned order on ties
    const seen = new Set<string>();
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      if (op.kind === 'write' && !seen.has(op.path)) {
        op.last = true;
        seen.add(op.path);
      }
    }
    return ops;
  }
}

export function runDir(r: Resolved, plan: Pick<Plan, 'relDir'>): string {
  return join(r.root, ...plan.relDir.split('/'));
}

/**
 * The sequencer simulator: writes a realistic run folder over time, for testing and demoing the
 * transfer daemon (src/daemon) that watches run folders and uploads files as they settle.
 *
 *   const run = await simulateRun({ root: '/watch', profile: 'novaseq', cycleMs: 50 }, signal, onEvent);
 *   const want = expectedRun({ root: '/watch', profile: 'novaseq', cycleMs: 50 }); // same files, sizes, hashes
 *
 * A run is planned first (plan.ts, illumina.ts, ont.ts: pure, from the options and seed), then the
 * plan's writes are replayed on their schedule. expectedRun replays the same plan in memory, so what
 * it reports is by construction what simulateRun writes. No console output: progress is `onEvent`.
 */
import { createHash, type Hash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { planIllumina } from './illumina.js';
import { planOnt } from './ont.js';
import { resolveOptions, runDir, type Plan, type Resolved } from './plan.js';
import type { RunFile, SimEvent, SimulatedRun, SimulateOptions } from './types.js';

export * from './types.js';

/** Thrown by simulateRun when its signal aborts; `run` is what had been written by then. */
export class SimulationAborted extends Error {
  override readonly name = 'AbortError';
  constructor(
    readonly run: SimulatedRun,
    cause: unknown,
  ) {
    super(`simulated run aborted after ${run.cycles} cycles, ${run.files.length} files written`, { cause });
  }
}

/** simulateRun refuses to write into an existing run folder. */
export class RunFolderExists extends Error {
  constructor(readonly dir: string) {
    super(`run folder already exists: ${dir}`);
  }
}

function planOf(r: Resolved): Plan {
  return r.profile === 'ont' ? planOnt(r) : planIllumina(r);
}

/** Running sizes and hashes per file, in creation order: shared by the writer and expectedRun. */
class Tally {
  readonly #files = new Map<string, { size: number; writes: number; md5: Hash; sha256: Hash }>();
  bytes = 0;
  cycles = 0;
  readonly markers: string[] = [];

  add(path: string, data: Buffer): { created: boolean; size: number } {
    let f = this.#files.get(path);
    const created = f === undefined;
    if (!f) {
      f = { size: 0, writes: 0, md5: createHash('md5'), sha256: createHash('sha256') };
      this.#files.set(path, f);
    }
    f.size += data.length;
    f.writes++;
    f.md5.update(data);
    f.sha256.update(data);
    this.bytes += data.length;
    return { created, size: f.size };
  }

  get fileCount(): number {
    return this.#files.size;
  }

  result(plan: Plan, dir: string): SimulatedRun {
    // copy(): a digest of the bytes so far, leaving the hash usable (an aborted run is reported mid-way).
    const entries: RunFile[] = [...this.#files].map(([path, f]) => ({
      path,
      size: f.size,
      sha256: f.sha256.copy().digest('hex'),
      md5: f.md5.copy().digest('hex'),
      writes: f.writes,
    }));
    return {
      dir,
      runName: plan.runName,
      runId: plan.runId,
      profile: plan.profile,
      files: entries.map((e) => e.path),
      bytes: this.bytes,
      completeMarkers: [...this.markers],
      entries,
      cycles: this.cycles,
    };
  }
}

/**
 * What `simulateRun(options)` will have written when it resolves: every file with its final size,
 * SHA-256 and MD5, the markers, the run folder. Pure (no file system, no clock).
 */
export function expectedRun(options: SimulateOptions): SimulatedRun {
  const r = resolveOptions(options);
  const plan = planOf(r);
  const tally = new Tally();
  for (const op of plan.ops) {
    if (op.kind === 'cycle') tally.cycles = op.cycle;
    else {
      tally.add(op.path, op.data());
      if (op.marker) tally.markers.push(op.path);
    }
  }
  return tally.result(plan, runDir(r, plan));
}

/** The final bytes of one file of the run (path relative to the run folder), for byte-exact checks. */
export function expectedBytes(options: SimulateOptions, path: string): Buffer {
  const plan = planOf(resolveOptions(options));
  const parts = plan.ops.flatMap((op) => (op.kind === 'write' && op.path === path ? [op.data()] : []));
  if (parts.length === 0) throw new RangeError(`the run writes no file ${path}`);
  return Buffer.concat(parts);
}

/**
 * Writes the run folder into `options.root` on the plan's schedule and resolves when the last write
 * (the last marker, or the stall point) is done. Rejects with SimulationAborted when `signal` aborts,
 * promptly (between writes, or in the middle of a wait), leaving what was written in place; with
 * RunFolderExists if the run folder already exists (a second run must not mix its files into another's).
 */
export async function simulateRun(
  options: SimulateOptions,
  signal?: AbortSignal,
  onEvent?: (event: SimEvent) => void,
): Promise<SimulatedRun> {
  const r = resolveOptions(options);
  const plan = planOf(r);
  const dir = runDir(r, plan);
  const tally = new Tally();
  signal?.throwIfAborted();
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir); // not recursive: fails with EEXIST on an existing run folder
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RunFolderExists(dir);
    throw err;
  }
  const start = performance.now();
  try {
    for (const op of plan.ops) {
      const wait = start + op.at - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal });
      signal?.throwIfAborted();
      if (op.kind === 'cycle') {
        tally.cycles = op.cycle;
        onEvent?.({
          type: 'cycle',
          cycle: op.cycle,
          of: plan.planned,
          files: tally.fileCount,
          bytes: tally.bytes,
        });
        continue;
      }
      const abs = join(dir, ...op.path.split('/'));
      const data = op.data();
      const { created, size } = tally.add(op.path, data);
      if (created) await mkdir(dirname(abs), { recursive: true });
      // Each write opens, appends and closes, so every append is a close-after-write to a watcher:
      // "closed" never means "done", and only quiet time (or a marker) tells a file has settled.
      // 'ax' on the first write: a file already there would mean another writer in our folder.
      await appendFile(abs, data, { flag: created ? 'ax' : 'a' });
      onEvent?.({ type: 'file', path: op.path, bytes: size, appended: data.length, created, final: op.last });
      if (op.marker) {
        tally.markers.push(op.path);
        onEvent?.({ type: 'complete', marker: op.path });
      }
    }
  } catch (err) {
    if (signal?.aborted) throw new SimulationAborted(tally.result(plan, dir), signal.reason);
    throw err;
  }
  return tally.result(plan, dir);
}

/**
 * `ua-platform simulate-run DIR --profile …`: the simulator on the command line, for demos and for
 * watching a daemon by hand. Prints one plain line per cycle (ONT: per batch) and a final line naming
 * the run folder and its markers. Flag parsing stays in platform/cli.ts; this turns flags into options,
 * runs, and maps the library's option errors to the flags' names so the one error line is actionable.
 */
import { RunFolderExists, simulateRun, SimulationAborted, type SimulateOptions } from './sequencer.js';
import { isProfile, PROFILES } from './types.js';

export interface SimulateFlags {
  dir: string;
  profile: string;
  cycles?: number;
  lanes?: number;
  tiles?: number;
  /** Already parsed: bytes. */
  cbclBytes?: number;
  /** Already parsed: ms per cycle. */
  cycleMs?: number;
  growMs?: number;
  seed?: number;
  name?: string;
  stall?: boolean;
  stallAfter?: number;
  nested?: boolean;
}

/** A usage problem, reported as one line and exit 1 by the caller. */
export class SimulateUsageError extends Error {}

const FLAG_OF: Record<string, string> = {
  cycles: '--cycles',
  lanes: '--lanes',
  tiles: '--tiles',
  cbclBytes: '--cbcl-size',
  cycleMs: '--speed',
  growMs: '--grow',
  seed: '--seed',
  runName: '--name',
  stallAfterCycles: '--stall-after',
};

/** `3.1 MiB`; under 1 MiB in KiB, so that a small test run does not print `0.0 MiB` throughout. */
function human(bytes: number): string {
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Runs the simulation; resolves with the exit code (0, or 130 when interrupted by SIGINT/SIGTERM). */
export async function simulateRunCommand(
  f: SimulateFlags,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  if (!isProfile(f.profile))
    throw new SimulateUsageError(
      `--profile must be ${PROFILES.join(', ')} (got ${JSON.stringify(f.profile)})`,
    );
  if (f.stallAfter !== undefined && !f.stall) throw new SimulateUsageError('--stall-after needs --stall');
  const options: SimulateOptions = {
    root: f.dir,
    profile: f.profile,
    cycles: f.cycles,
    lanes: f.lanes,
    tiles: f.tiles,
    cbclBytes: f.cbclBytes,
    cycleMs: f.cycleMs,
    growMs: f.growMs,
    seed: f.seed,
    runName: f.name,
    complete: !f.stall,
    stallAfterCycles: f.stallAfter,
    flat: !f.nested,
  };
  const unit = f.profile === 'ont' ? 'batch' : 'cycle';
  const ac = new AbortController();
  const stop = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const run = await simulateRun(options, ac.signal, (e) => {
      if (e.type === 'cycle') out(`${unit} ${e.cycle}/${e.of}  ${e.files} files  ${human(e.bytes)}`);
    });
    const total = `${run.files.length} files, ${human(run.bytes)}`;
    if (run.completeMarkers.length > 0)
      out(`run ${run.dir} complete (${total}): ${run.completeMarkers.join(', ')}`);
    else out(`run ${run.dir} stalled after ${unit} ${run.cycles} (${total}): no completion markers`);
    return 0;
  } catch (e) {
    if (e instanceof SimulationAborted) {
      err(
        `ua-platform: simulate-run interrupted after ${unit} ${e.run.cycles}; ${e.run.dir} left as written`,
      );
      return 130;
    }
    if (e instanceof RunFolderExists)
      throw new SimulateUsageError(`${e.message}: choose another --seed or --name`, { cause: e });
    if (e instanceof RangeError) {
      // The library names its options (cbclBytes); the user typed flags (--cbcl-size).
      const m = /^(\w+) (must .*)$/.exec(e.message);
      if (m && FLAG_OF[m[1]]) throw new SimulateUsageError(`${FLAG_OF[m[1]]} ${m[2]}`, { cause: e });
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * Public types of the sequencer simulator (see sequencer.ts). Kept apart so that the planners
 * (illumina.ts, ont.ts) and the writer share them without importing each other.
 */

export const PROFILES = ['novaseq', 'nextseq2000', 'miseq', 'ont'] as const;
export type Profile = (typeof PROFILES)[number];

export function isProfile(s: string): s is Profile {
  return (PROFILES as readonly string[]).includes(s);
}

export interface SimulateOptions {
  /** The watch folder: the run folder is created inside it (for ONT with `flat: false`, 3 levels down). */
  root: string;
  profile: Profile;
  /** Illumina: sequencing cycles (the sum of the reads in RunInfo.xml). ONT: batches of reads. Default 10. */
  cycles?: number;
  /** Illumina lanes. Default: novaseq 2, nextseq2000 1, miseq 1. Ignored for ONT. */
  lanes?: number;
  /** CBCL files per lane per cycle (tiles over the two surfaces). Default 2. Ignored for ONT. */
  tiles?: number;
  /** Final size of each CBCL file; for ONT, of each POD5 file. Default 64 KiB, at least 128. */
  cbclBytes?: number;
  /** Wall-clock time of one cycle (ONT: one batch) in ms. Default 200; 0 = as fast as possible. */
  cycleMs?: number;
  /** Every name, number, date and byte derives from it: same options + seed → same files. Default 1. */
  seed?: number;
  /** The run folder's name. Default: Illumina `YYMMDD_<instrument>_<run number>_<flowcell>`, ONT MinKNOW's. */
  runName?: string;
  /** Write the completion markers at the end (default true). false: stop after `stallAfterCycles`, no markers. */
  complete?: boolean;
  /** With `complete: false`: how many cycles are written before the run stalls. Default cycles / 2 (≥ 1). */
  stallAfterCycles?: number;
  /** How long each growing data file (CBCL, POD5, FASTQ) takes from its first append to its last. Default 3/4 of a cycle. */
  growMs?: number;
  /** Appends per growing data file. Default 4. */
  appendsPerFile?: number;
  /** ONT: write the run folder directly under root (default true) rather than `<experiment>/<sample>/<run>`. */
  flat?: boolean;
  /** ONT protocol group (the experiment folder). Default `sim_experiment`. */
  experiment?: string;
  /** ONT sample ID (the sample folder). Default `sim_sample`. */
  sample?: string;
}

/** One file of a run, as it is (SimulatedRun) or will be (expectedRun) when the run ends. */
export interface RunFile {
  /** Relative to the run folder, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
  md5: string;
  /** How many writes made it (1 for a file written at once; CBCL, POD5, InterOp … more). */
  writes: number;
}

export interface SimulatedRun {
  /** The run folder (absolute if root was). */
  dir: string;
  runName: string;
  /** Illumina: the RunInfo.xml Run Id (the folder name). ONT: the protocol_run_id. */
  runId: string;
  profile: Profile;
  /** Relative paths of every file written, in the order each was created. */
  files: string[];
  /** Total bytes written. */
  bytes: number;
  /** The completion markers written, in order (relative paths); empty for a stalled run. */
  completeMarkers: string[];
  /** Every file with its final size and hashes, in `files` order. */
  entries: RunFile[];
  /** Cycles (ONT: batches) written. */
  cycles: number;
}

export interface CycleEvent {
  type: 'cycle';
  /** The cycle (ONT: batch) just imaged, 1-based; its growing files may still be being appended to. */
  cycle: number;
  /** The run's cycles as asked for (a stalled run stops before reaching it). */
  of: number;
  /** Files created so far, and their bytes. */
  files: number;
  bytes: number;
}

export interface FileEvent {
  type: 'file';
  path: string;
  /** The file's size after this write. */
  bytes: number;
  /** Bytes this write added. */
  appended: number;
  /** This write created the file. */
  created: boolean;
  /** No further write to this file follows (it has settled). */
  final: boolean;
}

export interface CompleteEvent {
  type: 'complete';
  /** The marker just written (relative path). */
  marker: string;
}

export type SimEvent = CycleEvent | FileEvent | CompleteEvent;

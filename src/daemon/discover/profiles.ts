/**
 * What makes a folder a run, and when a run is complete, per instrument family.
 *
 * - Illumina: a run holds `RunInfo.xml`. It is complete on `CopyComplete.txt` for the instruments
 *   that write it (NovaSeq 6000/X, NextSeq 1000/2000: known from RunParameters.xml); others on
 *   `RTAComplete.txt` or `.xml`. NovaSeq runs "finished prematurely" on RTAComplete in
 *   dx-streaming-upload before it learned this (its commit a14c438).
 * - ONT (MinKNOW): a run holds `final_summary_*.txt`, `sequencing_summary_*.txt`, or `pod5*`,
 *   `fast5*`, `fastq_*` folders; complete on `final_summary_*.txt`, which MinKNOW writes last.
 * - generic: any folder; complete on `--complete-marker NAME`, or when nothing changed in it for
 *   `--complete-after`.
 * The Run Id is read from RunInfo.xml's `<Run Id=…>` (dx-streaming-upload issue #45 read the last
 * child element's Id instead); remote folders are named after the local folder, as the scan matches.
 */
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export type ProfileName = 'auto' | 'illumina' | 'ont' | 'generic';
export type RunProfile = Exclude<ProfileName, 'auto'>;

export interface CompletionRule {
  /** `--complete-marker` (generic profile). */
  completeMarker?: string;
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

const ONT_DIR = /^(pod5|fast5|fastq|bam)(_pass|_fail|_skip)?$/;

/** The profile `dir` is a run of under `profile`, or undefined when it is not (yet) a run. */
export function runProfileOf(dir: string, profile: ProfileName): RunProfile | undefined {
  if (profile === 'generic') return 'generic';
  const list = entries(dir);
  const names = new Set(list.map((e) => e.name));
  if ((profile === 'auto' || profile === 'illumina') && names.has('RunInfo.xml')) return 'illumina';
  if (profile === 'auto' || profile === 'ont') {
    const ont = list.some(
      (e) =>
        (e.isFile() && /^(final|sequencing)_summary_.*\.txt$/.test(e.name)) ||
        (e.isDirectory() && ONT_DIR.test(e.name)),
    );
    if (ont) return 'ont';
  }
  return undefined;
}

/** The Run Id in RunInfo.xml, else the folder name. */
export function runIdOf(dir: string, profile: RunProfile, folderName: string): string {
  if (profile !== 'illumina') return folderName;
  try {
    const xml = readFileSync(join(dir, 'RunInfo.xml'), 'utf8');
    const m = /<Run\s[^>]*\bId\s*=\s*"([^"]+)"/.exec(xml);
    return m?.[1] ?? folderName;
  } catch {
    return folderName;
  }
}

/** Instruments that write CopyComplete.txt once the run folder is fully copied to its output. */
const COPY_COMPLETE =
  /<(ApplicationName|Application|InstrumentType)>[^<]*(NovaSeq|NextSeq ?(1000|2000|1000\/2000))/i;

function writesCopyComplete(dir: string, names: Set<string>): boolean {
  const file = [...names].find((n) => n.toLowerCase() === 'runparameters.xml');
  if (!file) return false;
  try {
    return COPY_COMPLETE.test(readFileSync(join(dir, file), 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The completion marker present in `dir` (a path inside the run), or undefined. Generic runs
 * without a marker name complete by quiet time instead (see daemon's finishing step).
 */
export function completionMarker(dir: string, profile: RunProfile, rule: CompletionRule): string | undefined {
  const names = new Set(
    entries(dir)
      .filter((e) => e.isFile())
      .map((e) => e.name),
  );
  switch (profile) {
    case 'illumina':
      if (writesCopyComplete(dir, names))
        return names.has('CopyComplete.txt') ? 'CopyComplete.txt' : undefined;
      return ['RTAComplete.txt', 'RTAComplete.xml', 'CopyComplete.txt'].find((n) => names.has(n));
    case 'ont':
      return [...names].find((n) => /^final_summary_.*\.txt$/.test(n));
    case 'generic':
      return rule.completeMarker && names.has(rule.completeMarker) ? rule.completeMarker : undefined;
  }
}

const MARKER_FILE =
  /^(RTAComplete\.(txt|xml)|CopyComplete\.txt|SequenceComplete\.txt|final_summary_.*\.txt)$/;

/**
 * Whether a path inside a run is a completion marker: uploaded after every other file of its run,
 * as dx-streaming-upload does since its PR #48, so nothing downstream that watches the platform
 * folder takes a marker for "the data is there".
 */
export function isMarkerFile(path: string, rule: CompletionRule): boolean {
  if (path.includes('/')) return false;
  return MARKER_FILE.test(path) || path === rule.completeMarker;
}

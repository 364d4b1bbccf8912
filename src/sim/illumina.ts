/**
 * The plan of an Illumina run folder (NovaSeq 6000, NextSeq 2000, MiSeq), in the order RTA writes it:
 * RunInfo.xml, RunParameters.xml, SampleSheet.csv (not NovaSeq), then each cycle's CBCL files —
 * appended to in place over the cycle, as the instrument does, never renamed into place — and one
 * InterOp record batch per cycle appended to files that grow for the whole run; RTAComplete.txt
 * last, and CopyComplete.txt (NovaSeq, NextSeq) a cycle later.
 */
import { framedFile, rngFor, splitEven } from './random.js';
import {
  illuminaRun,
  rtaCompleteText,
  runInfoXml,
  runParametersXml,
  sampleSheetCsv,
  tileNumber,
  type IlluminaProfile,
} from './illumina-text.js';
import { PlanBuilder, type Plan, type Resolved } from './plan.js';

const lane3 = (l: number) => `L${String(l).padStart(3, '0')}`;

export function cbclPath(cycle: number, lane: number, file: number): string {
  return `Data/Intensities/BaseCalls/${lane3(lane)}/C${cycle}.1/${lane3(lane)}_${file}.cbcl`;
}

export const EXTRACTION_METRICS = 'InterOp/ExtractionMetricsOut.bin';
export const Q_METRICS = 'InterOp/QMetricsOut.bin';
const CBCL_HEADER_BYTES = 65;
const U32_MAX = 2 ** 32 - 1;

/**
 * A CBCL header (version 1) for one tile: 2 bits per base call and per Q-score, four Q bins, one tile
 * record whose compressed size is what follows the header. The payload after it is pseudo-random, not
 * real gzip blocks: a transfer daemon never decodes it, and this keeps each file's size exact.
 */
function cbclHeader(tile: number, fileBytes: number): Buffer {
  const h = Buffer.alloc(CBCL_HEADER_BYTES);
  let o = h.writeUInt16LE(1, 0);
  o = h.writeUInt32LE(CBCL_HEADER_BYTES, o);
  o = h.writeUInt8(2, o);
  o = h.writeUInt8(2, o);
  o = h.writeUInt32LE(4, o);
  for (const [bin, q] of [
    [0, 2],
    [1, 12],
    [2, 23],
    [3, 37],
  ]) {
    o = h.writeUInt32LE(bin, o);
    o = h.writeUInt32LE(q, o);
  }
  o = h.writeUInt32LE(1, o);
  const compressed = Math.max(0, fileBytes - CBCL_HEADER_BYTES);
  const clusters = Math.min(U32_MAX, compressed * 6); // ~3x gzip of 4 bits per cluster
  o = h.writeUInt32LE(tile, o);
  o = h.writeUInt32LE(clusters, o);
  o = h.writeUInt32LE(Math.ceil(clusters / 2), o);
  o = h.writeUInt32LE(Math.min(U32_MAX, compressed), o);
  h.writeUInt8(1, o); // non-PF clusters excluded, as NovaSeq does
  return h;
}

/** .NET DateTime ticks (100 ns since 0001-01-01), the InterOp timestamp format. */
function ticks(ms: number): bigint {
  return (BigInt(Math.round(ms)) + 62_135_596_800_000n) * 10_000n;
}

/**
 * One cycle of ExtractionMetricsOut.bin, version 2 (38-byte records: lane, tile, cycle, FWHM × 4
 * channels, intensity × 4, datetime); the first cycle starts with the version and record size bytes.
 */
function extractionBatch(seed: number, cycle: number, lanes: number, tiles: number, whenMs: number): Buffer {
  const rng = rngFor(seed, `interop:extraction:${cycle}`);
  const head = cycle === 1 ? Buffer.from([2, 38]) : Buffer.alloc(0);
  const recs = Buffer.alloc(38 * lanes * tiles);
  let o = 0;
  for (let lane = 1; lane <= lanes; lane++) {
    for (let t = 0; t < tiles; t++) {
      o = recs.writeUInt16LE(lane, o);
      o = recs.writeUInt16LE(tileNumber(t), o);
      o = recs.writeUInt16LE(cycle, o);
      for (let ch = 0; ch < 4; ch++) o = recs.writeFloatLE(2.4 + (rng() % 800) / 1000, o);
      for (let ch = 0; ch < 4; ch++) o = recs.writeUInt16LE(1500 + (rng() % 3000), o);
      o = recs.writeBigUInt64LE(ticks(whenMs), o);
    }
  }
  return Buffer.concat([head, recs]);
}

/** One cycle of QMetricsOut.bin, version 4 (206-byte records: lane, tile, cycle, 50 Q-score counts). */
function qBatch(seed: number, cycle: number, lanes: number, tiles: number): Buffer {
  const rng = rngFor(seed, `interop:q:${cycle}`);
  const head = cycle === 1 ? Buffer.from([4, 206]) : Buffer.alloc(0);
  const recs = Buffer.alloc(206 * lanes * tiles);
  let o = 0;
  for (let lane = 1; lane <= lanes; lane++) {
    for (let t = 0; t < tiles; t++) {
      o = recs.writeUInt16LE(lane, o);
      o = recs.writeUInt16LE(tileNumber(t), o);
      o = recs.writeUInt16LE(cycle, o);
      // Binned Q-scores (2, 12, 23, 37), most clusters at Q37, as on RTA3 instruments.
      const counts = new Map([
        [2, rng() % 5000],
        [12, rng() % 20_000],
        [23, rng() % 60_000],
        [37, 400_000 + (rng() % 200_000)],
      ]);
      for (let q = 1; q <= 50; q++) o = recs.writeUInt32LE(counts.get(q) ?? 0, o);
    }
  }
  return Buffer.concat([head, recs]);
}

export function planIllumina(r: Resolved): Plan {
  const profile = r.profile as IlluminaProfile;
  const run = illuminaRun(profile, r.seed, r.cycles, r.lanes, r.tiles, r.runName);
  const b = new PlanBuilder();
  const text = (s: string) => () => Buffer.from(s, 'utf8');

  b.write(0, 'RunInfo.xml', text(runInfoXml(run)));
  b.write(0, 'RunParameters.xml', text(runParametersXml(run)));
  // NovaSeq 6000 runs are planned in BaseSpace or demultiplexed later: no sheet in the folder.
  if (profile !== 'novaseq') b.write(0, 'SampleSheet.csv', text(sampleSheetCsv(run, r.seed)));

  const ranges = splitEven(r.cbclBytes, r.appends);
  for (let c = 1; c <= r.written; c++) {
    const t0 = (c - 1) * r.cycleMs;
    for (let lane = 1; lane <= r.lanes; lane++) {
      for (let t = 0; t < r.tiles; t++) {
        const path = cbclPath(c, lane, t + 1);
        const slice = framedFile(r.seed, path, r.cbclBytes, cbclHeader(tileNumber(t), r.cbclBytes));
        b.grow(t0, r.growMs, r.appends, path, ranges, slice);
      }
    }
    // RTA appends the cycle's metrics once the cycle is extracted, near its end.
    const at = t0 + r.cycleMs * 0.9;
    const simMs = run.started.getTime() + c * 300_000;
    b.write(at, EXTRACTION_METRICS, () => extractionBatch(r.seed, c, r.lanes, r.tiles, simMs));
    b.write(at, Q_METRICS, () => qBatch(r.seed, c, r.lanes, r.tiles));
    b.cycle(c * r.cycleMs, c);
  }

  if (r.complete) {
    // After every other write, however long the files grew: a marker must mean "all is there".
    const end = Math.max(b.end, r.written * r.cycleMs);
    b.write(end, 'RTAComplete.txt', text(rtaCompleteText(run)), true);
    // CopyComplete.txt is empty on real instruments; MiSeq never writes one.
    if (profile !== 'miseq') b.write(end + r.cycleMs, 'CopyComplete.txt', () => Buffer.alloc(0), true);
  }
  return {
    profile,
    runName: run.runName,
    runId: run.runName,
    relDir: run.runName,
    cycles: r.written,
    planned: r.cycles,
    ops: b.finish(),
    markers: b.markers,
  };
}

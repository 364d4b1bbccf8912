/**
 * The plan of an Oxford Nanopore (MinKNOW) run folder,
 * `<experiment>/<sample>/<YYYYMMDD_HHMM_<position>_<flowcell>_<hash>>/` (or just the last level
 * under root when flat). Per batch (the ONT meaning of `cycles`): one POD5 file and one FASTQ.gz
 * that grow over the batch, and that batch's rows appended to sequencing_summary_*.txt, which grows
 * for the whole run. At the end the report_*.json/.html, then final_summary_*.txt, the marker, last.
 */
import { constants, gzipSync } from 'node:zlib';
import { alnum, between, framedFile, hex, rngFor, splitEven, startTime, uuid } from './random.js';
import { PlanBuilder, type Plan, type Resolved } from './plan.js';

interface OntRun {
  runName: string;
  instrument: string;
  position: string;
  flowcell: string;
  protocolRunId: string;
  acquisitionRunId: string;
  hash: string;
  started: Date;
}

interface ReadMeta {
  id: string;
  channel: number;
  mux: number;
  /** Seconds after the acquisition started. */
  start: number;
  length: number;
  meanQ: number;
}

/** Simulated instrument time per batch: 10 minutes. */
const BATCH_SECONDS = 600;
const MODEL = 'dna_r10.4.1_e8.2_400bps_hac@v4.3.0';
/** The POD5 file signature, which a POD5 file starts and ends with. */
const POD5_SIGNATURE = Buffer.from([0x8b, 0x50, 0x4f, 0x44, 0x0d, 0x0a, 0x1a, 0x0a]);

const pad2 = (n: number) => String(n).padStart(2, '0');

function ontRun(seed: number, runName?: string): OntRun {
  const rng = rngFor(seed, 'ont-identity');
  const started = startTime(seed);
  const position = `${between(rng, 1, 3)}${'ABCDEFGH'[rng() % 8]}`; // PromethION 24 positions 1A–3H
  const flowcell = `PA${alnum(rng, 1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}${alnum(rng, 5, '0123456789')}`;
  const protocolRunId = uuid(rng);
  const hash = protocolRunId.slice(0, 8);
  const d = started;
  const stamp = `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}_${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}`;
  return {
    runName: runName ?? `${stamp}_${position}_${flowcell}_${hash}`,
    instrument: `PC24B${between(rng, 100, 999)}`,
    position,
    flowcell,
    protocolRunId,
    acquisitionRunId: hex(rng, 40),
    hash,
    started,
  };
}

/** MinKNOW's timestamp format: microseconds and an explicit UTC offset. */
function minknowTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** The reads of one FASTQ member, sized so its text is about `target` bytes. */
function memberReads(seed: number, batch: number, member: number, target: number): ReadMeta[] {
  const rng = rngFor(seed, `ont-reads:${batch}:${member}`);
  const maxLen = Math.max(200, Math.min(20_000, Math.floor(target / 3)));
  const reads: ReadMeta[] = [];
  for (let bytes = 0; bytes < target;) {
    const length = between(rng, 150, maxLen);
    reads.push({
      id: uuid(rng),
      channel: between(rng, 1, 3000),
      mux: between(rng, 1, 4),
      start: (batch - 1) * BATCH_SECONDS + (rng() % (BATCH_SECONDS * 1000)) / 1000,
      length,
      meanQ: between(rng, 10, 25),
    });
    bytes += 2 * length + 300;
  }
  return reads;
}

const BASES = Buffer.from('ACGT');

/** One FASTQ record; bases and qualities are filled as bytes (string appends were 10x slower at MiB sizes). */
function fastqRecord(seed: number, run: OntRun, r: Resolved, read: ReadMeta, n: number): Buffer {
  const rng = rngFor(seed, `ont-seq:${read.id}`);
  const when = minknowTime(new Date(run.started.getTime() + read.start * 1000));
  const header = Buffer.from(
    `@${read.id} runid=${run.acquisitionRunId} read=${n} ch=${read.channel} start_time=${when} ` +
      `flow_cell_id=${run.flowcell} protocol_group_id=${r.experiment} sample_id=${r.sample} ` +
      `parent_read_id=${read.id} basecall_model_version_id=${MODEL}\n`,
  );
  const L = read.length;
  const body = Buffer.alloc(L + 3 + L + 1);
  const q0 = 33 + read.meanQ - 8;
  for (let i = 0; i < L; i++) {
    const x = rng();
    body[i] = BASES[x & 3];
    body[L + 3 + i] = Math.max(36, q0 + ((x >>> 2) % 17)); // Phred ≥ 3, around the read's mean
  }
  body.write('\n+\n', L, 'latin1');
  body[2 * L + 3] = 0x0a;
  return Buffer.concat([header, body]);
}

/**
 * One gzip member per append: concatenated members are one valid gzip file (gunzip, zcat and
 * Node read them all), so the file is valid after every write. Huffman-only coding skips zlib's match
 * search, whose hashing differs between zlib builds, so the bytes do not depend on the machine.
 */
function fastqMember(
  seed: number,
  run: OntRun,
  r: Resolved,
  batch: number,
  member: number,
  target: number,
): Buffer {
  const reads = memberReads(seed, batch, member, target);
  const text = Buffer.concat(
    reads.map((read, i) => fastqRecord(seed, run, r, read, batch * 100_000 + member * 1000 + i)),
  );
  return gzipSync(text, { level: 6, strategy: constants.Z_HUFFMAN_ONLY });
}

const SUMMARY_COLUMNS = [
  'filename_fastq',
  'filename_pod5',
  'parent_read_id',
  'read_id',
  'run_id',
  'channel',
  'mux',
  'start_time',
  'duration',
  'passes_filtering',
  'sequence_length_template',
  'mean_qscore_template',
  'end_reason',
  'experiment_id',
  'sample_id',
];

export function planOnt(r: Resolved): Plan {
  const run = ontRun(r.seed, r.runName);
  const b = new PlanBuilder();
  const base = `${run.flowcell}_pass_${run.hash}`;
  const summary = `sequencing_summary_${run.flowcell}_${run.hash}.txt`;
  // Per member, about half a POD5's size of FASTQ text (the signal in POD5 is the bigger part).
  const target = Math.max(1, Math.floor(r.cbclBytes / 2 / r.appends));
  const ranges = splitEven(r.cbclBytes, r.appends);
  let totalReads = 0;
  let totalBases = 0;

  // The summary's header opens the run folder before the first data file.
  b.write(0, summary, () => Buffer.from(`${SUMMARY_COLUMNS.join('\t')}\n`));
  for (let batch = 1; batch <= r.written; batch++) {
    const t0 = (batch - 1) * r.cycleMs;
    const n = batch - 1;
    const pod5 = `pod5_pass/${base}_${n}.pod5`;
    const fastq = `fastq_pass/${base}_${n}.fastq.gz`;
    const marker = Buffer.from(hex(rngFor(r.seed, `pod5-section:${n}`), 32), 'hex');
    const slice = framedFile(
      r.seed,
      pod5,
      r.cbclBytes,
      Buffer.concat([POD5_SIGNATURE, marker]),
      Buffer.concat([marker, POD5_SIGNATURE]),
    );
    b.grow(t0, r.growMs, r.appends, pod5, ranges, slice);
    const members = Array.from({ length: r.appends }, (_, k) => k);
    b.grow(
      t0,
      r.growMs,
      r.appends,
      fastq,
      members.map((k) => [k, k + 1]),
      (k) => fastqMember(r.seed, run, r, batch, k, target),
    );
    const reads = members.flatMap((k) => memberReads(r.seed, batch, k, target));
    totalReads += reads.length;
    totalBases += reads.reduce((s, x) => s + x.length, 0);
    const rows = reads.map((x) =>
      [
        `${base}_${n}.fastq.gz`,
        `${base}_${n}.pod5`,
        x.id,
        x.id,
        run.acquisitionRunId,
        x.channel,
        x.mux,
        x.start.toFixed(3),
        (x.length / 400).toFixed(3), // 400 bases per second through the pore
        'TRUE',
        x.length,
        x.meanQ.toFixed(2),
        'signal_positive',
        r.experiment,
        r.sample,
      ].join('\t'),
    );
    b.write(t0 + r.cycleMs * 0.9, summary, () => Buffer.from(`${rows.join('\n')}\n`));
    b.cycle(batch * r.cycleMs, batch);
  }

  if (r.complete) {
    const end = Math.max(b.end, r.written * r.cycleMs);
    const stopped = new Date(run.started.getTime() + r.written * BATCH_SECONDS * 1000);
    const processed = new Date(stopped.getTime() + 90_000);
    const d = run.started;
    const stamp = `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}_${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}`;
    const report = `report_${run.flowcell}_${stamp}_${run.hash}`;
    const info = {
      protocol_run_id: run.protocolRunId,
      acquisition_run_id: run.acquisitionRunId,
      instrument: run.instrument,
      position: run.position,
      flow_cell_id: run.flowcell,
      protocol_group_id: r.experiment,
      sample_id: r.sample,
      start_time: minknowTime(run.started),
      end_time: minknowTime(processed),
      read_count: totalReads,
      total_bases: totalBases,
      pod5_files: r.written,
      fastq_files: r.written,
      basecall_model: MODEL,
    };
    b.write(end, `${report}.json`, () => Buffer.from(`${JSON.stringify(info, null, 2)}\n`));
    const rows = Object.entries(info).map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`);
    const html = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>MinKNOW run report ${run.flowcell}</title></head>\n<body><h1>Run report</h1><table>\n${rows.join('\n')}\n</table></body></html>\n`;
    b.write(end, `${report}.html`, () => Buffer.from(html));
    const final = [
      `instrument=${run.instrument}`,
      `position=${run.position}`,
      `flow_cell_id=${run.flowcell}`,
      `sample_id=${r.sample}`,
      `protocol_group_id=${r.experiment}`,
      `protocol=sequencing/sequencing_PRO114_DNA_e8_2_400K:FLO-PRO114M:SQK-LSK114:400`,
      `protocol_run_id=${run.protocolRunId}`,
      `acquisition_run_id=${run.acquisitionRunId}`,
      `started=${minknowTime(run.started)}`,
      `acquisition_stopped=${minknowTime(stopped)}`,
      `processing_stopped=${minknowTime(processed)}`,
      `basecalling_enabled=1`,
      `sequencing_summary_file=${summary}`,
      `fast5_files_in_final_dest=0`,
      `fast5_files_in_fallback=0`,
      `pod5_files_in_final_dest=${r.written}`,
      `pod5_files_in_fallback=0`,
      `fastq_files_in_final_dest=${r.written}`,
      `fastq_files_in_fallback=0`,
    ];
    // Last, a moment after the reports: MinKNOW writes it once everything else is flushed.
    b.write(
      end + r.cycleMs,
      `final_summary_${run.flowcell}_${run.hash}.txt`,
      () => Buffer.from(`${final.join('\n')}\n`),
      true,
    );
  }
  return {
    profile: 'ont',
    runName: run.runName,
    runId: run.protocolRunId,
    relDir: r.flat ? run.runName : `${r.experiment}/${r.sample}/${run.runName}`,
    cycles: r.written,
    planned: r.cycles,
    ops: b.finish(),
    markers: b.markers,
  };
}

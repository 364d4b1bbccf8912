import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { readsOf } from '../../../src/sim/illumina-text.js';
import {
  expectedBytes,
  expectedRun,
  RunFolderExists,
  simulateRun,
  SimulationAborted,
  type Profile,
  type SimEvent,
  type SimulateOptions,
} from '../../../src/sim/sequencer.js';
import { tempDir } from '../../helpers/files.js';

const temps: Array<{ cleanup(): void }> = [];
afterEach(() => temps.splice(0).forEach((t) => t.cleanup()));
function root(): string {
  const t = tempDir('ua-sim-');
  temps.push(t);
  return t.dir;
}

/** Every file under dir, relative, `/`-separated, sorted. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  visit(dir);
  return out.sort();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function run(o: Omit<SimulateOptions, 'root'>, signal?: AbortSignal) {
  const options = { root: root(), cycleMs: 0, cbclBytes: 1024, ...o };
  const events: SimEvent[] = [];
  const result = await simulateRun(options, signal, (e) => events.push(e));
  const writes = events.flatMap((e) => (e.type === 'file' ? [e.path] : []));
  return { options, result, events, writes };
}

/** The files on disk match what expectedRun says, byte for byte (size + SHA-256), and nothing else is there. */
function expectMatchesDisk(options: SimulateOptions, dir: string) {
  const want = expectedRun(options);
  expect(walk(dir)).toEqual([...want.files].sort());
  for (const e of want.entries) {
    const bytes = readFileSync(join(dir, e.path));
    expect([e.path, bytes.length, sha256(bytes)]).toEqual([e.path, e.size, e.sha256]);
  }
  return want;
}

const ILLUMINA_NAME: Record<Exclude<Profile, 'ont'>, RegExp> = {
  novaseq: /^\d{6}_A\d{5}_\d{4}_[AB]H[A-Z0-9]{4}DSX\d$/,
  nextseq2000: /^\d{6}_VH\d{5}_\d{1,3}_AA[A-Z0-9]{5}M5$/,
  miseq: /^\d{6}_M\d{5}_\d{4}_000000000-[A-Z0-9]{5}$/,
};

describe('simulateRun: Illumina', () => {
  it.each([
    ['novaseq', 2, ['RunInfo.xml', 'RunParameters.xml'], ['RTAComplete.txt', 'CopyComplete.txt']],
    [
      'nextseq2000',
      1,
      ['RunInfo.xml', 'RunParameters.xml', 'SampleSheet.csv'],
      ['RTAComplete.txt', 'CopyComplete.txt'],
    ],
    ['miseq', 1, ['RunInfo.xml', 'RunParameters.xml', 'SampleSheet.csv'], ['RTAComplete.txt']],
  ] as const)(
    '%s: the run folder, its files in order, markers last',
    async (profile, lanes, first, markers) => {
      const { options, result, events, writes } = await run({ profile, cycles: 10 });
      expect(result.runName).toMatch(ILLUMINA_NAME[profile]);
      expect(result.runId).toBe(result.runName);
      expect(result.dir).toBe(join(options.root, result.runName));
      expect(result.completeMarkers).toEqual(markers);
      expect(result.cycles).toBe(10);

      expect(writes.slice(0, first.length)).toEqual(first);
      expect(writes.slice(-markers.length)).toEqual(markers);
      expect(events.filter((e) => e.type === 'complete').map((e) => e.marker)).toEqual(markers);
      expect(events.at(-1)).toEqual({ type: 'complete', marker: markers.at(-1) });
      const cycles = events.flatMap((e) => (e.type === 'cycle' ? [e.cycle] : []));
      expect(cycles).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

      const files = walk(result.dir);
      const cbcl = files.filter((f) => f.endsWith('.cbcl'));
      expect(cbcl).toHaveLength(10 * lanes * 2);
      expect(cbcl).toContain(`Data/Intensities/BaseCalls/L00${lanes}/C10.1/L00${lanes}_2.cbcl`);
      for (const f of cbcl) expect(statSync(join(result.dir, f)).size).toBe(1024);
      expect(files).toContain('InterOp/ExtractionMetricsOut.bin');
      expect(files).toContain('InterOp/QMetricsOut.bin');
      expect(files.includes('SampleSheet.csv')).toBe(profile !== 'novaseq');

      const info = readFileSync(join(result.dir, 'RunInfo.xml'), 'utf8');
      expect(info).toContain(`<Run Id="${result.runName}" Number="`);
      expect(info).toMatch(/<Reads>\s*<Read Number="1" NumCycles="3" IsIndexedRead="N" \/>/);
      expect(info).toContain('<Read Number="2" NumCycles="2" IsIndexedRead="Y" />');
      expect(info).toContain(
        `<FlowcellLayout LaneCount="${lanes}" SurfaceCount="2" SwathCount="1" TileCount="1" />`,
      );
      const params = readFileSync(join(result.dir, 'RunParameters.xml'), 'utf8');
      const app = { novaseq: 'NovaSeq Control Software', nextseq2000: 'NextSeq 1000/2000 Control Software' };
      expect(params).toContain(
        `<ApplicationName>${profile === 'miseq' ? 'MiSeq Control Software' : app[profile]}`,
      );
      if (profile !== 'miseq')
        expect(params).toContain(
          `<InstrumentType>${{ novaseq: 'NovaSeq6000', nextseq2000: 'NextSeq2000' }[profile]}<`,
        );
      const rta = readFileSync(join(result.dir, 'RTAComplete.txt'), 'utf8');
      expect(rta).toMatch(
        profile === 'miseq'
          ? /^\d{1,2}\/\d{1,2}\/\d{4},\d\d:\d\d:\d\d\.\d{3},Illumina RTA 1\.18\.54\r\n$/
          : /^RTA 3\.\d+\.\d+ completed on \d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d\d:\d\d [AP]M\r\n$/,
      );
      if (profile === 'nextseq2000') {
        const sheet = readFileSync(join(result.dir, 'SampleSheet.csv'), 'utf8');
        expect(sheet).toMatch(/^\[Header\]\r\nIEMFileVersion,5\r\n/);
        expect(sheet).toMatch(
          /\[Data\]\r\nSample_ID,Sample_Name,Sample_Plate,Sample_Well,I7_Index_ID,index,I5_Index_ID,index2,/,
        );
        expect(sheet).toMatch(/\r\nSample1,Sample1,,,D701,[ACGT]{2},D501,[ACGT]{2},/);
      }
      expectMatchesDisk(options, result.dir);
    },
  );

  it('appends to each CBCL in place over its cycle and to the InterOp files every cycle', async () => {
    const sizesAtFirstWrite: number[] = [];
    const options = {
      root: root(),
      profile: 'miseq' as const,
      cycles: 3,
      cbclBytes: 4000,
      cycleMs: 40,
      growMs: 20,
    };
    const events: SimEvent[] = [];
    const dir = expectedRun(options).dir;
    await simulateRun(options, undefined, (e) => {
      events.push(e);
      // What a watcher sees on disk right after the first append: a partial file under its final name.
      if (e.type === 'file' && e.created && e.path.endsWith('.cbcl'))
        sizesAtFirstWrite.push(statSync(join(dir, e.path)).size);
    });
    expect(sizesAtFirstWrite).toEqual(Array(6).fill(1000));
    const cbcl = events.filter(
      (e) => e.type === 'file' && e.path === 'Data/Intensities/BaseCalls/L001/C2.1/L001_1.cbcl',
    );
    expect(cbcl.map((e) => e.type === 'file' && [e.bytes, e.appended, e.created, e.final])).toEqual([
      [1000, 1000, true, false],
      [2000, 1000, false, false],
      [3000, 1000, false, false],
      [4000, 1000, false, true],
    ]);
    const q = events.flatMap((e) => (e.type === 'file' && e.path === 'InterOp/QMetricsOut.bin' ? [e] : []));
    // Version 4, 206-byte records, one per lane and tile per cycle.
    expect(q.map((e) => e.bytes)).toEqual([2 + 412, 2 + 824, 2 + 1236]);
    expect(q.map((e) => e.final)).toEqual([false, false, true]);
    expect([...readFileSync(join(dir, 'InterOp/QMetricsOut.bin')).subarray(0, 2)]).toEqual([4, 206]);
    expect([...readFileSync(join(dir, 'InterOp/ExtractionMetricsOut.bin')).subarray(0, 2)]).toEqual([2, 38]);
    // CBCL v1 header: version 1, header size 65, 2 bits per base call and per Q-score.
    const head = readFileSync(join(dir, 'Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl')).subarray(0, 8);
    expect([head.readUInt16LE(0), head.readUInt32LE(2), head[6], head[7]]).toEqual([1, 65, 2, 2]);
  });

  it('writes CopyComplete.txt a cycle after RTAComplete.txt, after every data write', async () => {
    const times = new Map<string, number>();
    const t0 = performance.now();
    const options = {
      root: root(),
      profile: 'novaseq' as const,
      cycles: 2,
      lanes: 1,
      cycleMs: 60,
      growMs: 150,
    };
    await simulateRun(options, undefined, (e) => {
      if (e.type === 'file') times.set(e.path, performance.now() - t0);
    });
    const rta = times.get('RTAComplete.txt')!;
    const copy = times.get('CopyComplete.txt')!;
    const data = [...times].filter(([p]) => !p.endsWith('Complete.txt')).map(([, t]) => t);
    // growMs outlasts the cycles: the markers wait for the last append all the same.
    expect(rta).toBeGreaterThanOrEqual(Math.max(...data));
    // Order, not timing (timers may fire a little early or late on a loaded machine): CopyComplete
    // is written after RTAComplete, RTAComplete after the last append of the data.
    expect(copy).toBeGreaterThan(rta);
    expect(statSync(join(expectedRun(options).dir, 'CopyComplete.txt')).size).toBe(0);
  });

  it('complete: false stalls after stallAfterCycles and writes no marker', async () => {
    const { options, result, events } = await run({
      profile: 'novaseq',
      cycles: 10,
      complete: false,
      stallAfterCycles: 3,
    });
    expect(result.completeMarkers).toEqual([]);
    expect(result.cycles).toBe(3);
    expect(events.some((e) => e.type === 'complete')).toBe(false);
    expect(
      events.filter((e) => e.type === 'cycle').map((e) => e.type === 'cycle' && [e.cycle, e.of]),
    ).toEqual([
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    const files = walk(result.dir);
    expect(files.filter((f) => f.endsWith('Complete.txt'))).toEqual([]);
    expect(files.filter((f) => f.includes('/C4.1/'))).toEqual([]);
    expect(expectMatchesDisk(options, result.dir).completeMarkers).toEqual([]);
  });
});

describe('simulateRun: ONT (MinKNOW)', () => {
  it('writes POD5, gzipped FASTQ and a growing summary, then the reports, then final_summary last', async () => {
    const { options, result, writes } = await run({ profile: 'ont', cycles: 3, cbclBytes: 8192 });
    expect(result.runName).toMatch(/^\d{8}_\d{4}_[1-3][A-H]_PA[A-Z]\d{5}_[0-9a-f]{8}$/);
    expect(result.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result.dir).toBe(join(options.root, result.runName)); // flat by default
    const [, , , flowcell, hash] = result.runName.split('_');
    const final = `final_summary_${flowcell}_${hash}.txt`;
    expect(result.completeMarkers).toEqual([final]);
    expect(writes.at(-1)).toBe(final);
    expect(writes.indexOf(final)).toBe(writes.length - 1);
    const reportAt = writes.findIndex((p) => p.startsWith('report_') && p.endsWith('.json'));
    expect(reportAt).toBeGreaterThan(writes.lastIndexOf(`fastq_pass/${flowcell}_pass_${hash}_2.fastq.gz`));

    const files = walk(result.dir);
    expect(files.filter((f) => f.startsWith('pod5_pass/'))).toEqual(
      [0, 1, 2].map((n) => `pod5_pass/${flowcell}_pass_${hash}_${n}.pod5`),
    );
    expect(files.filter((f) => /^report_.*\.(json|html)$/.test(f))).toHaveLength(2);
    const pod5 = readFileSync(join(result.dir, `pod5_pass/${flowcell}_pass_${hash}_0.pod5`));
    const signature = Buffer.from('8b504f440d0a1a0a', 'hex');
    expect([pod5.length, pod5.subarray(0, 8), pod5.subarray(-8)]).toEqual([8192, signature, signature]);

    // Four appends, each a gzip member: the whole file is one valid gzip stream of FASTQ records.
    const fastq = gunzipSync(
      readFileSync(join(result.dir, `fastq_pass/${flowcell}_pass_${hash}_1.fastq.gz`)),
    );
    const lines = fastq.toString('utf8').trimEnd().split('\n');
    expect(lines.length % 4).toBe(0);
    expect(lines[0]).toMatch(new RegExp(`^@[0-9a-f-]{36} runid=[0-9a-f]{40} .*flow_cell_id=${flowcell} `));
    expect(lines[1]).toMatch(/^[ACGT]+$/);
    expect(lines[3]).toHaveLength(lines[1].length);
    expect(writes.filter((p) => p.endsWith('_1.fastq.gz'))).toHaveLength(4);

    const summary = readFileSync(join(result.dir, `sequencing_summary_${flowcell}_${hash}.txt`), 'utf8');
    expect(summary.split('\n')[0]).toMatch(/^filename_fastq\tfilename_pod5\tparent_read_id\tread_id\t/);
    expect(writes.filter((p) => p.startsWith('sequencing_summary_'))).toHaveLength(1 + 3); // header + a batch each
    const kv = Object.fromEntries(
      readFileSync(join(result.dir, final), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => l.split('=')),
    );
    expect(kv).toMatchObject({
      flow_cell_id: flowcell,
      protocol_group_id: 'sim_experiment',
      sample_id: 'sim_sample',
      protocol_run_id: result.runId,
      pod5_files_in_final_dest: '3',
    });
    for (const k of ['instrument', 'started', 'acquisition_stopped', 'processing_stopped'])
      expect(kv[k]).toBeTruthy();
    expectMatchesDisk(options, result.dir);
  });

  it('flat: false nests the run as <experiment>/<sample>/<run>, like MinKNOW', async () => {
    const { options, result } = await run({
      profile: 'ont',
      cycles: 1,
      flat: false,
      experiment: 'exp1',
      sample: 's1',
    });
    expect(result.dir).toBe(join(options.root, 'exp1', 's1', result.runName));
    expect(readdirSync(options.root)).toEqual(['exp1']);
    expectMatchesDisk(options, result.dir);
  });
});

describe('simulateRun: determinism, expectations, abort', () => {
  it.each(['novaseq', 'ont'] as const)(
    '%s: the same seed writes the same names and bytes; another seed does not',
    async (profile) => {
      const a = await run({ profile, cycles: 2, seed: 42 });
      const b = await run({ profile, cycles: 2, seed: 42 });
      const c = await run({ profile, cycles: 2, seed: 43 });
      expect(b.result.runName).toBe(a.result.runName);
      expect(b.result.entries).toEqual(a.result.entries);
      for (const f of a.result.files)
        expect(readFileSync(join(b.result.dir, f))).toEqual(readFileSync(join(a.result.dir, f)));
      expect(c.result.runName).not.toBe(a.result.runName);
      expect(c.result.entries.map((e) => e.sha256)).not.toEqual(a.result.entries.map((e) => e.sha256));
    },
  );

  it('the names and dates come from the seed, not the clock; runName overrides the folder name', () => {
    const o = { root: '/w', profile: 'novaseq' as const, seed: 7 };
    expect(expectedRun(o).runName).toBe(expectedRun(o).runName);
    const named = expectedRun({ ...o, runName: '261202_A01234_0042_BHXXXXDSX3' });
    expect(named.dir).toBe(join('/w', '261202_A01234_0042_BHXXXXDSX3'));
    expect(expectedBytes({ ...o, runName: named.runName }, 'RunInfo.xml').toString()).toContain(
      '<Run Id="261202_A01234_0042_BHXXXXDSX3"',
    );
  });

  it('SimulatedRun and expectedRun agree, and expectedBytes gives each file exactly', async () => {
    const { options, result } = await run({ profile: 'nextseq2000', cycles: 4, tiles: 3, seed: 9 });
    expect(result).toEqual(expectedRun(options));
    expect(result.bytes).toBe(result.entries.reduce((s, e) => s + e.size, 0));
    for (const f of [
      'RunInfo.xml',
      'InterOp/QMetricsOut.bin',
      'Data/Intensities/BaseCalls/L001/C4.1/L001_3.cbcl',
    ])
      expect(expectedBytes(options, f)).toEqual(readFileSync(join(result.dir, f)));
    expect(() => expectedBytes(options, 'nope.txt')).toThrow(/no file nope.txt/);
  });

  it('an abort stops promptly, mid-wait, and leaves what was written, as reported', async () => {
    const ac = new AbortController();
    const options = {
      root: root(),
      profile: 'novaseq' as const,
      cycles: 100,
      cycleMs: 30_000,
      growMs: 10,
      cbclBytes: 2048,
    };
    let abortedAt = 0;
    const p = simulateRun(options, ac.signal, (e) => {
      // 50 ms into a ~27 s gap between writes (the CBCLs grow for 10 ms, InterOp comes at 90%): the wait must end on abort, not on its timer.
      if (e.type === 'cycle' && e.cycle === 1)
        setTimeout(() => {
          abortedAt = performance.now();
          ac.abort();
        }, 50);
    });
    const err = await p.catch((e: unknown) => e);
    // Far less than the gap: the wait ended on the abort (a margin for a loaded machine, not a speed test).
    expect(performance.now() - abortedAt).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(SimulationAborted);
    const partial = (err as SimulationAborted).run;
    expect([partial.cycles, partial.completeMarkers]).toEqual([1, []]);
    const before = walk(partial.dir);
    expect(before).toEqual([...partial.files].sort());
    for (const e of partial.entries) expect(statSync(join(partial.dir, e.path)).size).toBe(e.size);
    await new Promise((r) => setTimeout(r, 100));
    expect(walk(partial.dir)).toEqual(before); // nothing written after the abort
  });

  it('refuses an existing run folder and bad options', async () => {
    const { options } = await run({ profile: 'miseq', cycles: 1 });
    await expect(simulateRun(options)).rejects.toBeInstanceOf(RunFolderExists);
    await expect(simulateRun({ ...options, cycles: 0 })).rejects.toThrow('cycles must be an integer from 1');
    expect(() => expectedRun({ ...options, cbclBytes: 10 })).toThrow('cbclBytes must be at least 128 bytes');
    expect(() => expectedRun({ ...options, profile: 'hiseq' as Profile })).toThrow('profile must be');
    expect(() => expectedRun({ ...options, runName: '../x' })).toThrow(
      'runName must be a single folder name',
    );
  });

  it('splits cycles into reads that sum to them', () => {
    for (const n of [1, 2, 9, 10, 151, 318]) expect(readsOf(n).reduce((s, r) => s + r.cycles, 0)).toBe(n);
    expect(readsOf(318).map((r) => r.cycles)).toEqual([149, 10, 10, 149]);
  });
});

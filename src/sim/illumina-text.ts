/**
 * The text files of an Illumina run folder: RunInfo.xml, RunParameters.xml, SampleSheet.csv and
 * RTAComplete.txt, shaped like what each instrument's control software writes (element names,
 * date formats, instrument and flowcell ID patterns), so a daemon that identifies a run from them
 * is tested against the real shapes. All dates are simulated (from the seed), never the wall clock.
 */
import { alnum, between, rngFor, startTime } from './random.js';

export type IlluminaProfile = 'novaseq' | 'nextseq2000' | 'miseq';

export interface Read {
  number: number;
  cycles: number;
  indexed: boolean;
}

export interface IlluminaRun {
  profile: IlluminaProfile;
  runName: string;
  instrument: string;
  runNumber: number;
  /** The flowcell ID as in RunInfo.xml (no side letter). */
  flowcell: string;
  /** NovaSeq flowcell side, the letter before the flowcell ID in the folder name. */
  side: 'A' | 'B' | undefined;
  started: Date;
  /** When RTA finished: about 5 simulated minutes per cycle after the start. */
  finished: Date;
  reads: Read[];
  lanes: number;
  tiles: number;
}

/**
 * Cycles as a real paired, dual-indexed run: Read 1, Index 1, Index 2, Read 2 (e.g. 10 → 3+2+2+3,
 * 318 → 149+10+10+149), always summing to `cycles`; under 10 cycles paired reads without index
 * reads, and a single read under 2.
 */
export function readsOf(cycles: number): Read[] {
  const reads = (lens: Array<[number, boolean]>) =>
    lens.map(([c, indexed], i) => ({ number: i + 1, cycles: c, indexed }));
  if (cycles < 2) return reads([[cycles, false]]);
  if (cycles < 10)
    return reads([
      [Math.ceil(cycles / 2), false],
      [Math.floor(cycles / 2), false],
    ]);
  const k = Math.min(10, Math.floor(cycles / 5));
  const rest = cycles - 2 * k;
  return reads([
    [Math.ceil(rest / 2), false],
    [k, true],
    [k, true],
    [Math.floor(rest / 2), false],
  ]);
}

/** Instrument, run number, flowcell and folder name as each instrument names them. */
export function illuminaRun(
  profile: IlluminaProfile,
  seed: number,
  cycles: number,
  lanes: number,
  tiles: number,
  runName?: string,
): IlluminaRun {
  const rng = rngFor(seed, `identity:${profile}`);
  const started = startTime(seed);
  const runNumber = between(rng, 1, 999);
  const num4 = String(runNumber).padStart(4, '0');
  let instrument: string;
  let flowcell: string;
  let side: 'A' | 'B' | undefined;
  let name: string;
  const date = yymmdd(started);
  if (profile === 'novaseq') {
    instrument = `A${String(between(rng, 0, 99_999)).padStart(5, '0')}`;
    flowcell = `H${alnum(rng, 4)}DSX${between(rng, 1, 7)}`; // S4 flowcells: H….DSX.
    side = rng() % 2 ? 'B' : 'A';
    name = `${date}_${instrument}_${num4}_${side}${flowcell}`;
  } else if (profile === 'nextseq2000') {
    instrument = `VH${String(between(rng, 0, 99_999)).padStart(5, '0')}`;
    flowcell = `AA${alnum(rng, 5)}M5`; // P2 flowcells: AA…M5; the run number is not padded.
    name = `${date}_${instrument}_${runNumber}_${flowcell}`;
  } else {
    instrument = `M${String(between(rng, 0, 99_999)).padStart(5, '0')}`;
    flowcell = `000000000-${alnum(rng, 5)}`;
    name = `${date}_${instrument}_${num4}_${flowcell}`;
  }
  const finished = new Date(started.getTime() + cycles * 300_000 + 600_000);
  return {
    profile,
    runName: runName ?? name,
    instrument,
    runNumber,
    flowcell,
    side,
    started,
    finished,
    reads: readsOf(cycles),
    lanes,
    tiles,
  };
}

/** FourDigit tile names, `<surface><swath><tile:2>`: files alternate between surfaces 1 and 2. */
export function tileNumber(i: number): number {
  return ((i % 2) + 1) * 1000 + 100 + Math.floor(i / 2) + 1;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

export function yymmdd(d: Date): string {
  return `${pad2(d.getUTCFullYear() % 100)}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
}

/** `12/2/2026` — the US style NovaSeq and RTA use. */
export function usDate(d: Date): string {
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
}

/** `12/2/2026 3:15:02 AM`. */
export function usDateTime(d: Date): string {
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${usDate(d)} ${h12}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const XML_HEAD =
  '<?xml version="1.0"?>\r\n' +
  '<%s xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"%v>\r\n';

function xmlHead(root: string, version?: number): string {
  return XML_HEAD.replace('%s', root).replace('%v', version === undefined ? '' : ` Version="${version}"`);
}

function runInfoRead(x: Read, el = 'RunInfoRead'): string {
  return `<${el} Number="${x.number}" NumCycles="${x.cycles}" IsIndexedRead="${x.indexed ? 'Y' : 'N'}" />`;
}

/** RunInfo.xml; CRLF line ends, as the Windows control software writes them. */
export function runInfoXml(r: IlluminaRun): string {
  const version = { novaseq: 5, nextseq2000: 6, miseq: 2 }[r.profile];
  const date =
    r.profile === 'novaseq'
      ? usDateTime(r.started)
      : r.profile === 'miseq'
        ? yymmdd(r.started)
        : isoSeconds(r.started);
  const reads = r.reads.map((x) => `      ${runInfoRead(x, 'Read')}`).join('\r\n');
  return (
    xmlHead('RunInfo', version) +
    `  <Run Id="${r.runName}" Number="${r.runNumber}">\r\n` +
    `    <Flowcell>${r.flowcell}</Flowcell>\r\n` +
    `    <Instrument>${r.instrument}</Instrument>\r\n` +
    `    <Date>${date}</Date>\r\n` +
    `    <Reads>\r\n${reads}\r\n    </Reads>\r\n` +
    // One swath and `tiles` tiles over two surfaces: the layout of what this run really writes.
    `    <FlowcellLayout LaneCount="${r.lanes}" SurfaceCount="2" SwathCount="1" TileCount="${Math.ceil(r.tiles / 2)}" />\r\n` +
    `  </Run>\r\n</RunInfo>\r\n`
  );
}

const NOVASEQ_READS = ['Read1', 'IndexRead1', 'IndexRead2', 'Read2'];

function xmlEl(name: string, value: string | number): string {
  return `  <${name}>${value}</${name}>\r\n`;
}

export function runParametersXml(r: IlluminaRun): string {
  const readsEl = r.reads
    .map((x) => {
      const name = x.indexed ? `Index${x.number - 1}` : `Read${x.number === 1 ? 1 : 2}`;
      return `    <Read ReadName="${name}" Cycles="${x.cycles}" />`;
    })
    .join('\r\n');
  const experiment = `Sim_${r.runNumber}`;
  if (r.profile === 'novaseq') {
    return (
      xmlHead('RunParameters') +
      `  <Side>${r.side}</Side>\r\n` +
      `  <ApplicationName>NovaSeq Control Software</ApplicationName>\r\n` +
      `  <ApplicationVersion>1.8.0</ApplicationVersion>\r\n` +
      `  <RtaVersion>v3.4.4</RtaVersion>\r\n` +
      `  <RecipeVersion>1.8.0</RecipeVersion>\r\n` +
      `  <RunId>${r.runName}</RunId>\r\n` +
      `  <RunNumber>${r.runNumber}</RunNumber>\r\n` +
      `  <ExperimentName>${experiment}</ExperimentName>\r\n` +
      `  <InstrumentName>${r.instrument}</InstrumentName>\r\n` +
      `  <InstrumentType>NovaSeq6000</InstrumentType>\r\n` +
      `  <RfidsInfo>\r\n    <FlowCellSerialBarcode>${r.flowcell}</FlowCellSerialBarcode>\r\n` +
      `    <FlowCellMode>S4</FlowCellMode>\r\n  </RfidsInfo>\r\n` +
      r.reads.map((x, i) => xmlEl(`${NOVASEQ_READS[i]}NumberOfCycles`, x.cycles)).join('') +
      `</RunParameters>\r\n`
    );
  }
  if (r.profile === 'nextseq2000') {
    return (
      xmlHead('RunParameters') +
      `  <InstrumentType>NextSeq2000</InstrumentType>\r\n` +
      `  <InstrumentSerialNumber>${r.instrument}</InstrumentSerialNumber>\r\n` +
      `  <ApplicationName>NextSeq 1000/2000 Control Software</ApplicationName>\r\n` +
      `  <ApplicationVersion>1.5.0.42699</ApplicationVersion>\r\n` +
      `  <RtaVersion>3.10.30</RtaVersion>\r\n` +
      `  <RunId>${r.runName}</RunId>\r\n` +
      `  <RunCounter>${r.runNumber}</RunCounter>\r\n` +
      `  <ExperimentName>${experiment}</ExperimentName>\r\n` +
      `  <FlowCellSerialNumber>${r.flowcell}</FlowCellSerialNumber>\r\n` +
      `  <PlannedReads>\r\n${readsEl}\r\n  </PlannedReads>\r\n` +
      `</RunParameters>\r\n`
    );
  }
  return (
    xmlHead('RunParameters') +
    `  <RunParametersVersion>MiSeq_1_1</RunParametersVersion>\r\n` +
    `  <Setup>\r\n    <ApplicationName>MiSeq Control Software</ApplicationName>\r\n` +
    `    <ApplicationVersion>4.0.0.1769</ApplicationVersion>\r\n  </Setup>\r\n` +
    `  <RunID>${r.runName}</RunID>\r\n` +
    `  <ScannerID>${r.instrument}</ScannerID>\r\n` +
    `  <RunNumber>${r.runNumber}</RunNumber>\r\n` +
    `  <RTAVersion>1.18.54</RTAVersion>\r\n` +
    `  <Barcode>${r.flowcell}</Barcode>\r\n` +
    `  <ExperimentName>${experiment}</ExperimentName>\r\n` +
    `  <Reads>\r\n${r.reads.map((x) => `    ${runInfoRead(x)}`).join('\r\n')}\r\n  </Reads>\r\n` +
    `</RunParameters>\r\n`
  );
}

/** A small valid v1 (IEM) sample sheet: four samples, with index columns only if the run has index reads. */
export function sampleSheetCsv(r: IlluminaRun, seed: number): string {
  const rng = rngFor(seed, 'samplesheet');
  const index = r.reads.filter((x) => x.indexed);
  const data = r.reads.filter((x) => !x.indexed);
  const rows: string[] = [];
  for (let s = 1; s <= 4; s++) {
    const idx = index.map((x) => alnum(rng, x.cycles, 'ACGT'));
    const cols = [`Sample${s}`, `Sample${s}`, '', ''];
    if (idx.length > 0) cols.push(`D70${s}`, idx[0]);
    if (idx.length > 1) cols.push(`D50${s}`, idx[1]);
    cols.push(`Sim_${r.runNumber}`, '');
    rows.push(cols.join(','));
  }
  const header = ['Sample_ID', 'Sample_Name', 'Sample_Plate', 'Sample_Well'];
  if (index.length > 0) header.push('I7_Index_ID', 'index');
  if (index.length > 1) header.push('I5_Index_ID', 'index2');
  header.push('Sample_Project', 'Description');
  const type = r.profile === 'miseq' ? 'MiSeq' : 'NextSeq 2000';
  return (
    [
      '[Header]',
      'IEMFileVersion,5',
      'Investigator Name,Simulator',
      `Experiment Name,Sim_${r.runNumber}`,
      `Date,${usDate(r.started)}`,
      'Workflow,GenerateFASTQ',
      'Application,FASTQ Only',
      `Instrument Type,${type}`,
      'Assay,Nextera XT',
      'Index Adapters,Nextera XT v2 Index Kit',
      'Chemistry,Amplicon',
      '',
      '[Reads]',
      ...data.map((x) => String(x.cycles)),
      '',
      '[Settings]',
      'Adapter,CTGTCTCTTATACACATCT',
      '',
      '[Data]',
      header.join(','),
      ...rows,
    ].join('\r\n') + '\r\n'
  );
}

/** RTA 3 (NovaSeq, NextSeq 2000): one sentence; MiSeq's RTA 1.18: `date,time.ms,Illumina RTA 1.18.54`. */
export function rtaCompleteText(r: IlluminaRun): string {
  const d = r.finished;
  if (r.profile === 'miseq') {
    const t = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.000`;
    return `${usDate(d)},${t},Illumina RTA 1.18.54\r\n`;
  }
  const version = r.profile === 'novaseq' ? '3.4.4' : '3.10.30';
  return `RTA ${version} completed on ${usDateTime(d)}\r\n`;
}

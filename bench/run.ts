/**
 * `npm run bench` — ua's throughput next to this machine's limits and the peers, measured in one run.
 *
 *   npm run bench -- [--quick] [--only limits,compressors,sink-nc,sink-nc-c1,platform-nc,platform-nc-wait,platform-fastq,
 *                                  platform-fastq-zlib,platform-fastq-c1,
 *                                  platform-1m,platform-1m-gz,sink-1m,platform-4k,sink-4k,s3,azure,resume,daemon,fleet,padding]
 *                    [--skip …] [--big 2G] [--fastq 2G] [--medium 1000] [--small 10000] [--many-ten 200]
 *                    [--padding-size 20M]
 *                    [--level 6] [--profile [--keep-profiles]] [--no-save]
 *
 * Data is generated once under bench/data/ (gitignored). Every row is a separate process (ua, the
 * limit, the peer), measured by bench/measure.ts; servers are separate processes too, so client and
 * server CPU are reported apart. Output: a markdown table on stdout, JSON + SVG in bench/results/;
 * with --profile, `ua` runs under --cpu-prof and the top self-time functions are printed.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  DATA_DIR,
  ensureData,
  ensureFolder,
  FULL_SIZES,
  QUICK_SIZES,
  sizeLabel,
  type DataSizes,
} from './data.js';
import { parseSize } from './limits.js';
import { profileMarkdown, summariseDir } from './profile.js';
import { markdown, writeResults, type Report, type Row } from './report.js';
import { gzipLimits, limits, platformRow, type Ctx, type PlatformScenario } from './scenarios.js';
import { azureRows, directBuilt, s3Rows, type DirectSet } from './direct-rows.js';
import { paddingRows } from './padding.js';
import { resumeRows } from './resume.js';
import { DAEMON_FULL, DAEMON_QUICK, daemonRows } from './daemon.js';
import { fleetRows } from './fleet.js';
import { ROOT } from './servers.js';

const ALL = [
  'limits',
  'compressors',
  'sink-nc',
  'sink-nc-c1',
  'platform-nc',
  'platform-nc-wait',
  'platform-fastq',
  'platform-fastq-zlib',
  'platform-fastq-c1',
  'platform-1m',
  'platform-1m-gz',
  'sink-1m',
  'platform-4k',
  'sink-4k',
  's3',
  'azure',
  'resume',
  'daemon',
  'fleet',
  'padding',
] as const;

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const list = (name: string) => (flag(name) ?? '').split(',').filter(Boolean);

async function main(): Promise<void> {
  const quick = argv.includes('--quick');
  const base = quick ? QUICK_SIZES : FULL_SIZES;
  const sizes: DataSizes = {
    ...base,
    bigBytes: flag('big') ? parseSize(flag('big')!) : base.bigBytes,
    fastqBytes: flag('fastq') ? parseSize(flag('fastq')!) : base.fastqBytes,
    mediumCount: Number(flag('medium') ?? base.mediumCount),
    smallCount: Number(flag('small') ?? base.smallCount),
  };
  const manyTen = Number(flag('many-ten') ?? (quick ? 20 : 200));
  const only = list('only');
  const skip = list('skip');
  for (const s of [...only, ...skip])
    if (!(ALL as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}: ${ALL.join(', ')}`);
  const selected = ALL.filter((s) => (only.length === 0 || only.includes(s)) && !skip.includes(s));
  const level = Number(flag('level') ?? 6);
  const startedAt = new Date().toISOString();
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

  const report: Report = {
    startedAt,
    command: `npm run bench --${argv.length ? ` ${argv.join(' ')}` : ''}`,
    quick,
    machine: {
      cores: cpus().length,
      model: cpus()[0]?.model ?? '?',
      node: process.version,
      loadAtStart: loadavg(),
      memGiB: totalmem() / 2 ** 30,
      kernel: release(),
    },
    rows: [],
  };
  const data = ensureData(sizes, log);
  const profileDir = argv.includes('--profile')
    ? join(ROOT, 'bench', 'results', 'profiles', startedAt.replace(/[:.]/g, '-'))
    : undefined;
  const c: Ctx = { data, log, level, profileDir };
  const add = (rows: Row[]) => {
    for (const r of rows) {
      report.rows.push(r);
      log(
        `${r.id}: ${r.skipped ? `skipped: ${r.skipped}` : `${((r.bytes ?? 0) / 1e6 / (r.seconds ?? 1)).toFixed(0)} MB/s in ${r.seconds?.toFixed(1)} s`}`,
      );
    }
  };

  for (const s of selected) {
    log(`— ${s}`);
    if (s === 'limits') add(await limits(c));
    else if (s === 'compressors') {
      if (!selected.includes('limits')) add(await gzipLimits(c)); // limits has these rows too
    } else if (s === 'resume') add(await resumeRows(c));
    else if (s === 'daemon') add(await daemonRows(c, quick ? DAEMON_QUICK : DAEMON_FULL));
    else if (s === 'fleet') add(await fleetRows(c, quick ? DAEMON_QUICK : DAEMON_FULL));
    else if (s === 'padding')
      add(await paddingRows(c, Math.min(sizes.fastqBytes, parseSize(flag('padding-size') ?? '20M'))));
    else if (s === 's3' || s === 'azure') {
      const built = directBuilt();
      const folder = ensureFolder(join(DATA_DIR, `files-${manyTen}x10M`), manyTen, 10 * 2 ** 20, log);
      const sets: DirectSet[] = [
        { id: 'big', label: sizeLabel(sizes.bigBytes), input: data.big, files: 1, bytes: sizes.bigBytes },
        {
          id: 'ten',
          label: `${manyTen} × 10 MiB`,
          input: folder,
          files: manyTen,
          bytes: manyTen * 10 * 2 ** 20,
        },
      ];
      add(s === 's3' ? await s3Rows(c, sets, built) : await azureRows(c, sets, built));
    } else add([await platformRow(c, s as PlatformScenario)]);
  }
  report.machine.loadAtEnd = loadavg();

  console.log(markdown(report));
  if (!argv.includes('--no-save')) {
    const out = writeResults(join(ROOT, 'bench', 'results'), report);
    log(`wrote ${out.json} and ${out.svg}`);
  }
  if (profileDir) {
    const summary = readdirSync(profileDir)
      .map((d) => profileMarkdown(`--cpu-prof: ${d}`, summariseDir(join(profileDir, d), 12, ROOT)))
      .join('\n\n');
    console.log(`\n${summary}`);
    // The summary is kept next to the results; the raw profiles (tens of MB) only with --keep-profiles.
    if (!argv.includes('--no-save')) writeFileSync(`${profileDir}.md`, `${summary}\n`);
    if (!argv.includes('--keep-profiles')) rmSync(profileDir, { recursive: true, force: true });
  }
}

await main();

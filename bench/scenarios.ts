/**
 * The benchmark rows: reference limits (bench/limits.ts in a child process each), `ua` against
 * ua-platform and against the discarding sink platform (direct mode and its peers: direct-rows.ts).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchData } from './data.js';
import { runMeasured, type ProcUsage, type ServerProcess } from './measure.js';
import type { Row } from './report.js';
import {
  NODE,
  ROOT,
  startSinkPlatform as startSinkProcess,
  startUaPlatform as startPlatformProcess,
  type UaTarget,
} from './servers.js';

export interface Ctx {
  data: BenchData;
  /** Extra big data for direct mode: many 10 MiB files. */
  manyTen?: string;
  log(s: string): void;
  /** Where `ua` runs write --cpu-prof profiles (one subfolder per row), when profiling. */
  profileDir?: string;
  /** The gzip level ua and the zlib limit use. */
  level: number;
}

export const UA = join(ROOT, 'bin', 'ua.js');
export const dist = (f: string) => join(ROOT, 'dist', 'bench', f);
const tail = (s: string) => s.trim().split('\n').slice(-3).join(' / ').slice(0, 300);
const countFiles = (dir: string) => readdirSync(dir).length;

/**
 * Reads an input once so every row starts from a warm page cache: this VM's proactive reclaim
 * (DAMON) evicts cold file pages within minutes, and a 2 GiB read from disk costs ~2.5 s here.
 */
export function warm(input: string): void {
  const paths = statSync(input).isDirectory() ? readdirSync(input).map((f) => join(input, f)) : [input];
  const buf = Buffer.allocUnsafe(16 << 20);
  for (const p of paths) {
    const fd = openSync(p, 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** Waits until a server has stopped burning CPU (closing, assembling): at most 60 s. */
export async function settled(proc: ServerProcess): Promise<number> {
  const t0 = Date.now();
  let last = proc.usage().cpuS;
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = proc.usage().cpuS;
    if (now - last < 0.03) break;
    last = now;
  }
  return (Date.now() - t0) / 1000;
}

export function failed(row: Row, u: ProcUsage): Row {
  return { ...row, skipped: `failed (exit ${u.code}): ${tail(u.stderr)}` };
}

// --- limits ------------------------------------------------------------------------------------

async function limit(row: Row, args: string[], script = 'limits.js'): Promise<Row> {
  if (script === 'limits.js' && args[0] !== 'put' && args[0] !== 'disk') warm(args[1]);
  const u = await runMeasured(NODE, [dist(script), ...args]);
  if (u.code !== 0) return failed(row, u);
  const r = JSON.parse(u.stdout.trim().split('\n').pop()!) as {
    bytes: number;
    seconds: number;
    cpuS: number;
    out?: number;
  };
  // A cold limit is timed like a ua row: the whole process, start-up included.
  const cold = args.includes('--cold');
  return {
    ...row,
    command: `node dist/bench/${script} ${args.join(' ')}`,
    bytes: r.bytes,
    seconds: cold ? u.wallS : r.seconds,
    clientCpuS: cold ? u.userS + u.sysS : r.cpuS,
    peakRssMiB: u.peakRssMiB,
    ...(cold
      ? { note: `whole process; timed section alone: ${(r.bytes / r.seconds / 1e6).toFixed(0)} MB/s` }
      : {}),
    ...(r.out
      ? { note: `ratio ${(r.bytes / r.out).toFixed(3)} (${r.out.toLocaleString('en-US')} bytes out)` }
      : {}),
  };
}

/**
 * The compressors on the same bytes (the FASTQ's first 256 MiB, 16 MiB parts, no padding), one after
 * the other: node:zlib and libdeflate (WASM) via PartPool with 1 and 2 workers, and `pigz -p 2` on the
 * same bytes for reference (through `head -c`, whose CPU is counted too).
 */
export async function gzipLimits(c: Ctx): Promise<Row[]> {
  const rows: Row[] = [];
  const { fastq, sizes } = c.data;
  const bytes = Math.min(sizes.fastqBytes, 256 * 2 ** 20);
  for (const compressor of ['zlib', 'libdeflate'] as const)
    for (const t of [1, 2])
      rows.push(
        await limit(
          {
            id: `${compressor}${c.level}-${t}`,
            group: 'limit',
            name: `gzip -${c.level} (${compressor === 'zlib' ? 'node:zlib' : 'libdeflate, WASM'}) + MD5 of FASTQ via PartPool, ${t} worker${t > 1 ? 's' : ''}`,
          },
          [
            'gzip',
            fastq,
            '--threads',
            String(t),
            '--level',
            String(c.level),
            '--bytes',
            String(bytes),
          ].concat(['--compressor', compressor]),
        ),
      );
  const row: Row = {
    id: `pigz${c.level}-2`,
    group: 'peer',
    name: `pigz -${c.level} -p 2 of the same FASTQ bytes (reference)`,
    command: `head -c ${bytes} ${fastq} | pigz -${c.level} -p 2 -c | wc -c`,
    bytes,
  };
  if (!has('pigz')) return [...rows, { ...row, skipped: 'pigz not installed (Debian package pigz)' }];
  warm(fastq);
  const u = await runMeasured('bash', ['-c', `set -o pipefail; ${row.command}`]);
  if (u.code !== 0) return [...rows, failed(row, u)];
  const out = Number(u.stdout.trim());
  rows.push({
    ...row,
    seconds: u.wallS,
    clientCpuS: u.userS + u.sysS,
    peakRssMiB: u.peakRssMiB,
    note: `ratio ${(bytes / out).toFixed(3)} (${out.toLocaleString('en-US')} bytes out); one gzip stream, no MD5`,
  });
  return rows;
}

export async function limits(c: Ctx): Promise<Row[]> {
  const rows: Row[] = [];
  const { big, sizes } = c.data;
  for (const t of [1, 2])
    rows.push(
      await limit(
        {
          id: `md5-${t}`,
          group: 'limit',
          name: `MD5 via PartPool, ${t} worker${t > 1 ? 's' : ''}, reused buffers`,
        },
        ['md5', big, '--threads', String(t)],
      ),
    );
  rows.push(...(await gzipLimits(c)));
  rows.push(
    await limit({ id: 'put', group: 'limit', name: 'loopback PUT, undici → discarding server, 4 conns' }, [
      'put',
      String(sizes.bigBytes),
    ]),
  );
  rows.push(
    await limit(
      {
        id: 'bare',
        group: 'limit',
        name: 'bare pipeline: read → MD5 (2 workers) → undici PUT, one cold process',
      },
      ['bare', big, '--cold'],
    ),
  );
  rows.push(
    await limit(
      {
        id: 'ingest',
        group: 'limit',
        name: 'ua-platform ingest: part PUTs (MD5 checked, fsynced), client in the same process',
      },
      ['--parts', String(Math.max(4, Math.round(sizes.bigBytes / 2 ** 26))), '--part-mib', '64', '--json'],
      'platform-ingest.js',
    ),
  );
  rows.push(
    await limit(
      { id: 'disk', group: 'limit', name: 'disk: part files written and fsynced in the temp dir' },
      ['disk', String(sizes.bigBytes)],
    ),
  );
  return rows;
}

// --- ua ----------------------------------------------------------------------------------------

export interface UaRun {
  row: Row;
  target: UaTarget;
  args: string[];
  /** Local files the run uploads (checked against ua's output lines). */
  files: number;
  bytes: number;
  env?: Record<string, string>;
}

export async function runUa(c: Ctx, r: UaRun): Promise<Row> {
  const args = ['-p', r.target.project, '--folder', `/bench/${r.row.id}`, ...r.args];
  const node = c.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(c.profileDir, r.row.id)}`] : [];
  warm(r.args[r.args.length - 1]);
  const s0 = r.target.proc.usage();
  const u = await runMeasured(NODE, [...node, UA, ...args], {
    env: { ...process.env, UA_DIRECT: '0', ...r.target.env, ...r.env },
  });
  const settle = await settled(r.target.proc);
  const s1 = r.target.proc.usage();
  if (settle > 1)
    c.log(
      `${r.row.id}: the server kept working ${settle.toFixed(1)} s after ua exited (counted as server CPU)`,
    );
  const row: Row = { ...r.row, command: `ua ${args.join(' ')}`, bytes: r.bytes, files: r.files };
  if (u.code !== 0) return failed(row, u);
  const ids = u.stdout
    .trim()
    .split('\n')
    .filter((l) => /^file-/.test(l));
  if (ids.length !== r.files)
    return { ...row, skipped: `ua printed ${ids.length} file IDs for ${r.files} files` };
  return {
    ...row,
    seconds: u.wallS,
    clientCpuS: u.userS + u.sysS,
    peakRssMiB: u.peakRssMiB,
    serverCpuS: s1.cpuS - s0.cpuS,
    serverPeakRssMiB: s1.peakRssMiB,
    note: perFileNote(r.files, u.userS + u.sysS, s1.cpuS - s0.cpuS, own(u.stderr)),
  };
}

/** ua's own summary ("… in 949ms, 269.8 MiB/s"): the transfer phase without process start-up. */
const own = (stderr: string) => /^Uploaded .* in (.*)$/m.exec(stderr)?.[1];

export function perFileNote(files: number, clientCpuS: number, serverCpuS: number, summary?: string): string {
  const parts = summary ? [`ua's timer: ${summary}`] : [];
  if (files > 1)
    parts.push(
      `CPU ms/file ${((clientCpuS * 1000) / files).toFixed(1)} client, ${((serverCpuS * 1000) / files).toFixed(1)} server`,
    );
  return parts.join('; ');
}

/** One fresh server per row: a second upload of the same local file would otherwise be resumed. */
export async function withTarget(
  start: () => Promise<UaTarget>,
  fn: (t: UaTarget) => Promise<Row>,
): Promise<Row> {
  const t = await start();
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

export type PlatformScenario =
  | 'sink-nc'
  | 'sink-nc-c1'
  | 'platform-nc'
  | 'platform-nc-wait'
  | 'platform-fastq'
  | 'platform-fastq-zlib'
  | 'platform-fastq-c1'
  | 'platform-1m'
  | 'platform-1m-gz'
  | 'platform-4k'
  | 'sink-1m'
  | 'sink-4k';

export async function platformRow(c: Ctx, which: PlatformScenario): Promise<Row> {
  const { big, fastq, medium, small, sizes } = c.data;
  // With --profile the server is profiled too (its profile is written when it stops).
  const serverArgs = c.profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${join(c.profileDir, `${which}-server`)}`]
    : [];
  const startUaPlatform = () => startPlatformProcess(serverArgs);
  const startSinkPlatform = () => startSinkProcess(serverArgs);
  const MB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  switch (which) {
    case 'sink-nc':
    case 'sink-nc-c1':
      return withTarget(startSinkPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua --do-not-compress${which === 'sink-nc-c1' ? ' -c 1 (classic default on 2 cores)' : ''} ${MB(sizes.bigBytes)} → sink platform (discards bodies)`,
            limit: 'bare',
            ...(which === 'sink-nc' ? { goalRatio: 0.85 } : {}),
          },
          args: ['--do-not-compress', ...(which === 'sink-nc-c1' ? ['-c', '1'] : []), big],
          files: 1,
          bytes: sizes.bigBytes,
        }),
      );
    case 'platform-nc':
    case 'platform-nc-wait':
      // -wait: ua exits only once the file is closed, so the server's close (assembly) is timed too.
      return withTarget(startUaPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua --do-not-compress${which === 'platform-nc-wait' ? ' --wait-on-close' : ''} ${MB(sizes.bigBytes)} → ua-platform`,
            limit: 'bare',
          },
          args: ['--do-not-compress', ...(which === 'platform-nc-wait' ? ['--wait-on-close'] : []), big],
          files: 1,
          bytes: sizes.bigBytes,
        }),
      );
    case 'platform-fastq':
    case 'platform-fastq-zlib':
    case 'platform-fastq-c1':
      return withTarget(startUaPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua FASTQ ${MB(sizes.fastqBytes)}, gzip -${c.level}${which === 'platform-fastq-zlib' ? ' --compressor zlib' : ' (libdeflate)'}${which === 'platform-fastq-c1' ? ' -c 1 (classic default on 2 cores)' : ''} → ua-platform`,
            limit: `${which === 'platform-fastq-zlib' ? 'zlib' : 'libdeflate'}${c.level}-2`,
            peers: [`pigz${c.level}-2`],
            ...(which === 'platform-fastq' ? { goalRatio: 0.9 } : {}),
          },
          // A small (quick) FASTQ would be one 75 MiB part, which one worker compresses alone.
          args: [
            '--compress-level',
            String(c.level),
            ...(which === 'platform-fastq-c1' ? ['-c', '1'] : []),
            ...(which === 'platform-fastq-zlib' ? ['--compressor', 'zlib'] : []),
            ...(sizes.fastqBytes < 300 * 2 ** 20 ? ['--chunk-size', '16M'] : []),
            fastq,
          ],
          files: 1,
          bytes: sizes.fastqBytes,
        }),
      );
    case 'platform-1m':
      return withTarget(startUaPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua ${sizes.mediumCount} × 1 MiB → ua-platform`,
            goalFilesPerS: 200, // issue 16's target
          },
          args: ['--do-not-compress', medium],
          files: countFiles(medium),
          bytes: sizes.mediumCount * sizes.mediumBytes,
        }),
      );
    case 'platform-1m-gz':
      return withTarget(startUaPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua ${sizes.mediumCount} × 1 MiB (random), gzip -${c.level} → ua-platform`,
          },
          args: ['--compress-level', String(c.level), medium],
          files: countFiles(medium),
          bytes: sizes.mediumCount * sizes.mediumBytes,
        }),
      );
    // The same file sets against the sink: what the client alone can do (server costs nothing).
    case 'sink-1m':
    case 'sink-4k': {
      const small4k = which === 'sink-4k';
      const dir = small4k ? small : medium;
      return withTarget(startSinkPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua ${small4k ? `${sizes.smallCount} × 4 KiB` : `${sizes.mediumCount} × 1 MiB`} → sink platform`,
            goalFilesPerS: small4k ? 400 : 150,
          },
          args: ['--do-not-compress', '--override-file-limit', dir],
          files: countFiles(dir),
          bytes: small4k ? sizes.smallCount * sizes.smallBytes : sizes.mediumCount * sizes.mediumBytes,
        }),
      );
    }
    case 'platform-4k':
      return withTarget(startUaPlatform, (target) =>
        runUa(c, {
          target,
          row: {
            id: which,
            group: 'platform',
            name: `ua ${sizes.smallCount} × 4 KiB → ua-platform`,
            goalFilesPerS: 600, // issue 16's target
          },
          args: ['--do-not-compress', '--override-file-limit', small],
          files: countFiles(small),
          bytes: sizes.smallCount * sizes.smallBytes,
        }),
      );
  }
}

export const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * node:zlib against libdeflate (WASM, npm `libdeflate`) on the bench FASTQ, level by level:
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/compressors.js <fastq> [--bytes 64M] [--piece 16M]
 *        [--levels 1,2,3,4,5,6,7,8,9] [--threads 2] [--compressors zlib,libdeflate]
 *
 * For each compressor and level: the first `--bytes` of the file compressed in `--piece` parts as the
 * workers do (one gzip member each, no padding: pieces are ≥ 5 MiB of output or the last), on this
 * thread (MB/s per core = bytes / CPU s, and wall), then through PartPool with `--threads` workers
 * (wall MB/s, CPU s/GB of the whole process). Output size is the sum of the members; "vs zlib" is
 * the size against node:zlib at the same level. Every member is checked to gunzip to its piece.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { gunzipSync } from 'node:zlib';
import {
  COMPRESSORS,
  gzipMember,
  libdeflateLoadError,
  loadLibdeflate,
  type Compressor,
} from '../src/work/gzip.js';
import { PartPool } from '../src/work/pool.js';
import { parseSize } from './limits.js';
import { throughPool } from './stage.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

function head(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.allocUnsafe(size);
    return b.subarray(0, readSync(fd, b, 0, size, 0));
  } finally {
    closeSync(fd);
  }
}

export interface CompressorFigures {
  compressor: Compressor;
  level: number;
  bytes: number;
  out: number;
  /** One thread: bytes per CPU second, and per wall second. */
  perCoreMBs: number;
  oneThreadMBs: number;
  /** PartPool with `threads` workers: wall MB/s and CPU s/GB of the process. */
  threads: number;
  poolMBs: number;
  poolCpuSPerGB: number;
}

async function measure(
  path: string,
  data: Buffer,
  piece: number,
  compressor: Compressor,
  level: number,
  pool: PartPool,
): Promise<CompressorFigures> {
  // One thread, in this process.
  gzipMember(data.subarray(0, piece), level, compressor); // warm up (JIT, WASM tiers)
  let out = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const members: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) {
    const m = gzipMember(data.subarray(at, Math.min(at + piece, data.length)), level, compressor);
    out += m.length;
    members.push(m);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  members.forEach((m, i) => {
    if (!gunzipSync(m).equals(data.subarray(i * piece, Math.min((i + 1) * piece, data.length))))
      throw new Error(`${compressor} -${level}: member ${i} does not gunzip to its piece`);
  });
  // Through the pool (file reads from the page cache, as ua's workers).
  const o = { compress: true, level, compressor };
  await throughPool(pool, path, Math.min(data.length, piece * pool.threads), piece, o);
  const p0 = process.cpuUsage();
  const q0 = process.hrtime.bigint();
  await throughPool(pool, path, data.length, piece, o);
  const pwall = Number(process.hrtime.bigint() - q0) / 1e9;
  const pu = process.cpuUsage(p0);
  return {
    compressor,
    level,
    bytes: data.length,
    out,
    perCoreMBs: data.length / 1e6 / cpu,
    oneThreadMBs: data.length / 1e6 / wall,
    threads: pool.threads,
    poolMBs: data.length / 1e6 / pwall,
    poolCpuSPerGB: (pu.user + pu.system) / 1e6 / (data.length / 1e9),
  };
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path || path.startsWith('--')) throw new Error('usage: compressors.js <fastq> [--bytes 64M] …');
  const bytes = parseSize(arg('bytes', '64M'));
  const piece = parseSize(arg('piece', '16M'));
  const levels = arg('levels', '1,2,3,4,5,6,7,8,9').split(',').map(Number);
  const threads = Number(arg('threads', '2'));
  const which = arg('compressors', COMPRESSORS.join(',')).split(',') as Compressor[];
  await loadLibdeflate();
  if (which.includes('libdeflate') && libdeflateLoadError())
    throw new Error(`libdeflate did not load: ${libdeflateLoadError()}`);
  const data = head(path, bytes);
  const pool = new PartPool({ threads });
  const load0 = loadavg();
  const rows: CompressorFigures[] = [];
  try {
    for (const level of levels)
      for (const c of which) {
        rows.push(await measure(path, data, piece, c, level, pool));
        const r = rows[rows.length - 1];
        process.stderr.write(
          `${c} -${level}: ${r.perCoreMBs.toFixed(1)} MB/s per core, ${r.poolMBs.toFixed(1)} MB/s on ${threads}\n`,
        );
      }
  } finally {
    await pool.destroy();
  }
  console.log(
    `\n${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; ${(data.length / 2 ** 20).toFixed(0)} MiB of ${path} in ${piece / 2 ** 20} MiB pieces; load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at end\n`,
  );
  console.log(
    `| level | compressor | MB/s per core | MB/s, 1 thread | MB/s, ${threads} workers | CPU s/GB, ${threads} workers | ratio | size vs zlib | speed vs zlib (per core) |`,
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const z = rows.find((x) => x.level === r.level && x.compressor === 'zlib');
    const size = z ? `${(((r.out - z.out) / z.out) * 100).toFixed(1)}%` : '';
    const speed = z ? `${(r.perCoreMBs / z.perCoreMBs).toFixed(2)}×` : '';
    console.log(
      `| ${r.level} | ${r.compressor} | ${r.perCoreMBs.toFixed(1)} | ${r.oneThreadMBs.toFixed(1)} | ${r.poolMBs.toFixed(1)} | ${r.poolCpuSPerGB.toFixed(1)} | ${(r.bytes / r.out).toFixed(3)} | ${size} | ${speed} |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

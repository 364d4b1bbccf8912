/**
 * Throughput of the agent's read → hash/compress stage (src/work), and the bare reference pipeline.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/stage.js [--size 512M] [--gzip-size 64M] [--part 64M] [--gzip-part 16M]
 *
 * Writes a synthetic FASTQ file to a temp dir (read back from the page cache, so this measures CPU,
 * not the disk), then measures: MD5 on the main thread over an in-memory buffer; MD5 of file parts
 * through PartPool with 1 and 2 threads (one reused buffer per loop, as the scheduler's buffer cache
 * does, and once with a fresh buffer per part to show what reuse saves); gzip (levels 1 and 6) + MD5
 * through PartPool with 1 and 2 threads; the bare pipeline (read → MD5 on 2 plain workers → undici
 * PUT to a local server that discards bodies). CPU is the whole process (all threads).
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Compressor } from '../src/work/gzip.js';
import { PartPool } from '../src/work/pool.js';
import { runBarePipeline } from './bare-pipeline.js';
import { fastqBytes, writeFastqFile } from './fastq.js';

const MiB = 1024 * 1024;

/** `--name 512M` style sizes (K, M, G are binary units); a bare number is bytes. */
function sizeArg(name: string, dflt: string): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : dflt;
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(v ?? '');
  if (!m) throw new Error(`bad size for --${name}: ${v}`);
  const unit = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

interface Row {
  stage: string;
  threads: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  out?: number;
}

async function measure(
  stage: string,
  threads: number,
  bytes: number,
  fn: () => Promise<number | void>,
): Promise<Row> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { stage, threads, bytes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, out: out ?? undefined };
}

export interface PoolLoopOptions {
  compress: boolean;
  level: number;
  freshBuffers?: boolean;
  compressor?: Compressor;
  /** Compressed parts under this are padded (default 5 MiB, the platform's minimum; 0: never). */
  minPartSize?: number;
}

/**
 * Runs every part of [0, total) through the pool, one loop per thread, each reusing one buffer. The
 * workers read the file through one descriptor, as read/source.ts opens it for an upload (a job
 * without `fd` takes the bytes already in its buffer).
 */
export async function throughPool(
  pool: PartPool,
  path: string,
  total: number,
  partSize: number,
  o: PoolLoopOptions,
): Promise<number> {
  const fd = openSync(path, 'r');
  try {
    return await partsThrough(pool, fd, path, total, partSize, o);
  } finally {
    closeSync(fd);
  }
}

async function partsThrough(
  pool: PartPool,
  fd: number,
  path: string,
  total: number,
  partSize: number,
  o: PoolLoopOptions,
): Promise<number> {
  let next = 0;
  let sent = 0;
  const loop = async () => {
    let buffer = new ArrayBuffer(partSize);
    for (let offset = next; offset < total; offset = next) {
      next += partSize;
      const length = Math.min(partSize, total - offset);
      if (o.freshBuffers) buffer = new ArrayBuffer(partSize);
      const r = await pool.run({
        fd,
        path,
        offset,
        length,
        buffer,
        compress: o.compress,
        level: o.level,
        ...(o.compressor ? { compressor: o.compressor } : {}),
        last: offset + length >= total,
        minPartSize: o.minPartSize ?? 5 * MiB,
      });
      buffer = r.buffer;
      sent += r.size;
    }
  };
  await Promise.all(Array.from({ length: pool.threads }, loop));
  return sent;
}

async function main(): Promise<void> {
  const md5Bytes = sizeArg('size', '512M');
  const gzipBytes = sizeArg('gzip-size', '64M');
  const partSize = sizeArg('part', '64M');
  const gzipPart = sizeArg('gzip-part', '16M');
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-stage-'));
  const path = join(dir, 'reads.fastq');
  try {
    const fileBytes = Math.max(md5Bytes, gzipBytes);
    writeFastqFile(path, fileBytes);
    const rows: Row[] = [];

    const mem = fastqBytes(partSize);
    rows.push(
      await measure('MD5, main thread, in memory', 1, md5Bytes, async () => {
        for (let done = 0; done < md5Bytes; done += partSize) createHash('md5').update(mem).digest('hex');
      }),
    );
    for (const threads of [1, 2]) {
      const pool = new PartPool({ threads });
      await throughPool(pool, path, partSize * threads, partSize, { compress: false, level: 6 }); // warm up workers and page cache
      rows.push(
        await measure('MD5 via PartPool, reused buffers', threads, md5Bytes, () =>
          throughPool(pool, path, md5Bytes, partSize, { compress: false, level: 6 }),
        ),
      );
      if (threads === 2) {
        rows.push(
          await measure('MD5 via PartPool, fresh buffer per part', threads, md5Bytes, () =>
            throughPool(pool, path, md5Bytes, partSize, { compress: false, level: 6, freshBuffers: true }),
          ),
        );
      }
      for (const level of [1, 6]) {
        await throughPool(pool, path, gzipPart * threads, gzipPart, { compress: true, level });
        rows.push(
          await measure(`gzip -${level} + MD5 via PartPool`, threads, gzipBytes, () =>
            throughPool(pool, path, gzipBytes, gzipPart, { compress: true, level }),
          ),
        );
      }
      await pool.destroy();
    }
    await runBarePipeline(path, partSize, 2); // warm up
    rows.push(
      await measure(
        'bare: read → MD5 (2 workers) → undici PUT, local sink',
        2,
        fileBytes,
        async () => void (await runBarePipeline(path, partSize, 2)),
      ),
    );

    console.log(
      `\n${cpus().length} cores, ${cpus()[0]?.model ?? '?'}; Node ${process.version}; parts ${partSize / MiB} MiB (MD5), ${gzipPart / MiB} MiB (gzip); synthetic FASTQ; ratio = raw / sent bytes, so it includes the padding of parts under 5 MiB\n`,
    );
    console.log('| stage | threads | MB | MB/s | CPU s/GB | ratio |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const mb = r.bytes / 1e6;
      const ratio = r.out ? (r.bytes / r.out).toFixed(2) : '';
      console.log(
        `| ${r.stage} | ${r.threads} | ${mb.toFixed(0)} | ${(mb / r.seconds).toFixed(0)} | ${(r.cpuSeconds / (r.bytes / 1e9)).toFixed(2)} | ${ratio} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Importable (bench/limits.ts reuses throughPool); runs only as the entry script.
if (import.meta.url === `file://${process.argv[1]}`) await main();

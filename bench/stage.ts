/**
 * Throughput of the agent's read → hash/compress stage (src/work).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/stage.js [--md5-mib 512] [--gzip-mib 64] [--part-mib 64] [--gzip-part-mib 32]
 *
 * Writes a synthetic FASTQ file to a temp dir (read back from the page cache, so this measures CPU,
 * not the disk), then measures: MD5 on the main thread over an in-memory buffer; MD5 of file parts
 * through PartPool with 1 and 2 threads; gzip (levels 1 and 6) + MD5 through PartPool with 2 threads.
 * Each pool loop owns one reused buffer, as the scheduler's buffer cache does. CPU is the whole
 * process (all threads), so CPU s/GB above 1 s per MB/s-equivalent means parallel work.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartPool } from '../src/work/pool.js';
import { fastqBytes, writeFastqFile } from './fastq.js';

const MiB = 1024 * 1024;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
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

/** Runs every part of [0, total) through the pool, `loops` at a time, each loop reusing one buffer. */
async function throughPool(
  pool: PartPool,
  path: string,
  total: number,
  partSize: number,
  compress: boolean,
  level: number,
): Promise<number> {
  let next = 0;
  let sent = 0;
  const loop = async () => {
    let buffer = new ArrayBuffer(partSize);
    for (;;) {
      const offset = next;
      if (offset >= total) return;
      next += partSize;
      const length = Math.min(partSize, total - offset);
      const r = await pool.run({
        path,
        offset,
        length,
        buffer,
        compress,
        level,
        last: offset + length >= total,
        minPartSize: 5 * MiB,
      });
      buffer = r.buffer;
      sent += r.size;
    }
  };
  await Promise.all(Array.from({ length: pool.threads }, loop));
  return sent;
}

async function main(): Promise<void> {
  const md5Bytes = arg('md5-mib', 512) * MiB;
  const gzipBytes = arg('gzip-mib', 64) * MiB;
  const partSize = arg('part-mib', 64) * MiB;
  const gzipPart = arg('gzip-part-mib', 32) * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-stage-'));
  const path = join(dir, 'reads.fastq');
  try {
    writeFastqFile(path, Math.max(md5Bytes, gzipBytes));
    const rows: Row[] = [];

    const mem = fastqBytes(partSize);
    rows.push(
      await measure('MD5, main thread, in memory', 1, md5Bytes, async () => {
        for (let done = 0; done < md5Bytes; done += partSize) createHash('md5').update(mem).digest('hex');
      }),
    );
    for (const threads of [1, 2]) {
      const pool = new PartPool({ threads });
      await throughPool(pool, path, partSize * threads, partSize, false, 6); // warm up workers and page cache
      rows.push(
        await measure('MD5 via PartPool (file parts)', threads, md5Bytes, () =>
          throughPool(pool, path, md5Bytes, partSize, false, 6),
        ),
      );
      await pool.destroy();
    }
    const pool = new PartPool({ threads: 2 });
    for (const level of [1, 6]) {
      await throughPool(pool, path, gzipPart * 2, gzipPart, true, level);
      rows.push(
        await measure(`gzip -${level} + MD5 via PartPool`, 2, gzipBytes, () =>
          throughPool(pool, path, gzipBytes, gzipPart, true, level),
        ),
      );
    }
    await pool.destroy();

    console.log(
      `\n${cpus().length} cores, ${cpus()[0]?.model ?? '?'}; Node ${process.version}; parts ${partSize / MiB} MiB (MD5), ${gzipPart / MiB} MiB (gzip); synthetic FASTQ\n`,
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

await main();

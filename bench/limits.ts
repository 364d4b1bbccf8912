/**
 * The machine's reference limits, one per process so each gets its own CPU and peak-RSS figures:
 *
 *   node dist/bench/limits.js md5  <file> [--threads 2] [--part 64M]     MD5 of parts via PartPool
 *   node dist/bench/limits.js gzip <file> [--threads 2] [--level 6] [--part 16M] [--compressor zlib]
 *                                                        gzip + MD5 via PartPool (no padding: `out` is the members)
 *   node dist/bench/limits.js put  <bytes> [--part 64M] [--depth 4]      undici PUT to a local discarding server
 *   node dist/bench/limits.js bare <file> [--part 64M] [--workers 2]     read → MD5 (workers) → undici PUT
 *   node dist/bench/limits.js disk <bytes> [--part 75M]                  write part files + fsync, as ua-platform stores parts
 *
 * Prints one JSON line {bytes, seconds, cpuS, out?} for the timed section only (workers are warmed up
 * first). PUT and bare run their discarding server in this process, so its CPU is included.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import type { Compressor } from '../src/work/compressors.js';
import { PartPool } from '../src/work/pool.js';
import { runBarePipeline } from './bare-pipeline.js';
import { throughPool } from './stage.js';

export interface LimitResult {
  bytes: number;
  seconds: number;
  cpuS: number;
  /** Bytes out of the stage (compressed size), where it differs. */
  out?: number;
}

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(v);
  if (!m) throw new Error(`bad size: ${v}`);
  return Math.round(Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase()));
}

async function timed(bytes: number, fn: () => Promise<number | void>): Promise<LimitResult> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { bytes, seconds, cpuS: (cpu.user + cpu.system) / 1e6, ...(typeof out === 'number' ? { out } : {}) };
}

async function poolLimit(file: string, compress: boolean): Promise<LimitResult> {
  const threads = Number(flag('threads', '2'));
  const level = Number(flag('level', '6'));
  const part = parseSize(flag('part', compress ? '16M' : '64M'));
  // --bytes: only the file's first N bytes (zlib's rate does not change with the total).
  const size = Math.min(statSync(file).size, parseSize(flag('bytes', String(Number.MAX_SAFE_INTEGER))));
  const compressor = flag('compressor', 'zlib') as Compressor;
  const pool = new PartPool({ threads });
  try {
    // No padding: `out` is what the compressor made (16 MiB of FASTQ compresses under 5 MiB).
    const o = { compress, level, compressor, minPartSize: 0 };
    await throughPool(pool, file, Math.min(size, part * threads), part, o); // warm up workers, page cache
    return await timed(size, () => throughPool(pool, file, size, part, o));
  } finally {
    await pool.destroy();
  }
}

/** PUTs `bytes` as parts of one reused buffer to a discarding server: what loopback HTTP costs. */
async function putLimit(bytes: number): Promise<LimitResult> {
  const part = parseSize(flag('part', '64M'));
  const depth = Number(flag('depth', '4'));
  const server = createServer((req, res) => req.resume().on('end', () => res.end())).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/part`;
  const agent = new Agent({ connections: depth, bodyTimeout: 0, headersTimeout: 0 });
  const body = new Uint8Array(part).fill(7);
  const send = async (total: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: depth }, async () => {
        while (next < total) {
          const len = Math.min(part, total - next);
          next += len;
          const res = await request(url, { method: 'PUT', dispatcher: agent, body: body.subarray(0, len) });
          await res.body.dump();
        }
      }),
    );
  };
  try {
    await send(part * depth);
    return await timed(bytes, () => send(bytes));
  } finally {
    await agent.close();
    server.close();
  }
}

/** What the disk under the platform's data directory takes: one file per part, written in 1 MiB chunks, fsynced. */
async function diskLimit(bytes: number): Promise<LimitResult> {
  const part = parseSize(flag('part', '75M'));
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-disk-'));
  const chunk = randomFillSync(Buffer.alloc(1024 * 1024));
  try {
    return await timed(bytes, async () => {
      for (let off = 0, n = 0; off < bytes; off += part, n++) {
        const f = await open(join(dir, `part-${n}`), 'w');
        for (let w = 0, len = Math.min(part, bytes - off); w < len; w += chunk.length)
          await f.write(chunk, 0, Math.min(chunk.length, len - w));
        await f.sync();
        await f.close();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [kind, target] = process.argv.slice(2);
  let r: LimitResult;
  if (kind === 'md5') r = await poolLimit(target, false);
  else if (kind === 'gzip') r = await poolLimit(target, true);
  else if (kind === 'put') r = await putLimit(parseSize(target));
  else if (kind === 'disk') r = await diskLimit(parseSize(target));
  else if (kind === 'bare') {
    const part = parseSize(flag('part', '64M'));
    const workers = Number(flag('workers', '2'));
    // --cold: one run, as ua runs (the caller then times the whole process, start-up included).
    if (!process.argv.includes('--cold')) await runBarePipeline(target, part, workers); // warm JIT
    const b = await runBarePipeline(target, part, workers);
    r = { bytes: b.bytes, seconds: b.seconds, cpuS: b.cpuSeconds };
  } else throw new Error(`unknown limit ${kind}: md5, gzip, put, bare or disk`);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

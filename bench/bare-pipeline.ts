/**
 * The bare reference pipeline: read → MD5 on worker threads → HTTP PUT to a local server that
 * discards bodies, with no agent code at all (no piscina, no scheduler, no budget). It is the
 * ceiling the real pipeline is compared with on this machine.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/bare-pipeline.js <file> [--part-mib 64] [--workers 2] [--depth 4]
 */
import { statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Agent, request } from 'undici';

// Each worker reads its part with positioned reads and hashes it; buffers move both ways.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
parentPort.on('message', ({ id, path, offset, len, buf }) => {
  const view = new Uint8Array(buf, 0, len);
  const fd = openSync(path, 'r');
  for (let got = 0; got < len; ) got += readSync(fd, view, got, len - got, offset + got);
  closeSync(fd);
  parentPort.postMessage({ id, buf, md5: createHash('md5').update(view).digest('hex') }, [buf]);
});`;

export interface BareResult {
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

/**
 * Sends `path` in parts: `workers` threads read and hash, `depth` parts are in flight (each loop owns
 * one reused buffer), the main thread only PUTs. The sink runs in this process, so its CPU counts.
 */
export async function runBarePipeline(
  path: string,
  partSize: number,
  workers = 2,
  depth = 2 * workers,
): Promise<BareResult> {
  const server = createServer((req, res) => req.resume().on('end', () => res.end())).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/part`;
  const agent = new Agent({ connections: depth, bodyTimeout: 0, headersTimeout: 0 });
  const replies = new Map<number, (m: { buf: ArrayBuffer; md5: string }) => void>();
  const pool = Array.from({ length: workers }, () =>
    new Worker(WORKER, { eval: true }).on('message', (m: { id: number; buf: ArrayBuffer; md5: string }) => {
      replies.get(m.id)!(m);
      replies.delete(m.id);
    }),
  );
  const size = statSync(path).size;
  let next = 0;
  let ids = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const loop = async () => {
    let buf = new ArrayBuffer(partSize);
    for (let offset = next; offset < size; offset = next) {
      next += partSize;
      const len = Math.min(partSize, size - offset);
      const id = ids++;
      const done = new Promise<{ buf: ArrayBuffer; md5: string }>((r) => replies.set(id, r));
      pool[id % workers].postMessage({ id, path, offset, len, buf }, [buf]);
      const r = await done;
      buf = r.buf;
      const res = await request(url, {
        method: 'PUT',
        dispatcher: agent,
        body: new Uint8Array(buf, 0, len),
        headers: { 'content-md5': r.md5 },
      });
      await res.body.dump();
    }
  };
  try {
    await Promise.all(Array.from({ length: depth }, loop));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
    await agent.close();
    server.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    bytes: size,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, d: number) =>
    process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : d;
  const workers = arg('workers', 2);
  const r = await runBarePipeline(
    process.argv[2],
    arg('part-mib', 64) * 1024 * 1024,
    workers,
    arg('depth', 2 * workers),
  );
  console.log(
    `${(r.bytes / 1e6 / r.seconds).toFixed(0)} MB/s, ${((r.cpuSeconds * 1e9) / r.bytes).toFixed(2)} CPU s/GB`,
  );
}

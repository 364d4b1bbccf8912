/**
 * The bare reference pipeline: read → MD5 on worker threads → HTTP PUT to a local server that
 * discards bodies, with no agent code at all (no piscina, no scheduler, no budget). It is the
 * ceiling the real pipeline is compared with on this machine.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/bare-pipeline.js <file> [--part-mib 64] [--threads 2]
 */
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Agent, request } from 'undici';

const MD5_WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ buf, len }) => {
  const md5 = createHash('md5').update(new Uint8Array(buf, 0, len)).digest('hex');
  parentPort.postMessage({ buf, md5 }, [buf]);
});`;

export interface BareResult {
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

/** Streams `path` through `threads` MD5 workers and PUTs every part; `threads` parts in flight. */
export async function runBarePipeline(path: string, partSize: number, threads: number): Promise<BareResult> {
  const server = createServer((req, res) => req.resume().on('end', () => res.end())).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/part`;
  const agent = new Agent({ connections: threads, bodyTimeout: 0, headersTimeout: 0 });
  const fh = await open(path, 'r');
  const size = (await fh.stat()).size;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const loop = async () => {
    const worker = new Worker(MD5_WORKER, { eval: true });
    let buf = new ArrayBuffer(partSize); // reused for every part this loop sends
    try {
      for (let offset = next; offset < size; offset = next) {
        next += partSize;
        const len = Math.min(partSize, size - offset);
        for (let got = 0; got < len;)
          got += (await fh.read(new Uint8Array(buf, got, len - got), 0, len - got, offset + got)).bytesRead;
        const done = new Promise<{ buf: ArrayBuffer; md5: string }>((r) => worker.once('message', r));
        worker.postMessage({ buf, len }, [buf]);
        const { buf: back, md5 } = await done;
        buf = back;
        const res = await request(url, {
          method: 'PUT',
          dispatcher: agent,
          body: new Uint8Array(buf, 0, len),
          headers: { 'content-md5': md5, 'content-length': String(len) },
        });
        await res.body.dump();
      }
    } finally {
      await worker.terminate();
    }
  };
  try {
    await Promise.all(Array.from({ length: threads }, loop));
  } finally {
    await fh.close();
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
  const r = await runBarePipeline(process.argv[2], arg('part-mib', 64) * 1024 * 1024, arg('threads', 2));
  console.log(
    `${(r.bytes / 1e6 / r.seconds).toFixed(0)} MB/s, ${((r.cpuSeconds * 1e9) / r.bytes).toFixed(2)} CPU s/GB`,
  );
}

import { Worker } from 'node:worker_threads';

/**
 * MD5 of a file, computed on a helper thread. Hashing request bodies on the event loop took about
 * half of the server's main-thread time at ingest speed, and streaming chunks to a worker cost a
 * copy per chunk; instead the part is written first, then one shared worker reads it back (from
 * the page cache) and hashes it. The main thread sends one message per part.
 */

// Inline (eval) so it runs the same from TypeScript sources under vitest and from dist/.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const buf = Buffer.allocUnsafe(4 << 20);
parentPort.on('message', ({ id, path }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const h = createHash('md5');
    let n;
    while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
    parentPort.postMessage({ id, md5: h.digest('hex') });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve(md5: string): void; reject(err: Error): void }>();

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.on('message', (m: { id: number; md5?: string; error?: string }) => {
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.md5 !== undefined) p?.resolve(m.md5);
    else p?.reject(new Error(`md5 of a stored part failed: ${m.error}`));
  });
  const fail = (err: Error) => {
    worker = undefined;
    for (const p of waiting.values()) p.reject(err);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`md5 worker exited with code ${code}`)));
  w.unref(); // after the listeners (adding one re-refs): never keeps a process alive on its own
  worker = w;
  return w;
}

/** The hex MD5 of a file's bytes, hashed off the event loop. */
export function md5OfFile(path: string): Promise<string> {
  const w = getWorker();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, path });
  });
}

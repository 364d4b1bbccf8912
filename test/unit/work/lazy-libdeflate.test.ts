import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/files.js';
import { buildPartWorker } from './build-worker.js';

/**
 * libdeflate's WebAssembly loads only in a worker thread that compresses a part with it, on the first
 * such part (work/gzip.ts). Seen from outside: a child process whose module hook (it sees every
 * thread's imports) writes a line to a file each time `libdeflate` is resolved.
 */
describe('libdeflate loads lazily in the part workers', () => {
  const tmp = tempDir('ua-lazy-');
  let worker: ReturnType<typeof buildPartWorker>;
  const hook = join(tmp.dir, 'hook.mjs');
  const script = join(tmp.dir, 'pool.mjs');

  beforeAll(() => {
    worker = buildPartWorker();
    const resolver = `import { appendFileSync } from 'node:fs'; export async function resolve(s, c, next) { if (s === 'libdeflate') appendFileSync(process.env.MARKS, 'x\\n'); return next(s, c); }`;
    writeFileSync(
      hook,
      `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolver)}));\n`,
    );
    // Two threads, six parts of 256 KiB (each goes to a worker), then the pool is destroyed.
    writeFileSync(
      script,
      [
        `import { Piscina } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'node_modules/piscina/dist/esm-wrapper.mjs')).href)};`,
        `import { gunzipSync } from 'node:zlib';`,
        `const [compress, compressor] = [process.argv[2] === 'compress', process.argv[3]];`,
        `const pool = new Piscina({ filename: ${JSON.stringify(worker.filename)}, minThreads: 2, maxThreads: 2 });`,
        `const src = Buffer.from('@r\\nACGTTGCA\\n+\\nFFFFFFFF\\n'.repeat(11_000)).subarray(0, 256 * 1024);`,
        `const outs = await Promise.all(Array.from({ length: 6 }, () => {`,
        `  const buffer = new ArrayBuffer(src.length); new Uint8Array(buffer).set(src);`,
        `  return pool.run({ buffer, offset: 0, length: src.length, compress, level: 6, last: true, minPartSize: 5 << 20, compressor }, { transferList: [buffer] });`,
        `}));`,
        `for (const o of outs) if (!o.ok || (compress && !gunzipSync(Buffer.from(o.compressed)).equals(src))) throw new Error('bad part');`,
        `await pool.destroy();`,
      ].join('\n'),
    );
  });
  afterAll(() => {
    worker?.cleanup();
    tmp.cleanup();
  });

  const loads = (mode: string, compressor: string): number => {
    const marks = join(tmp.dir, `marks-${mode}-${compressor}`);
    execFileSync(process.execPath, ['--import', pathToFileURL(hook).href, script, mode, compressor], {
      env: { ...process.env, MARKS: marks },
      stdio: 'pipe',
    });
    return existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter(Boolean).length : 0;
  };

  it('workers that only hash, or compress with node:zlib, never load it', () => {
    expect(loads('hash', 'libdeflate')).toBe(0);
    expect(loads('compress', 'zlib')).toBe(0);
  });

  it('a worker compressing with it loads it once, on its first such part', () => {
    const n = loads('compress', 'libdeflate');
    // Six parts on two threads: one load per thread that took a part, never one per part.
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(2);
  });
});

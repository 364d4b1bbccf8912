import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A temp directory removed by `cleanup()`. */
export function tempDir(prefix = 'ua-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `size` random bytes (incompressible) to `path`, creating parent dirs; returns the bytes. */
export function writeRandomFile(path: string, size: number): Buffer {
  mkdirSync(dirname(path), { recursive: true });
  const data = randomBytes(size);
  writeFileSync(path, data);
  return data;
}

/** Writes compressible text (FASTQ-like records) of about `size` bytes; returns the bytes. */
export function writeTextFile(path: string, size: number, seed = 1): Buffer {
  mkdirSync(dirname(path), { recursive: true });
  const bases = 'ACGT';
  const quals = 'FFFF:,F';
  let s = seed >>> 0;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 16;
  const parts: string[] = [];
  let n = 0;
  for (let r = 0; n < size; r++) {
    let seq = '';
    let q = '';
    for (let i = 0; i < 150; i++) {
      seq += bases[rnd() & 3];
      q += quals[rnd() % quals.length];
    }
    const rec = `@read${r} 1:N:0:ACGT\n${seq}\n+\n${q}\n`;
    parts.push(rec);
    n += rec.length;
  }
  const data = Buffer.from(parts.join('')).subarray(0, size);
  writeFileSync(path, data);
  return data;
}

export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

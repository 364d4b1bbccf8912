/**
 * Benchmark data, generated once and cached under bench/data/ (gitignored): a random file, a synthetic
 * FASTQ, and two folders of many small random files. Names carry the sizes, so quick and full runs
 * keep separate copies; a file is written under a temporary name and renamed when complete, a folder
 * gets a `.complete` marker last, so an interrupted generation is redone, never trusted.
 */
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFastqFile } from './fastq.js';

const MiB = 1024 * 1024;

/** bench/data/ next to this file's source (dist/bench/ → bench/data). */
export const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'data');

export interface DataSizes {
  bigBytes: number;
  fastqBytes: number;
  mediumCount: number;
  mediumBytes: number;
  smallCount: number;
  smallBytes: number;
}

export const FULL_SIZES: DataSizes = {
  bigBytes: 2048 * MiB,
  fastqBytes: 2048 * MiB,
  mediumCount: 1000,
  mediumBytes: MiB,
  smallCount: 10_000,
  smallBytes: 4096,
};

export const QUICK_SIZES: DataSizes = {
  bigBytes: 256 * MiB,
  fastqBytes: 48 * MiB,
  mediumCount: 200,
  mediumBytes: MiB,
  smallCount: 1000,
  smallBytes: 4096,
};

export interface BenchData {
  big: string;
  fastq: string;
  /** Folders holding only the small files (upload them with the folder as the input). */
  medium: string;
  small: string;
  sizes: DataSizes;
}

export function sizeLabel(bytes: number): string {
  if (bytes % (1024 * MiB) === 0) return `${bytes / 1024 / MiB}G`;
  if (bytes % MiB === 0) return `${bytes / MiB}M`;
  if (bytes % 1024 === 0) return `${bytes / 1024}K`;
  return `${bytes}B`;
}

function randomFile(path: string, size: number): void {
  const piece = Buffer.allocUnsafe(Math.min(size, 16 * MiB) || 1);
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(piece.length, size - done);
      randomFillSync(piece, 0, n);
      for (let off = 0; off < n;) off += writeSync(fd, piece, off, n - off);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

function cachedFile(
  path: string,
  size: number,
  write: (tmp: string) => void,
  log: (s: string) => void,
): string {
  if (existsSync(path) && statSync(path).size === size) return path;
  log(`generating ${path} (${sizeLabel(size)}) …`);
  const tmp = `${path}.partial`;
  write(tmp);
  renameSync(tmp, path);
  return path;
}

export function ensureFolder(path: string, count: number, size: number, log: (s: string) => void): string {
  const marker = join(path, '.complete');
  if (existsSync(marker)) return join(path, 'files');
  log(`generating ${path} (${count} × ${sizeLabel(size)}) …`);
  rmSync(path, { recursive: true, force: true });
  const files = join(path, 'files');
  mkdirSync(files, { recursive: true });
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < count; i++) {
    randomFillSync(buf);
    writeFileSync(join(files, `f${String(i).padStart(5, '0')}.bin`), buf);
  }
  writeFileSync(marker, '');
  return files;
}

/** Makes (or finds) every data set for `sizes`. */
export function ensureData(sizes: DataSizes, log: (s: string) => void = () => undefined): BenchData {
  mkdirSync(DATA_DIR, { recursive: true });
  const big = join(DATA_DIR, `random-${sizeLabel(sizes.bigBytes)}.bin`);
  const fastq = join(DATA_DIR, `reads-${sizeLabel(sizes.fastqBytes)}.fastq`);
  return {
    big: cachedFile(big, sizes.bigBytes, (tmp) => randomFile(tmp, sizes.bigBytes), log),
    fastq: cachedFile(fastq, sizes.fastqBytes, (tmp) => writeFastqFile(tmp, sizes.fastqBytes), log),
    medium: ensureFolder(
      join(DATA_DIR, `files-${sizes.mediumCount}x${sizeLabel(sizes.mediumBytes)}`),
      sizes.mediumCount,
      sizes.mediumBytes,
      log,
    ),
    small: ensureFolder(
      join(DATA_DIR, `files-${sizes.smallCount}x${sizeLabel(sizes.smallBytes)}`),
      sizes.smallCount,
      sizes.smallBytes,
      log,
    ),
    sizes,
  };
}

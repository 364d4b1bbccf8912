/**
 * Part math (ua-behavior §2.3): the classic 10,000-part chunk-size raise, the byte ranges of a file's
 * parts, and for stdin (length unknown) a part size that grows so a stream is not capped at
 * 10,000 × chunk size.
 */

/** One part of a local file: API index (1-based) and the byte range [offset, offset + length). */
export interface PartSpec {
  index: number;
  offset: number;
  length: number;
  last: boolean;
}

export const MAX_PARTS = 10_000;
const GiB = 1024 * 1024 * 1024;
/**
 * Largest raw part a stdin stream grows to: 4 GiB leaves room under the platform's 5 GiB part limit
 * for gzip's worst-case expansion of incompressible data.
 */
export const MAX_STREAM_PART = 4 * GiB;
/** Parts per step of the stdin growth schedule. */
export const STREAM_GROWTH_STEP = 1000;

/** The classic rule: raise the chunk size to ceil(size / maxParts) when the file would need more parts. */
export function effectiveChunkSize(size: number, chunkSize: number, maxParts = MAX_PARTS): number {
  return chunkSize * maxParts < size ? Math.ceil(size / maxParts) : chunkSize;
}

/** Parts of a file of `size` bytes cut every `chunkSize` bytes; an empty file is one empty part 1. */
export function partsOf(size: number, chunkSize: number): PartSpec[] {
  if (size === 0) return [{ index: 1, offset: 0, length: 0, last: true }];
  if (!(chunkSize > 0)) throw new RangeError(`chunk size must be positive: ${chunkSize}`);
  const parts: PartSpec[] = [];
  for (let offset = 0, index = 1; offset < size; offset += chunkSize, index++) {
    const length = Math.min(chunkSize, size - offset);
    parts.push({ index, offset, length, last: offset + length >= size });
  }
  return parts;
}

/**
 * Raw size of stdin part `index` (1-based). Parts 1–1000 use `chunkSize` (so streams up to
 * 1000 × chunk are cut exactly as the classic agent cut them), then the size doubles every 1000
 * parts, never above MAX_STREAM_PART (nor below chunkSize). With the 75 MiB default the 10,000 parts
 * hold about 24 TiB; with the 5 MiB minimum about 5 TiB. Every non-last part stays ≥ chunkSize ≥ 5 MiB.
 */
export function streamPartSize(index: number, chunkSize: number): number {
  if (!Number.isInteger(index) || index < 1) throw new RangeError(`part index must be ≥ 1: ${index}`);
  const doublings = Math.floor((index - 1) / STREAM_GROWTH_STEP);
  return Math.max(chunkSize, Math.min(chunkSize * 2 ** doublings, MAX_STREAM_PART));
}

/** Total bytes a stream can carry in `maxParts` parts under streamPartSize(). */
export function streamCapacity(chunkSize: number, maxParts = MAX_PARTS): number {
  let total = 0;
  for (let i = 1; i <= maxParts; i += STREAM_GROWTH_STEP) {
    total += streamPartSize(i, chunkSize) * Math.min(STREAM_GROWTH_STEP, maxParts - i + 1);
  }
  return total;
}

/**
 * One part of a planned file as the worker pool reads, hashes and compresses it. The scheduler sends
 * parts built here, and `--verify` and direct mode's resume re-read earlier parts with the same jobs,
 * so both see the bytes that were sent.
 */
import type { FilePlan } from '../plan/plan.js';
import type { PartSpec } from '../plan/parts.js';
import type { PartSource } from '../read/source.js';
import type { Compressor } from '../work/compressors.js';
import type { PartJob } from '../work/pool.js';

export interface PartJobOptions {
  compressLevel: number;
  /** Which deflate compresses (work/gzip.ts); the workers' default when unset. */
  compressor?: Compressor;
  /** Non-last compressed parts are padded up to this (the platform's minimum part size). */
  minPartSize: number;
}

/** What a part of `length` bytes holds of the byte budget while in flight. */
export function partCost(plan: FilePlan, length: number): number {
  // Compressed output of incompressible data can exceed the input slightly; budget for both.
  return plan.compress ? length * 2 + 64 * 1024 : length;
}

/**
 * The pool job for part `part` of `plan` in `buffer`: read from `source` (the planned file's open
 * descriptor, or a tar batch's segments), or (no source: stdin) with the bytes already in `buffer`;
 * compressed as the plan says.
 */
export function partJob(
  plan: FilePlan,
  part: Pick<PartSpec, 'offset' | 'length' | 'last'>,
  buffer: ArrayBuffer,
  o: PartJobOptions,
  source: PartSource | undefined,
): PartJob {
  return {
    ...(source ? source.reader(part.offset, part.length) : {}),
    offset: part.offset,
    length: part.length,
    buffer,
    compress: plan.compress,
    level: o.compressLevel,
    ...(o.compressor ? { compressor: o.compressor } : {}),
    last: part.last,
    minPartSize: o.minPartSize,
  };
}

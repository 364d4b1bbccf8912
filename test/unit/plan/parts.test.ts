import { describe, expect, it } from 'vitest';
import {
  effectiveChunkSize,
  MAX_STREAM_PART,
  partsOf,
  streamCapacity,
  streamPartSize,
} from '../../../src/plan/parts.js';

const MiB = 1024 * 1024;
const TiB = 1024 ** 4;

describe('partsOf', () => {
  it('an empty file is one empty part 1', () => {
    expect(partsOf(0, 5 * MiB)).toEqual([{ index: 1, offset: 0, length: 0, last: true }]);
  });
  it('one byte is one part', () => {
    expect(partsOf(1, 5 * MiB)).toEqual([{ index: 1, offset: 0, length: 1, last: true }]);
  });
  it('exactly one chunk is one full part', () => {
    expect(partsOf(5 * MiB, 5 * MiB)).toEqual([{ index: 1, offset: 0, length: 5 * MiB, last: true }]);
  });
  it('chunk + 1 is a full part and a one-byte last part', () => {
    expect(partsOf(5 * MiB + 1, 5 * MiB)).toEqual([
      { index: 1, offset: 0, length: 5 * MiB, last: false },
      { index: 2, offset: 5 * MiB, length: 1, last: true },
    ]);
  });
  it('parts tile the file exactly', () => {
    const size = 10 * 7 + 3;
    const parts = partsOf(size, 7);
    expect(parts).toHaveLength(11);
    expect(parts.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(size);
    parts.forEach((p, i) => expect(p.offset).toBe(i * 7));
    expect(parts.filter((p) => p.last)).toEqual([parts[10]]);
  });
});

describe('effectiveChunkSize (10,000-part rule)', () => {
  it('keeps the chunk size while 10,000 parts suffice', () => {
    expect(effectiveChunkSize(0, 5 * MiB)).toBe(5 * MiB);
    expect(effectiveChunkSize(10_000 * 5 * MiB, 5 * MiB)).toBe(5 * MiB);
  });
  it('raises it to ceil(size / 10,000) beyond', () => {
    const size = 10_000 * 5 * MiB + 1;
    const cs = effectiveChunkSize(size, 5 * MiB);
    expect(cs).toBe(Math.ceil(size / 10_000));
    expect(cs).toBe(5 * MiB + 1);
    expect(partsOf(size, cs)).toHaveLength(10_000);
  });
  it('works for a 1 TiB file with the 75 MiB default', () => {
    const cs = effectiveChunkSize(TiB, 75 * MiB);
    expect(cs).toBe(Math.ceil(TiB / 10_000));
    expect(Math.ceil(TiB / cs)).toBeLessThanOrEqual(10_000);
  });
  it('honours another part limit', () => {
    expect(effectiveChunkSize(1000, 10, 50)).toBe(20);
  });
});

describe('streamPartSize (stdin)', () => {
  it('uses the chunk size for the first 1000 parts, like the classic agent', () => {
    expect(streamPartSize(1, 5 * MiB)).toBe(5 * MiB);
    expect(streamPartSize(1000, 5 * MiB)).toBe(5 * MiB);
  });
  it('then doubles every 1000 parts, up to the 4 GiB cap', () => {
    expect(streamPartSize(1001, 5 * MiB)).toBe(10 * MiB);
    expect(streamPartSize(2001, 5 * MiB)).toBe(20 * MiB);
    expect(streamPartSize(9999, 75 * MiB)).toBe(MAX_STREAM_PART);
    expect(streamPartSize(10_000, 5 * MiB)).toBe(5 * MiB * 512);
  });
  it('never shrinks a chunk size that is already above the cap', () => {
    expect(streamPartSize(5000, 5 * 1024 * MiB)).toBe(5 * 1024 * MiB);
  });
  it('lets 10,000 parts carry far more than 10,000 × chunk', () => {
    expect(streamCapacity(5 * MiB)).toBeGreaterThan(4 * TiB);
    expect(streamCapacity(75 * MiB)).toBeGreaterThan(20 * TiB);
    expect(streamCapacity(7, 3000)).toBe(7 * 1000 + 14 * 1000 + 28 * 1000);
  });
  it('rejects a bad index', () => {
    expect(() => streamPartSize(0, 5 * MiB)).toThrow(RangeError);
  });
});

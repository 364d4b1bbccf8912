import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readParts, type StreamPart } from '../../../src/read/stdin.js';
import { tempDir } from '../../helpers/files.js';

interface Got {
  index: number;
  length: number;
  last: boolean;
  bytes: Buffer;
}

async function collect(stream: Readable, size: number): Promise<{ parts: Got[]; acquired: number[] }> {
  const acquired: number[] = [];
  const parts: Got[] = [];
  const it = readParts(
    stream,
    () => size,
    async (n) => {
      acquired.push(n);
      return new ArrayBuffer(n);
    },
  );
  for await (const p of it as AsyncIterable<StreamPart>)
    parts.push({ index: p.index, length: p.length, last: p.last, bytes: Buffer.from(p.buffer, 0, p.length) });
  return { parts, acquired };
}

/** A stream that delivers `data` in uneven pieces, like a pipe. */
function piecewise(data: Buffer, pieces: number[]): Readable {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = pieces[i % pieces.length];
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(out);
}

describe('readParts', () => {
  const tmp = tempDir('ua-stdin-');
  afterAll(() => tmp.cleanup());

  it('marks the final full part last when the input is an exact multiple of the part size', async () => {
    const data = Buffer.from('0123456789abcdefghijklmnopqrstuv'); // 32 bytes
    const { parts, acquired } = await collect(piecewise(data, [3, 7, 1, 13]), 8);
    expect(parts.map((p) => [p.index, p.length, p.last])).toEqual([
      [1, 8, false],
      [2, 8, false],
      [3, 8, false],
      [4, 8, true],
    ]);
    expect(Buffer.concat(parts.map((p) => p.bytes)).equals(data)).toBe(true);
    expect(acquired).toEqual([8, 8, 8, 8]); // no buffer for a phantom fifth part
  });

  it('fills every part but the last, whatever the piece sizes', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const { parts } = await collect(piecewise(data, [1, 64, 333, 2]), 100);
    expect(parts.length).toBe(10);
    expect(parts.slice(0, -1).every((p) => p.length === 100 && !p.last)).toBe(true);
    expect(Buffer.concat(parts.map((p) => p.bytes)).equals(data)).toBe(true);
    const odd = await collect(piecewise(data.subarray(0, 950), [77]), 100);
    expect(odd.parts.map((p) => p.length)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
    expect(odd.parts.at(-1)!.last).toBe(true);
  });

  it('yields one empty last part for empty input', async () => {
    const { parts } = await collect(Readable.from([]), 16);
    expect(parts).toEqual([{ index: 1, length: 0, last: true, bytes: Buffer.alloc(0) }]);
  });

  it('yields one 1-byte last part for a 1-byte input read from a real file', async () => {
    const path = join(tmp.dir, 'one');
    writeFileSync(path, 'Z');
    const { parts } = await collect(createReadStream(path), 16);
    expect(parts).toEqual([{ index: 1, length: 1, last: true, bytes: Buffer.from('Z') }]);
  });

  it('asks chunkSizeFor with each 1-based index', async () => {
    const sizes: number[] = [];
    const data = Buffer.alloc(10, 7);
    for await (const p of readParts(
      Readable.from([data]),
      (i) => (sizes.push(i), i * 2),
      async (n) => new ArrayBuffer(n),
    ))
      void p;
    expect(sizes).toEqual([1, 2, 3]); // 2 + 4 + 6 ≥ 10
  });
});

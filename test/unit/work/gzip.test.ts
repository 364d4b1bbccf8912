import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  classicPaddingMembers,
  compressPart,
  DEFAULT_COMPRESSOR,
  effectiveCompressor,
  EMPTY_GZIP_MEMBER,
  gzipMember,
  libdeflateLoadError,
  loadLibdeflate,
  needsLoad,
  padPart,
  paddingLength,
  paddingMember,
} from '../../../src/work/gzip.js';
import { md5, tempDir } from '../../helpers/files.js';
import { gzipMembers, pigzMissing, readWithEveryReader } from '../../helpers/gzip-readers.js';

const MIN = 5 * 1024 * 1024;

// libdeflate loads lazily, in the thread that first compresses with it.
const before = { needsLoad: needsLoad('libdeflate'), error: libdeflateLoadError() };
await loadLibdeflate();

describe('gzipMember', () => {
  it("writes classic zlib's Unix header: no mtime, no name, XFL 0, OS 3", () => {
    const g = gzipMember(Buffer.from('ACGT\n'.repeat(1000)), 6);
    expect(g.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    // Like zlib, XFL flags the extreme levels (4 = fastest, 2 = best); 6 is the agent's default.
    expect(gzipMember(Buffer.from('x'), 1).subarray(0, 10).toString('hex')).toBe('1f8b0800000000000403');
    expect(gzipMember(Buffer.from('x'), 9).subarray(0, 10).toString('hex')).toBe('1f8b0800000000000203');
  });

  it('EMPTY_GZIP_MEMBER is the 20-byte gzip of nothing', () => {
    expect(EMPTY_GZIP_MEMBER.toString('hex')).toBe('1f8b0800000000000003' + '0300' + '00000000' + '00000000');
    expect(gzipSync(Buffer.alloc(0)).equals(EMPTY_GZIP_MEMBER)).toBe(true);
    expect(gunzipSync(EMPTY_GZIP_MEMBER).length).toBe(0);
  });

  it('independent members concatenate into a multi-member gzip of the whole source', () => {
    const src = Buffer.from(
      Array.from({ length: 20000 }, (_, i) => `@r${i}\nACGTTGCA\n+\nFFFFFFFF\n`).join(''),
    );
    const cuts = [0, 7, 100_000, 250_001, src.length];
    const members = cuts.slice(1).map((end, i) => gzipMember(src.subarray(cuts[i], end), 6));
    expect(gunzipSync(Buffer.concat(members)).equals(src)).toBe(true);
  });
});

describe('compressors', () => {
  const src = Buffer.from(
    Array.from({ length: 30_000 }, (_, i) => `@r${i} 1:N:0\nACGTTGCA${i % 89}GT\n+\nFF:F,FFF${i % 7}\n`).join(
      '',
    ),
  );

  it('libdeflate loads on demand, here, so it is the default; zlib is what it falls back to', () => {
    expect(before).toEqual({ needsLoad: true, error: undefined });
    expect(needsLoad('libdeflate')).toBe(false);
    expect(needsLoad('zlib')).toBe(false);
    expect(libdeflateLoadError()).toBeUndefined();
    expect(DEFAULT_COMPRESSOR).toBe('libdeflate');
    expect(effectiveCompressor('libdeflate')).toBe('libdeflate');
    expect(effectiveCompressor('zlib')).toBe('zlib');
  });

  it('each writes one gzip member of the data, with the same zlib header, at every level', () => {
    for (const level of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const z = gzipMember(src, level, 'zlib');
      const l = gzipMember(src, level, 'libdeflate');
      expect(l.subarray(0, 10).equals(z.subarray(0, 10)), `level ${level}`).toBe(true);
      expect(l.subarray(-8).equals(z.subarray(-8))).toBe(true); // CRC-32 and ISIZE of the same bytes
      expect(gunzipSync(l).equals(src)).toBe(true);
      expect(gzipMembers(l)).toHaveLength(1);
      expect(l.equals(z)).toBe(false); // another deflate encoder: other bytes
    }
    // Empty input (never a part: empty chunks are not compressed) still makes a valid member.
    expect(gunzipSync(gzipMember(Buffer.alloc(0), 6, 'libdeflate')).length).toBe(0);
  });

  it('compressPart: the named compressor (default libdeflate), then the padding', () => {
    const o = { level: 6, last: false, minPartSize: MIN };
    const byDefault = compressPart(src, o);
    const lib = gzipMember(src, 6, 'libdeflate');
    expect(byDefault.subarray(0, lib.length).equals(lib)).toBe(true);
    expect(byDefault.length).toBe(MIN);
    const zl = compressPart(src, { ...o, compressor: 'zlib' });
    expect(zl.equals(padPart(gzipMember(src, 6, 'zlib'), false, MIN))).toBe(true);
    const classic = compressPart(src, { ...o, compressor: 'zlib', padding: 'classic' });
    expect(classic.equals(padPart(gzipMember(src, 6), false, MIN, 'classic'))).toBe(true);
    for (const p of [byDefault, zl, classic]) expect(gunzipSync(p).equals(src)).toBe(true);
  });
});

describe('paddingMember: one empty gzip member of any length from 20 bytes', () => {
  /** Decompressed length and the bytes its deflate stream takes, from a raw inflate of the body. */
  const inflated = (m: Buffer) => {
    const r = inflateRawSync(m.subarray(10), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    return { raw: r.buffer.length, deflateBytes: r.engine.bytesWritten };
  };

  it('is exactly the length asked, one member whose deflate stream ends where its trailer starts', () => {
    const sizes = [...Array.from({ length: 200 }, (_, i) => 20 + i), 65_535, 65_557, 1_000_003, MIN - 1, MIN];
    for (const size of sizes) {
      const m = paddingMember(size);
      expect(m.length).toBe(size);
      expect(m.subarray(0, 10).equals(EMPTY_GZIP_MEMBER.subarray(0, 10))).toBe(true);
      expect(m.subarray(size - 8).equals(Buffer.alloc(8))).toBe(true); // CRC-32 and ISIZE of nothing
      expect(inflated(m), `size ${size}`).toEqual({ raw: 0, deflateBytes: size - 18 });
      expect(gunzipSync(m).length).toBe(0);
    }
    expect(paddingMember(20).equals(EMPTY_GZIP_MEMBER)).toBe(true);
  });

  it('refuses a length no member can have', () => {
    for (const bad of [0, 1, 19, 20.5]) expect(() => paddingMember(bad)).toThrow(RangeError);
  });
});

describe('padPart', () => {
  const part = gzipMember(Buffer.from('hello\n'), 6);

  it('pads a short non-last part to exactly the minimum with one member', () => {
    const padded = padPart(part, false, MIN);
    expect(padded.length).toBe(MIN);
    expect(padded.subarray(0, part.length).equals(part)).toBe(true);
    expect(padded.subarray(part.length).equals(paddingMember(MIN - part.length))).toBe(true);
    expect(gunzipSync(padded).toString()).toBe('hello\n');
  });

  it('a part 1–19 bytes short gets the smallest member, 20 bytes, and ends up over the minimum', () => {
    for (const short of [1, 7, 19]) {
      const p = Buffer.concat([part, paddingMember(MIN - part.length - short)]);
      expect(p.length).toBe(MIN - short);
      const padded = padPart(p, false, MIN);
      expect(padded.length).toBe(MIN - short + 20);
      expect(padded.subarray(p.length).equals(EMPTY_GZIP_MEMBER)).toBe(true);
      expect(gunzipSync(padded).toString()).toBe('hello\n');
    }
    // 20 short: exactly the minimum again.
    expect(padPart(part.subarray(0, MIN - 20), false, MIN).length).toBe(MIN);
  });

  it('never pads the last part or a part already at the minimum', () => {
    expect(padPart(part, true, MIN)).toBe(part);
    const big = Buffer.alloc(MIN, 1);
    expect(padPart(big, false, MIN)).toBe(big);
    expect(padPart(part, true, MIN, 'classic')).toBe(part);
  });

  it('padding math: what a part of a given length gets', () => {
    expect(paddingLength(MIN, false, MIN)).toBe(0);
    expect(paddingLength(MIN - 1, false, MIN)).toBe(20);
    expect(paddingLength(MIN - 19, false, MIN)).toBe(20);
    expect(paddingLength(MIN - 20, false, MIN)).toBe(20);
    expect(paddingLength(MIN - 21, false, MIN)).toBe(21);
    expect(paddingLength(0, false, MIN)).toBe(MIN);
    expect(paddingLength(10, true, MIN)).toBe(0);
  });

  it("classic padding is still the classic agent's: whole 20-byte empty members, up to 262,144", () => {
    const padded = padPart(part, false, MIN, 'classic');
    const n = Math.ceil((MIN - part.length) / 20);
    expect(padded.length).toBe(part.length + n * 20);
    expect(padded.length - 20).toBeLessThan(MIN);
    for (const at of [part.length, part.length + 20 * 7, padded.length - 20])
      expect(padded.subarray(at, at + 20).equals(EMPTY_GZIP_MEMBER)).toBe(true);
    expect(gunzipSync(padded).toString()).toBe('hello\n');
    expect(classicPaddingMembers(MIN - 1, false, MIN)).toBe(1);
    expect(classicPaddingMembers(MIN - 21, false, MIN)).toBe(2);
    expect(classicPaddingMembers(0, false, MIN)).toBe(262_144);
    expect(classicPaddingMembers(10, true, MIN)).toBe(0);
  });
});

describe('an object of padded parts, read by every gzip reader', () => {
  const tmp = tempDir('ua-gzip-readers-');
  afterAll(() => tmp.cleanup());
  const skip = pigzMissing();

  it(`gunzip, zcat, pigz, Python's gzip.open and gzip.decompress, Node: byte-exact${skip ? ` (without pigz: ${skip})` : ''}`, () => {
    // Parts whose padding takes every residue of the stored blocks' 5 bytes, small and large gaps.
    const src = Buffer.from(
      Array.from({ length: 40_000 }, (_, i) => `@r${i}\nACGTTGCA${i % 97}\n+\nFFFF:FFF\n`).join(''),
    );
    const minPart = 64 * 1024;
    // Parts of 1, 2, … 30 bytes, then larger ones: their members' lengths vary by single bytes.
    const cuts = [0];
    for (let n = 1; n <= 30; n++) cuts.push(cuts[cuts.length - 1] + n);
    cuts.push(9000, 60_000, src.length);
    const members = cuts.slice(1).map((end, i) => gzipMember(src.subarray(cuts[i], end), 6));
    const parts = members.map((m, i) => padPart(m, i === members.length - 1, minPart));
    // The padding of each non-last part: (gap - 20) mod 5 picks the deflate tail; all five are here.
    const tails = new Set(members.slice(0, -1).map((m) => (minPart - m.length - 20) % 5));
    expect([...tails].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const p of parts.slice(0, -1)) expect(p.length).toBe(minPart);
    const path = join(tmp.dir, 'padded.gz');
    writeFileSync(path, Buffer.concat(parts));
    // One member per part and one padding member per non-last part.
    expect(gzipMembers(Buffer.concat(parts))).toHaveLength(2 * parts.length - 1);
    const want = { md5: md5(src), bytes: src.length };
    const results = readWithEveryReader(path);
    expect(results.map((r) => r.reader)).toEqual([
      'gunzip -c',
      'zcat',
      ...(skip ? [] : ['pigz -dc']),
      'python gzip.open().read()',
      'python gzip.decompress',
      'node zlib.gunzipSync',
    ]);
    for (const r of results)
      expect({ reader: r.reader, md5: r.md5, bytes: r.bytes, error: r.error }).toEqual({
        reader: r.reader,
        ...want,
        error: undefined,
      });
  });
});

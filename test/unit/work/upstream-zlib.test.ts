import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fastqBytes } from '../../../bench/fastq.js';
import { compressPart, gzipMember, padPart } from '../../../src/work/gzip.js';
import { loadUpstreamZlib, upstreamGzipMember } from '../../../src/work/upstream-zlib.js';
import { md5, tempDir } from '../../helpers/files.js';

await loadUpstreamZlib();

const CLASSIC = fileURLToPath(new URL('../../helpers/classic-gzip.py', import.meta.url));
const tmp = tempDir('ua-upstream-');
afterAll(() => tmp.cleanup());

/** Part `index` of `data` cut in `chunk`s, as Python's (upstream) zlib makes the classic agent's part. */
function pythonPart(data: Buffer, chunk: number, minPart: number, index: number, os = 3): Buffer {
  const file = join(tmp.dir, 'src');
  writeFileSync(file, data);
  execFileSync('python3', [
    CLASSIC,
    '--os',
    String(os),
    file,
    String(chunk),
    String(minPart),
    tmp.dir,
    String(index),
  ]);
  return readFileSync(join(tmp.dir, `part-${index}`));
}

describe('upstream zlib (pako, legacy hash) against Python’s zlib', () => {
  const cases: [string, Buffer][] = [
    ['fastq 1 byte', fastqBytes(1, 3)],
    ['fastq 70,001 bytes', fastqBytes(70_001, 3)],
    ['fastq 1.5 MiB', fastqBytes(1.5 * 2 ** 20, 5)],
    ['random 300,000 bytes', randomBytes(300_000)],
  ];
  for (const [name, data] of cases)
    it(`${name}: the same member byte for byte`, () => {
      const py = pythonPart(data, data.length, 0, 1);
      const own = upstreamGzipMember(data, 6);
      expect(own.equals(py)).toBe(true);
      expect(gunzipSync(own).equals(data)).toBe(true);
    });

  it("node:zlib's member of FASTQ differs (Chromium's zlib): why the classic form needs its own deflate", () => {
    const data = fastqBytes(70_001, 3);
    expect(gzipMember(data, 6, 'zlib').equals(pythonPart(data, data.length, 0, 1))).toBe(false);
  });
});

describe('compressPart with upstream-zlib and classic padding', () => {
  const MIN = 256 * 1024;
  const data = fastqBytes(3 * MIN + 999, 9); // parts of MIN bytes compress to ~1/5: padded
  const chunk = (i: number) => data.subarray((i - 1) * MIN, i * MIN);
  const o = (i: number) => ({
    level: 6,
    last: i === 4,
    minPartSize: MIN,
    compressor: 'upstream-zlib' as const,
    padding: 'classic' as const,
  });

  it("is the classic agent's part: the member, then 20-byte empty members up to the minimum", () => {
    for (const i of [1, 4]) {
      const py = pythonPart(data, MIN, MIN, i);
      expect(compressPart(chunk(i), o(i)).equals(py), `part ${i}`).toBe(true);
    }
    expect(
      compressPart(chunk(1), o(1)).equals(padPart(upstreamGzipMember(chunk(1), 6), false, MIN, 'classic')),
    ).toBe(true);
  });

  it('finds the OS byte of the build that made it (every header: the member and the padding)', () => {
    const mac = pythonPart(data, MIN, MIN, 2, 19);
    expect(mac[9]).toBe(19);
    expect(mac[mac.length - 20 + 9]).toBe(19);
    const own = compressPart(chunk(2), { ...o(2), expect: { size: mac.length, md5: md5(mac) } });
    expect(own.equals(mac)).toBe(true);
  });

  it('a part it does not match is left in the Unix form', () => {
    const unix = pythonPart(data, MIN, MIN, 3);
    const own = compressPart(chunk(3), { ...o(3), expect: { size: unix.length, md5: 'f'.repeat(32) } });
    expect(own.equals(unix)).toBe(true);
  });
});

/**
 * A compressed upload with 5 MiB parts, as ua-platform stores it, read back by every gzip reader a
 * user has (test/helpers/gzip-readers.ts): each non-last part is ONE gzip member of its chunk plus
 * ONE empty member that pads it to exactly 5 MiB, where the classic agent wrote up to 262,144. Once
 * per compressor (`--compressor`, and the default): the member of each part is that compressor's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe as suite, expect, it } from 'vitest';
import { writeFastqFile } from '../../bench/fastq.js';
import type { Compressor } from '../../src/work/compressors.js';
import { gzipMember, loadLibdeflate } from '../../src/work/gzip.js';
import { md5 } from '../helpers/files.js';
import { gzipMembers, pigzMissing, readWithEveryReader } from '../helpers/gzip-readers.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { describe, downloadFile, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

await loadLibdeflate(); // gzipMember(…, 'libdeflate') below needs it in this thread

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();

suite('a compressed upload with 5 MiB parts', () => {
  const skip = pigzMissing();
  const cases: Array<[string, Compressor, string[]]> = [
    ['--compressor zlib', 'zlib', ['--compressor', 'zlib']],
    ['--compressor libdeflate', 'libdeflate', ['--compressor', 'libdeflate']],
    ['the default compressor (libdeflate)', 'libdeflate', []],
  ];

  for (const [label, compressor, flags] of cases)
    it(`${label}: reads back byte-exact with gunzip, zcat, pigz -d, Python's gzip (open and decompress), Node${skip ? ` (without pigz: ${skip})` : ''}`, async () => {
      const dir = join(e2e.tmp.dir, label.replace(/\W+/g, '-'));
      mkdirSync(dir);
      const path = join(dir, 'reads.fastq');
      writeFastqFile(path, 4 * CHUNK + 54_321, 11);
      const data = readFileSync(path);
      const r = await runUa(
        [
          '--project',
          e2e.tp.project,
          '--folder',
          `/${compressor}-${flags.length}`,
          '--chunk-size',
          '5M',
          '--wait-on-close',
          ...flags,
          path,
        ],
        {
          env: e2e.tp.env,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      const d = await waitClosed(e2e.tp, id);
      expect(d.name).toBe('reads.fastq.gz');
      const { parts } = await describe(e2e.tp, id, { parts: true });
      const sizes = [1, 2, 3, 4, 5].map((i) => parts[String(i)].size as number);
      // Every non-last part is exactly the platform's minimum: compressed FASTQ is ~1/4 of 5 MiB.
      expect(sizes.slice(0, 4)).toEqual([CHUNK, CHUNK, CHUNK, CHUNK]);
      expect(Object.keys(parts)).toHaveLength(5);

      const stored = await downloadFile(e2e.tp, id);
      expect(stored.length).toBe(sizes.reduce((a, b) => a + b, 0));
      // Nine members: a part's own and one padding member for each of the four non-last parts, then the last.
      const members = gzipMembers(stored);
      expect(members.map((m) => m.rawLength)).toEqual([CHUNK, 0, CHUNK, 0, CHUNK, 0, CHUNK, 0, 54_321]);
      for (const i of [1, 3, 5, 7]) expect(members[i].length).toBeGreaterThan(2 * MiB); // the padding
      // Each part's own member is what that compressor makes of its chunk.
      for (const [k, i] of [0, 2, 4, 6, 8].entries()) {
        const chunk = data.subarray(k * CHUNK, Math.min((k + 1) * CHUNK, data.length));
        const own = stored.subarray(members[i].offset, members[i].offset + members[i].length);
        expect(own.equals(gzipMember(chunk, 6, compressor)), `part ${k + 1}`).toBe(true);
      }

      const file = join(e2e.tmp.dir, 'stored.fastq.gz');
      writeFileSync(file, stored);
      const want = { md5: md5(data), bytes: data.length };
      const results = readWithEveryReader(file, 30_000);
      expect(results.map((x) => x.reader)).toEqual([
        'gunzip -c',
        'zcat',
        ...(skip ? [] : ['pigz -dc']),
        'python gzip.open().read()',
        'python gzip.decompress',
        'node zlib.gunzipSync',
      ]);
      for (const x of results)
        expect({ reader: x.reader, md5: x.md5, bytes: x.bytes, error: x.error }).toEqual({
          reader: x.reader,
          ...want,
          error: undefined,
        });
    }, 120_000);
});

suite('when libdeflate cannot be loaded', () => {
  it('says so once on stderr and compresses with node:zlib, main thread and workers alike', async () => {
    // A module hook (in every thread: workers inherit the flags) that makes `import('libdeflate')` fail.
    const hook = join(e2e.tmp.dir, 'no-libdeflate.mjs');
    const resolver = `export async function resolve(s, c, next) { if (s === 'libdeflate') throw new Error('blocked by the test'); return next(s, c); }`;
    writeFileSync(
      hook,
      `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolver)}));\n`,
    );
    const path = join(e2e.tmp.dir, 'fallback.fastq');
    writeFastqFile(path, CHUNK + 100_000, 3);
    const data = readFileSync(path);
    const r = await runUa(['--project', e2e.tp.project, '--chunk-size', '5M', '--wait-on-close', path], {
      env: { ...e2e.tp.env, NODE_OPTIONS: `--import=${hook}` },
    });
    expect(r.code, r.stderr).toBe(0);
    const warning = 'libdeflate could not be loaded (blocked by the test); compressing with node:zlib';
    expect(r.stderr.split(warning)).toHaveLength(2); // once
    const stored = await downloadFile(e2e.tp, r.stdout.trim());
    const members = gzipMembers(stored);
    expect(members.map((m) => m.rawLength)).toEqual([CHUNK, 0, 100_000]);
    // Both parts, compressed in the workers, are node:zlib's members.
    for (const [i, k] of [0, 2].entries()) {
      const chunk = data.subarray(i * CHUNK, Math.min((i + 1) * CHUNK, data.length));
      const own = stored.subarray(members[k].offset, members[k].offset + members[k].length);
      expect(own.equals(gzipMember(chunk, 6, 'zlib')), `part ${i + 1}`).toBe(true);
    }
  }, 60_000);
});

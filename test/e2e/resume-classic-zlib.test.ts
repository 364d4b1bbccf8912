import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Agent, setGlobalDispatcher } from 'undici';
import { expect, it } from 'vitest';
import { writeFastqFile } from '../../bench/fastq.js';
import { padPart, gzipMember } from '../../src/work/gzip.js';
import { md5 } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { classicSignature, describe, downloadFile, putPart } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const CHUNK = 5 * 1024 * 1024;
// No keep-alive for this file's own requests: the server runs in this process, so a long synchronous
// stretch here (compressing parts to compare) blocks both ends' idle timers, and a pooled socket
// reused just as the server's fires is reset (read ECONNRESET, seen under load).
setGlobalDispatcher(new Agent({ pipelining: 0 }));
const CLASSIC = fileURLToPath(new URL('../helpers/classic-gzip.py', import.meta.url));
const e2e = usePlatformAndTempDir();

/** Parts of `path` as the classic agent sends them: Python's (upstream) zlib, classic padding, OS byte `os`. */
function classicParts(path: string, indexes: number[], os = 3): Buffer[] {
  const args = ['--os', String(os), path, String(CHUNK), String(CHUNK), e2e.tmp.dir, ...indexes.map(String)];
  execFileSync('python3', [CLASSIC, ...args]);
  return indexes.map((i) => readFileSync(join(e2e.tmp.dir, `part-${i}`)));
}

it("finishes the classic agent's compressed upload: its upstream-zlib parts are kept, a garbage part is sent again and said", async () => {
  const path = join(e2e.tmp.dir, 'reads.fastq');
  writeFastqFile(path, 4 * CHUNK + 54_321, 11);
  const data = readFileSync(path);
  const created = await e2e.tp.call('file/new', {
    project: e2e.tp.project,
    folder: '/',
    name: 'reads.fastq.gz',
    parents: true,
    media: 'application/x-gzip',
    properties: { '.system-fileSignature': classicSignature(path, CHUNK, true) },
  });
  const fileId = created.body.id as string;
  // Parts 1, 2 and 5 (the last, unpadded) from a Linux build; part 4 from a macOS build (OS byte 19).
  const [p1, p2, p5] = classicParts(path, [1, 2, 5]);
  const [p4] = classicParts(path, [4], 19);
  // These are not node:zlib's bytes (what ua compared them with before): only upstream zlib's.
  const chunk = (i: number) => data.subarray((i - 1) * CHUNK, Math.min(i * CHUNK, data.length));
  expect(p1.equals(padPart(gzipMember(chunk(1), 6, 'zlib'), false, CHUNK, 'classic'))).toBe(false);
  expect(p1.length).toBeGreaterThanOrEqual(CHUNK); // padded with 20-byte members
  const garbage = randomBytes(CHUNK + 7);
  for (const [i, body] of [p1, p2, garbage, p4, p5].entries()) await putPart(e2e.tp, fileId, i + 1, body);
  e2e.tp.platform.stats.reset();

  const r = await runUa(
    ['--project', e2e.tp.project, '--chunk-size', '5M', '--json', '--wait-on-close', path],
    {
      env: e2e.tp.env,
    },
  );
  expect(r.code, r.stderr).toBe(0);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  // (a) Only the garbage part went over the wire again.
  expect(e2e.tp.platform.stats.okPuts(fileId).map((p) => p.index)).toEqual([3]);
  // (c) … and the event says why, naming the part on the destination.
  expect(events.filter((e) => e.type === 'part-unverified')).toEqual([
    expect.objectContaining({
      type: 'part-unverified',
      fileId,
      index: 3,
      localPath: path,
      compressed: true,
      size: garbage.length,
      md5: md5(garbage),
    }),
  ]);
  expect(events.filter((e) => e.type === 'part-done')).toEqual([
    expect.objectContaining({ index: 3, resent: true }),
  ]);
  // (b) The object is the classic parts with ua's part 3 between them, a gzip of the source exactly.
  const d = await describe(e2e.tp, fileId, { parts: true });
  expect(d.state).toBe('closed');
  expect([1, 2, 4, 5].map((i) => d.parts[String(i)].md5)).toEqual([p1, p2, p4, p5].map(md5));
  const stored = await downloadFile(e2e.tp, fileId);
  expect(md5(gunzipSync(stored))).toBe(md5(data));
  const gunzip = execFileSync('gunzip', ['-c'], { input: stored, maxBuffer: 64 * CHUNK });
  expect(gunzip.equals(data)).toBe(true);
}, 120_000);

import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Agent, setGlobalDispatcher } from 'undici';
import { beforeEach, describe as suite, expect, it } from 'vitest';
import { md5, writeTextFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import {
  classicSignature,
  describe,
  downloadFile,
  listFiles,
  putPart,
  waitClosed,
} from '../helpers/remote.js';
import { Journal } from '../../src/state/journal.js';
import { gzipMember, loadLibdeflate, padPart } from '../../src/work/gzip.js';
import { gzipMembers } from '../helpers/gzip-readers.js';
import { runUa } from '../helpers/run-ua.js';

await loadLibdeflate(); // gzipMember(…, 'libdeflate') below needs it in this thread
// No keep-alive for this file's own requests: the server runs in this process, so a long synchronous
// stretch here (compressing parts to compare) blocks both ends' idle timers, and a pooled socket
// reused just as the server's fires is reset (read ECONNRESET, seen under load).
setGlobalDispatcher(new Agent({ pipelining: 0 }));

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();
beforeEach(() => {
  e2e.tp.platform.faults.clear();
  e2e.tp.platform.stats.reset();
});

const ua = (args: string[], o: Parameters<typeof runUa>[1] = {}) =>
  runUa(['--project', e2e.tp.project, '--chunk-size', '5M', ...args], {
    ...o,
    env: { ...e2e.tp.env, UA_RETRY_MIN_DELAY_MS: '20', ...o.env },
  });
const okIndexes = (fileId: string) =>
  e2e.tp.platform.stats
    .okPuts(fileId)
    .map((p) => p.index)
    .sort((a, b) => a - b);

/**
 * Part `index` in the classic form (ua-behavior §2.4) as node:zlib makes it, which is how ua sent it
 * before libdeflate and one-member padding, built here with zlib directly rather than ua's code: one
 * gzip member at level 6; a non-last part under 5 MiB padded with copies of the 20-byte gzip of the
 * empty string. (The classic agent's own parts are upstream zlib's bytes: resume-classic-zlib.test.ts.)
 */
function classicPart(data: Buffer, index: number): Buffer {
  const start = (index - 1) * CHUNK;
  const last = start + CHUNK >= data.length;
  let out = gzipSync(data.subarray(start, Math.min(start + CHUNK, data.length)), { level: 6 });
  if (!last && out.length < CHUNK) {
    const empty = gzipSync(Buffer.alloc(0), { level: 6 });
    expect(empty.toString('hex')).toBe('1f8b0800000000000003' + '0300' + '00000000' + '00000000');
    out = Buffer.concat([out, ...Array<Buffer>(Math.ceil((CHUNK - out.length) / empty.length)).fill(empty)]);
  }
  return out;
}

suite('resume of a compressed upload', () => {
  it('finishes a classic half-done compressed upload: only missing or wrong parts sent, gunzips byte-exact', async () => {
    const path = join(e2e.tmp.dir, 'classic.fastq');
    const data = writeTextFile(path, 4 * CHUNK + 12345, 7);
    // The classic signature of a compressed upload: compress flag 1.
    const signature = classicSignature(path, CHUNK, true);
    const created = await e2e.tp.call('file/new', {
      project: e2e.tp.project,
      folder: '/',
      name: 'classic.fastq.gz',
      parents: true,
      media: 'application/x-gzip',
      properties: { '.system-fileSignature': signature },
    });
    const fileId = created.body.id as string;
    const p1 = classicPart(data, 1);
    const p3 = classicPart(data, 3);
    expect(p1.length).toBeGreaterThanOrEqual(CHUNK); // padded
    await putPart(e2e.tp, fileId, 1, p1);
    await putPart(e2e.tp, fileId, 3, p3);
    // Part 2 in the classic form too, but of other bytes (one changed): it must not be taken.
    const other = Buffer.from(data);
    other[CHUNK + 100] ^= 1;
    const wrong2 = classicPart(other, 2);
    await putPart(e2e.tp, fileId, 2, wrong2);
    e2e.tp.platform.stats.reset();

    // ua compresses with libdeflate and pads with one member, so the classic parts 1 and 3 are
    // recognised as the classic agent compresses them (zlib, 20-byte members); --verify then passes.
    const r = await ua(['--wait-on-close', '--verify', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(fileId);
    expect(okIndexes(fileId)).toEqual([2, 4, 5]);
    expect(r.stderr).toContain(
      `part 2 of "${path}" on the destination is not this file's content as this run or the classic agent compresses it (${wrong2.length} bytes, md5 ${md5(wrong2)}); sending it again`,
    );
    expect(r.stderr).not.toMatch(/part [13] of/);
    const d = await describe(e2e.tp, fileId, { parts: true });
    expect(d).toMatchObject({ state: 'closed', name: 'classic.fastq.gz', media: 'application/x-gzip' });
    expect(d.parts['1'].md5).toBe(md5(p1));
    expect(d.parts['3'].md5).toBe(md5(p3));
    const stored = await downloadFile(e2e.tp, fileId);
    expect(md5(gunzipSync(stored))).toBe(md5(data));
    // The parts ua sent: libdeflate's member of the chunk, then (non-last) ONE empty member up to 5 MiB.
    let at = 0;
    for (const i of [1, 2, 3, 4, 5]) {
      const size = d.parts[String(i)].size as number;
      const part = stored.subarray(at, at + size);
      at += size;
      if (i === 1 || i === 3) {
        expect(part.equals(classicPart(data, i))).toBe(true);
        continue;
      }
      const chunk = data.subarray((i - 1) * CHUNK, Math.min(i * CHUNK, data.length));
      const member = gzipMember(chunk, 6, 'libdeflate');
      expect(part.subarray(0, member.length).equals(member)).toBe(true);
      expect(gzipMembers(part).map((m) => m.rawLength)).toEqual(i === 5 ? [chunk.length] : [CHUNK, 0]);
      expect(size).toBe(i === 5 ? member.length : CHUNK);
    }
    expect(at).toBe(stored.length);
  }, 120_000);

  it("across compressors: a recorded part or one in this run's form is kept, any other is sent again", async () => {
    const path = join(e2e.tmp.dir, 'mixed.fastq');
    const data = writeTextFile(path, 3 * CHUNK + 777, 5);
    const created = await e2e.tp.call('file/new', {
      project: e2e.tp.project,
      folder: '/',
      name: 'mixed.fastq.gz',
      parents: true,
      media: 'application/x-gzip',
      properties: { '.system-fileSignature': classicSignature(path, CHUNK, true) },
    });
    const fileId = created.body.id as string;
    const chunk = (i: number) => data.subarray((i - 1) * CHUNK, Math.min(i * CHUNK, data.length));
    // As earlier ua runs sent them: 1 and 2 by libdeflate (the default), 3 by --compressor zlib.
    const sent = [
      padPart(gzipMember(chunk(1), 6, 'libdeflate'), false, CHUNK),
      padPart(gzipMember(chunk(2), 6, 'libdeflate'), false, CHUNK),
      padPart(gzipMember(chunk(3), 6, 'zlib'), false, CHUNK),
    ];
    for (const [k, body] of sent.entries()) await putPart(e2e.tp, fileId, k + 1, body);
    // This machine's record of part 1 only (state/journal.ts): the source MD5 it was sent from.
    const state = join(e2e.tmp.dir, 'mixed-state');
    const journal = new Journal(state);
    journal.recordSentPart(fileId, 1, { size: sent[0].length, md5: md5(sent[0]), rawMd5: md5(chunk(1)) });
    journal.close();
    e2e.tp.platform.stats.reset();

    const r = await ua(['--compressor', 'zlib', '--wait-on-close', '--verify', path], {
      env: { UA_STATE_DIR: state },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(fileId);
    // 1: proven by the record; 3: what zlib makes of it; 2: libdeflate's bytes, which a zlib run can
    // neither remake nor find recorded: sent again. 4 was missing.
    expect(okIndexes(fileId)).toEqual([2, 4]);
    expect(r.stderr).toContain(`part 2 of "${path}" on the destination is not this file's content`);
    expect(r.stderr).not.toMatch(/part [13] of/);
    const stored = await downloadFile(e2e.tp, fileId);
    expect(md5(gunzipSync(stored))).toBe(md5(data));
    const d = await describe(e2e.tp, fileId, { parts: true });
    expect(d.parts['1'].md5).toBe(md5(sent[0]));
    expect(d.parts['2'].md5).toBe(md5(padPart(gzipMember(chunk(2), 6, 'zlib'), false, CHUNK)));
    expect(d.parts['3'].md5).toBe(md5(sent[2]));
  }, 120_000);

  it('after kill -9 mid-upload, a rerun sends only the missing compressed parts and gunzips byte-exact', async () => {
    const path = join(e2e.tmp.dir, 'killed.fastq');
    const data = writeTextFile(path, 8 * CHUNK + 999, 3);
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 150, count: 10_000 });
    const killed = await ua(['--upload-threads', '2', path], {
      onSpawn: (child) => {
        const t = setInterval(() => {
          if (e2e.tp.platform.stats.okPuts().length >= 4) {
            clearInterval(t);
            child.kill('SIGKILL');
          }
        }, 10);
        child.on('close', () => clearInterval(t));
      },
      timeoutMs: 120_000,
    });
    expect(killed.signal).toBe('SIGKILL');
    const [partial] = (await listFiles(e2e.tp)).filter((f) => f.describe.name === 'killed.fastq.gz');
    expect(partial.describe.state).toBe('open');
    const before = new Set(
      Object.keys((await describe(e2e.tp, partial.id, { parts: true })).parts).map(Number),
    );
    expect(before.size).toBeGreaterThanOrEqual(4);
    expect(before.size).toBeLessThan(9);

    e2e.tp.platform.faults.clear();
    e2e.tp.platform.stats.reset();
    const rerun = await ua(['--wait-on-close', '--verify', path], { timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout.trim()).toBe(partial.id);
    const sent = okIndexes(partial.id);
    expect(sent.filter((i) => before.has(i))).toEqual([]);
    expect(sent.length + before.size).toBe(9);
    const d = await waitClosed(e2e.tp, partial.id);
    expect(d.media).toBe('application/x-gzip');
    expect(md5(gunzipSync(await downloadFile(e2e.tp, partial.id)))).toBe(md5(data));
    expect((await listFiles(e2e.tp)).filter((f) => f.describe.name === 'killed.fastq.gz')).toHaveLength(1);
  }, 240_000);
});

/**
 * What resume's "verify before trust" costs: a file whose parts are all on ua-platform already, left
 * open, then finished by `ua`. ua re-reads every part before it skips it:
 * - `resume-nc`: uncompressed, one MD5 pass over the local bytes (compare with the `md5-*` limits);
 * - `resume-gz`: compressed, with this machine's record of each part's source MD5 in the state dir
 *   (one MD5 pass), and without it (each part compressed again and compared, as for a classic upload).
 * The parts are put there by this process through the real API (signed URL + PUT), exactly as an
 * earlier run would have; only the `ua` run is measured.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { effectiveChunkSize, partsOf } from '../src/plan/parts.js';
import { canonicalPath, fileSignature, SIGNATURE_PROPERTY } from '../src/plan/signature.js';
import { Journal } from '../src/state/journal.js';
import { DEFAULT_COMPRESSOR, gzipMember, loadLibdeflate, padPart } from '../src/work/gzip.js';
import { runMeasured } from './measure.js';
import type { Row } from './report.js';
import type { Ctx } from './scenarios.js';
import { NODE, ROOT, startUaPlatform, type UaTarget } from './servers.js';

const UA = join(ROOT, 'bin', 'ua.js');
const CHUNK = 75 * 2 ** 20;
const MIN_PART = 5 * 2 ** 20;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Puts every part of `path` on a new open file with its classic signature; returns the file ID. */
async function allPartsSent(
  t: UaTarget,
  path: string,
  o: { compress: boolean; level: number; journal?: Journal },
): Promise<string> {
  const st = statSync(path);
  const chunk = effectiveChunkSize(st.size, CHUNK);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const { id } = (await t.call('file/new', {
    project: t.project,
    folder: '/bench/resume',
    parents: true,
    name: o.compress ? `${name}.gz` : name,
    properties: {
      [SIGNATURE_PROPERTY]: fileSignature(st.size, st.mtimeMs, o.compress, chunk, canonicalPath(path)),
    },
  })) as { id: string };
  if (o.compress) await loadLibdeflate();
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunk);
    for (const p of partsOf(st.size, chunk)) {
      const raw = buf.subarray(0, readSync(fd, buf, 0, p.length, p.offset));
      // As ua compresses by default (libdeflate, or node:zlib where it cannot load).
      const body = o.compress ? padPart(gzipMember(raw, o.level, DEFAULT_COMPRESSOR), p.last, MIN_PART) : raw;
      const sum = md5(body);
      const { url, headers } = (await t.call(`${id}/upload`, {
        index: p.index,
        size: body.length,
        md5: sum,
      })) as { url: string; headers: Record<string, string> };
      const res = await request(url, { method: 'PUT', headers, body });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`PUT part ${p.index}: HTTP ${res.statusCode}`);
      o.journal?.recordSentPart(id, p.index, { size: body.length, md5: sum, rawMd5: md5(raw) });
    }
  } finally {
    closeSync(fd);
  }
  return id;
}

async function resumeRow(c: Ctx, row: Row, input: string, compress: boolean, records: boolean): Promise<Row> {
  const t = await startUaPlatform();
  const state = mkdtempSync(join(tmpdir(), 'ua-bench-state-'));
  try {
    const journal = records ? new Journal(state) : undefined;
    const id = await allPartsSent(t, input, { compress, level: c.level, journal });
    journal?.close();
    const args = ['-p', t.project, '--folder', '/bench/resume', ...(compress ? [] : ['--do-not-compress'])];
    args.push('--compress-level', String(c.level), input);
    const u = await runMeasured(NODE, [UA, ...args], {
      env: { ...process.env, UA_DIRECT: '0', UA_STATE_DIR: state, ...t.env },
    });
    const bytes = statSync(input).size;
    const out: Row = { ...row, command: `ua ${args.join(' ')}`, bytes, files: 1 };
    if (u.code !== 0 || u.stdout.trim() !== id)
      return { ...out, skipped: `failed (exit ${u.code}): ${u.stderr.trim().slice(-300)}` };
    const resent = /sending it again/.test(u.stderr);
    return {
      ...out,
      seconds: u.wallS,
      clientCpuS: u.userS + u.sysS,
      peakRssMiB: u.peakRssMiB,
      note: `every part checked, ${resent ? 'some re-sent (unexpected)' : 'none re-sent'}; MB/s is the verification rate`,
    };
  } finally {
    rmSync(state, { recursive: true, force: true });
    await t.stop();
  }
}

export async function resumeRows(c: Ctx): Promise<Row[]> {
  const MB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const { big, fastq, sizes } = c.data;
  return [
    await resumeRow(
      c,
      {
        id: 'resume-nc',
        group: 'platform',
        name: `ua resume, ${MB(sizes.bigBytes)} all on the platform: every part re-read and MD5-checked`,
        limit: 'md5-2',
      },
      big,
      false,
      false,
    ),
    await resumeRow(
      c,
      {
        id: 'resume-gz',
        group: 'platform',
        name: `ua resume, FASTQ ${MB(sizes.fastqBytes)} gzip -${c.level}, with this machine's part records (MD5 pass)`,
        limit: 'md5-2',
      },
      fastq,
      true,
      true,
    ),
    await resumeRow(
      c,
      {
        id: 'resume-gz-norecord',
        group: 'platform',
        name: `ua resume, FASTQ ${MB(sizes.fastqBytes)} gzip -${c.level}, no records (each part compressed again)`,
        limit: `zlib${c.level}-2`,
      },
      fastq,
      true,
      false,
    ),
  ];
}

/**
 * What the padding of short compressed parts costs the people who read the object: the first
 * `--padding-size` (default 20 MiB) of the bench FASTQ uploaded by `ua --chunk-size 5M` to ua-platform
 * (every non-last part padded: FASTQ compresses to ~1/4), the stored object downloaded, then read by
 * zcat, pigz -d and Python's gzip.decompress; and the same object with the classic agent's padding
 * (copies of the 20-byte empty member, built here from the same zlib members), read the same way.
 * The upload uses `--compressor zlib`, so the two objects differ in their padding only.
 * Each reader is bounded by 20 s; one that does not finish is shown as such.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { gzipMember, padPart, type Padding } from '../src/work/gzip.js';
import { runMeasured } from './measure.js';
import type { Row } from './report.js';
import type { Ctx } from './scenarios.js';
import { NODE, ROOT, startUaPlatform } from './servers.js';

const UA = join(ROOT, 'bin', 'ua.js');
const CHUNK = 5 * 2 ** 20;
const LIMIT_S = 20;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The first `size` bytes of `path`. */
function head(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.allocUnsafe(size);
    return b.subarray(0, readSync(fd, b, 0, size, 0));
  } finally {
    closeSync(fd);
  }
}

/** The object ua would store for `data` with zlib members at `level`, padded `padding`-wise. */
function objectOf(data: Buffer, level: number, padding: Padding): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += CHUNK) {
    const last = at + CHUNK >= data.length;
    parts.push(
      padPart(gzipMember(data.subarray(at, Math.min(at + CHUNK, data.length)), level), last, CHUNK, padding),
    );
  }
  return Buffer.concat(parts);
}

/** How many gzip members the object of `data` holds with `padding`. */
function memberCount(data: Buffer, level: number, padding: Padding): number {
  let n = 0;
  for (let at = 0; at < data.length; at += CHUNK) {
    const last = at + CHUNK >= data.length;
    const m = gzipMember(data.subarray(at, Math.min(at + CHUNK, data.length)), level).length;
    const short = !last && m < CHUNK;
    n += 1 + (!short ? 0 : padding === 'single' ? 1 : Math.ceil((CHUNK - m) / 20));
  }
  return n;
}

export async function paddingRows(c: Ctx, size: number): Promise<Row[]> {
  const data = head(c.data.fastq, size);
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-padding-'));
  const rows: Row[] = [];
  const label = `${(data.length / 2 ** 20).toFixed(0)} MiB FASTQ in 5 MiB parts`;
  try {
    const src = join(dir, 'reads.fastq');
    writeFileSync(src, data);
    // The upload: ua's own object, as ua-platform stores it.
    const t = await startUaPlatform();
    let stored: Buffer;
    try {
      // node:zlib, so that the two objects differ in their padding only (checked below).
      const args = [
        '-p',
        t.project,
        '--chunk-size',
        '5M',
        '--compressor',
        'zlib',
        '--compress-level',
        String(c.level),
        '--wait-on-close',
      ];
      const u = await runMeasured(NODE, [UA, ...args, src], {
        env: { ...process.env, UA_DIRECT: '0', ...t.env },
      });
      const id = u.stdout.trim();
      if (u.code !== 0 || !/^file-/.test(id))
        return [{ id: 'padding', group: 'peer', name: label, skipped: `ua failed: ${u.stderr.slice(-300)}` }];
      const { url } = (await t.call(`${id}/download`, {})) as { url: string };
      const res = await request(url);
      stored = Buffer.from(await res.body.arrayBuffer());
    } finally {
      await t.stop();
    }
    const objects: Array<[Padding, Buffer]> = [
      ['classic', objectOf(data, c.level, 'classic')],
      ['single', stored],
    ];
    const built = objectOf(data, c.level, 'single');
    const sameAsBuilt = built.equals(stored);
    const readers: Array<[string, string, (f: string) => string]> = [
      ['zcat', 'zcat', (f) => `zcat ${f} | md5sum`],
      ['pigz', 'pigz -dc', (f) => `pigz -dc ${f} | md5sum`],
      [
        'python3',
        'python gzip.decompress',
        (f) =>
          `python3 -c 'import gzip,hashlib,sys; print(hashlib.md5(gzip.decompress(open(sys.argv[1],"rb").read())).hexdigest())' ${f}`,
      ],
    ];
    for (const [padding, gz] of objects) {
      const file = join(dir, `${padding}.fastq.gz`);
      writeFileSync(file, gz);
      const n = memberCount(data, c.level, padding);
      const what =
        padding === 'classic'
          ? `classic padding (20-byte members), ${n.toLocaleString('en-US')} members`
          : `ua's padding (one member per part), ${n} members${sameAsBuilt ? '' : ' (NOT the object built here)'}`;
      for (const [cmd, name, line] of readers) {
        const row: Row = {
          id: `padding-${cmd === 'python3' ? 'python' : cmd}-${padding}`,
          group: 'peer',
          name: `${name} of ${label}, ${what}`,
          command: line(file).replace(dir, '$tmp'),
          bytes: data.length,
        };
        if (!has(cmd)) {
          rows.push({ ...row, skipped: `${cmd} not installed` });
          continue;
        }
        const u = await runMeasured(
          'timeout',
          [String(LIMIT_S), 'bash', '-c', `set -o pipefail; ${line(file)}`],
          {
            env: { ...process.env },
          },
        );
        c.log(`${row.id}: exit ${u.code} in ${u.wallS.toFixed(1)} s`);
        if (u.code === 124) {
          const cpu = u.userS + u.sysS; // what `timeout` saw of its child before killing it, if anything
          rows.push({
            ...row,
            skipped: `did not finish in ${LIMIT_S} s${cpu > 0.5 ? ` (${cpu.toFixed(1)} CPU s)` : ''}`,
          });
          continue;
        }
        const sum = u.stdout.trim().split(/\s/)[0];
        if (u.code !== 0 || sum !== md5(data)) {
          rows.push({ ...row, skipped: `failed (exit ${u.code}, md5 ${sum}): ${u.stderr.slice(-200)}` });
          continue;
        }
        rows.push({
          ...row,
          seconds: u.wallS,
          clientCpuS: u.userS + u.sysS,
          peakRssMiB: u.peakRssMiB,
          note: `byte-exact; object ${(gz.length / 2 ** 20).toFixed(1)} MiB`,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

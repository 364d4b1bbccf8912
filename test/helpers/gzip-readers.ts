/**
 * The gzip readers a user of an uploaded object has: GNU gzip (`gunzip -c`, `zcat`), pigz, Python's
 * gzip module (both `gzip.open(...).read()` and `gzip.decompress`) and Node's zlib. Each is run on a
 * file and its output hashed, so a test can say every reader gets the source back, byte for byte.
 *
 * pigz is a Debian package that .ci/run installs: without it a test skips (saying why) outside CI,
 * and fails under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync, inflateRawSync } from 'node:zlib';

export interface ReaderResult {
  reader: string;
  /** MD5 of what the reader wrote, or undefined when it failed. */
  md5?: string;
  bytes?: number;
  /** Its exit status and stderr when it failed, or wrote to stderr (gzip warns on stderr). */
  error?: string;
  seconds: number;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why the pigz part of a test cannot run here, or undefined. Under CI=true a missing pigz is an error. */
export function pigzMissing(): string | undefined {
  if (has('pigz')) return undefined;
  const why = 'pigz is not installed (Debian package pigz; .ci/run installs it)';
  if (process.env.CI) throw new Error(`${why}: CI must have it`);
  return why;
}

const PY_OPEN =
  'import gzip,hashlib,sys\nd=gzip.open(sys.argv[1]).read()\nprint(hashlib.md5(d).hexdigest(),len(d))';
const PY_DECOMPRESS =
  'import gzip,hashlib,sys\nd=gzip.decompress(open(sys.argv[1],"rb").read())\nprint(hashlib.md5(d).hexdigest(),len(d))';

/** The command-line readers: each writes the decompressed bytes to stdout (Python: their MD5 and length). */
function commands(path: string): Array<{ reader: string; cmd: string; args: string[]; hashes: boolean }> {
  const list = [
    { reader: 'gunzip -c', cmd: 'gunzip', args: ['-c', path], hashes: false },
    { reader: 'zcat', cmd: 'zcat', args: [path], hashes: false },
    { reader: 'python gzip.open().read()', cmd: 'python3', args: ['-c', PY_OPEN, path], hashes: true },
    { reader: 'python gzip.decompress', cmd: 'python3', args: ['-c', PY_DECOMPRESS, path], hashes: true },
  ];
  if (has('pigz')) list.splice(2, 0, { reader: 'pigz -dc', cmd: 'pigz', args: ['-dc', path], hashes: false });
  return list;
}

/** Runs every reader on the gzip file `path` (each bounded by `timeoutMs`). */
export function readWithEveryReader(path: string, timeoutMs = 60_000): ReaderResult[] {
  const out: ReaderResult[] = [];
  for (const c of commands(path)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { maxBuffer: 2 ** 31 - 1, timeout: timeoutMs });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const stderr = r.stderr?.toString().trim() ?? '';
    if (r.status !== 0 || stderr !== '') {
      out.push({
        reader: c.reader,
        error: `exit ${r.status ?? r.signal}${r.error ? ` ${r.error.message}` : ''}: ${stderr.slice(0, 300)}`,
        seconds,
      });
      continue;
    }
    if (c.hashes) {
      const [md5, bytes] = r.stdout.toString().trim().split(' ');
      out.push({ reader: c.reader, md5, bytes: Number(bytes), seconds });
    } else
      out.push({
        reader: c.reader,
        md5: createHash('md5').update(r.stdout).digest('hex'),
        bytes: r.stdout.length,
        seconds,
      });
  }
  const t0 = process.hrtime.bigint();
  const d = gunzipSync(readFileSync(path));
  out.push({
    reader: 'node zlib.gunzipSync',
    md5: createHash('md5').update(d).digest('hex'),
    bytes: d.length,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  });
  return out;
}

/**
 * The members of a multi-member gzip, in order: offset, total length and decompressed length. Only
 * the headers ua and zlib write (FLG 0: no name, comment or extra field) are understood.
 */
export function gzipMembers(gz: Buffer): Array<{ offset: number; length: number; rawLength: number }> {
  const members: Array<{ offset: number; length: number; rawLength: number }> = [];
  for (let at = 0; at < gz.length;) {
    if (gz[at] !== 0x1f || gz[at + 1] !== 0x8b || gz[at + 2] !== 8 || gz[at + 3] !== 0)
      throw new Error(`no plain gzip header at ${at}: ${gz.subarray(at, at + 4).toString('hex')}`);
    const r = inflateRawSync(gz.subarray(at + 10), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    const length = 10 + r.engine.bytesWritten + 8;
    if (gz.readUInt32LE(at + length - 4) !== r.buffer.length % 2 ** 32)
      throw new Error(`member at ${at}: ISIZE is not its length ${r.buffer.length}`);
    members.push({ offset: at, length, rawLength: r.buffer.length });
    at += length;
  }
  return members;
}

/**
 * The main job, end to end on one machine: an embedded ua-platform with a demo user, project and
 * scoped token; synthetic FASTQ files on disk; the real `ua` binary uploading them with progress;
 * then every file downloaded back through the platform and checked byte for byte; then a simulated
 * sequencer run uploaded by `ua daemon` while it is written (demo-daemon.ts).
 *   npm run demo [-- --files 4 --size 64M --keep --no-daemon]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { daemonDemo } from './demo-daemon.js';
import { startPlatform } from './platform/index.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const files = Number(flag('files', '4'));
const size = parseSize(flag('size', '48M'));
const keep = args.includes('--keep');

function parseSize(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

/** Deterministic FASTQ-like records (150 bp reads, binned qualities). */
async function writeFastq(path: string, bytes: number, seed: number): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash('md5');
  let s = seed >>> 0;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) >>> 24;
  let written = 0;
  for (let r = 0; written < bytes; r++) {
    let seq = '';
    let qual = '';
    for (let i = 0; i < 150; i++) {
      seq += 'ACGT'[rnd() & 3];
      qual += 'FFFF:,F'[rnd() % 7];
    }
    let rec = `@DEMO:1:FC:1:1:${r}:${seed} 1:N:0:ACGTACGT\n${seq}\n+\n${qual}\n`;
    if (written + rec.length > bytes) rec = rec.slice(0, bytes - written);
    written += rec.length;
    hash.update(rec);
    if (!out.write(rec)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error) => (e ? j(e) : r())));
  return hash.digest('hex');
}

async function api(
  url: string,
  token: string,
  route: string,
  input: object,
): Promise<Record<string, unknown>> {
  const res = await request(`${url}/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`${route}: ${JSON.stringify(body)}`);
  return body;
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'ua-demo-'));
  const say = (s: string) => process.stderr.write(`\x1b[1m${s}\x1b[0m\n`);
  const platform = await startPlatform({ dataDir: join(work, 'platform-data'), closingDelayMs: 200 });
  try {
    const user = platform.admin.createUser('demo-sequencing-provider');
    const project = platform.admin.createProject({ name: 'Demo run uploads', owner: user });
    // CONTRIBUTE: the daemon also launches an analysis on each complete run.
    const { token } = platform.admin.createToken({ user, scope: { projects: { [project]: 'CONTRIBUTE' } } });
    say(`ua-platform listening on ${platform.url} (data in ${platform.dataDir})`);
    say(`user ${user}, project ${project}, token scoped to it at CONTRIBUTE`);

    const dataDir = join(work, 'run-folder');
    mkdirSync(dataDir);
    const sources = new Map<string, string>();
    for (let i = 1; i <= files; i++) {
      const name = `sample${i}_R${((i - 1) % 2) + 1}.fastq`;
      sources.set(name, await writeFastq(join(dataDir, name), size, i));
    }
    say(`wrote ${files} synthetic FASTQ files of ${(size / 2 ** 20).toFixed(0)} MiB in ${dataDir}`);

    const uaBin = fileURLToPath(new URL('../../bin/ua.js', import.meta.url));
    const uaArgs = [
      '--project',
      project,
      '--folder',
      '/runs/demo',
      '--progress',
      '--wait-on-close',
      '--chunk-size',
      '16M',
      join(dataDir, '*.fastq'),
    ];
    say(`$ ua ${uaArgs.join(' ')}`);
    const env = {
      ...process.env,
      DX_APISERVER_PROTOCOL: 'http',
      DX_APISERVER_HOST: platform.host,
      DX_APISERVER_PORT: String(platform.port),
      DX_SECURITY_CONTEXT: JSON.stringify({ auth_token_type: 'Bearer', auth_token: token }),
    };
    const t0 = Date.now();
    const ids = await new Promise<string[]>((resolve, reject) => {
      const child = spawn(process.execPath, [uaBin, ...uaArgs], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        process.stdout.write(d);
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`ua exited ${code}`)),
      );
    });
    const secs = (Date.now() - t0) / 1000;

    say('verifying: download every file through the platform, gunzip, compare MD5 with the source');
    let ok = 0;
    for (const id of ids) {
      const d = await api(platform.url, token, `${id}/describe`, {});
      const { url } = (await api(platform.url, token, `${id}/download`, {})) as { url: string };
      const res = await request(url);
      const gz = Buffer.from(await res.body.arrayBuffer());
      const plain = gunzipSync(gz);
      const local = sources.get(String(d.name).replace(/\.gz$/, ''));
      const got = createHash('md5').update(plain).digest('hex');
      const good = got === local;
      ok += good ? 1 : 0;
      process.stderr.write(
        `  ${id}  ${String(d.folder)}/${String(d.name)}  ${String(d.state)}  ${gz.length} bytes stored, ${plain.length} after gunzip  ${good ? 'MD5 matches source' : `MISMATCH ${got} != ${local}`}\n`,
      );
    }
    const total = [...sources.keys()].reduce((n, f) => n + statSync(join(dataDir, f)).size, 0);
    say(
      `${ok}/${ids.length} files byte-exact; ${(total / 2 ** 20).toFixed(0)} MiB of FASTQ gzipped and uploaded in ${secs.toFixed(1)} s`,
    );
    if (ok !== files) return 1;
    if (args.includes('--no-daemon')) return 0;
    const daemonOk = await daemonDemo({
      platform,
      project,
      token,
      work,
      env,
      api: (route, input) => api(platform.url, token, route, input),
      say,
    });
    return daemonOk ? 0 : 1;
  } finally {
    await platform.stop();
    if (!keep) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  }
}

process.exitCode = await main();

/**
 * Direct-mode benchmark: `ua --direct` writing one big file and many 10 MiB files into s3rver and
 * azurite (started in this process) and registering them on ua-platform (also in this process), next
 * to `aws s3 cp` for S3 and `rclone` for both when those tools are installed.
 *
 *   node dist/bench/direct.js [--quick] [--big 2G] [--files 200] [--file-size 10M] [--clouds aws,azure]
 *
 * Client columns are the measured child process (GNU time when present). "server CPU" is this
 * process: the emulator plus ua-platform, whose registration reads every object once more to check
 * its MD5 (part of ua's wall time, not of the other tools'). Uploads are --do-not-compress: on 2 cores
 * gzip would dominate and the other tools do not compress.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';
import { startPlatform } from '../src/platform/index.js';
import { startAzuriteBench, startS3rverBench, type Emulator } from './emulators.js';
import { runMeasured, type ProcUsage } from './measure.js';

const MiB = 1024 * 1024;
const UA_BIN = fileURLToPath(new URL('../../bin/ua.js', import.meta.url));

interface Row {
  cloud: string;
  workload: string;
  tool: string;
  bytes: number;
  u?: ProcUsage;
  serverCpuS?: number;
  note?: string;
}

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(v.trim());
  if (!m) throw new Error(`bad size ${v}`);
  return Math.round(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}

function args(argv: string[]) {
  const get = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  return {
    big: parseSize(get('--big') ?? (quick ? '256M' : '2G')),
    files: Number(get('--files') ?? (quick ? 20 : 200)),
    fileSize: parseSize(get('--file-size') ?? '10M'),
    clouds: (get('--clouds') ?? 'aws,azure').split(','),
  };
}

function writeRandom(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(Math.min(size, 64 * MiB));
  try {
    for (let left = size; left > 0;) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      writeSync(fd, buf, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

async function main(): Promise<number> {
  const o = args(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'ua-bench-direct-'));
  const rows: Row[] = [];
  const platform = await startPlatform({ quiet: true });
  try {
    const bigPath = join(work, 'big.bin');
    const smallDir = join(work, 'many');
    mkdirSync(smallDir);
    process.stderr.write(
      `writing ${o.big} B and ${o.files} × ${o.fileSize} B of random data under ${work}\n`,
    );
    writeRandom(bigPath, o.big);
    for (let i = 0; i < o.files; i++)
      writeRandom(join(smallDir, `f${String(i).padStart(4, '0')}.bin`), o.fileSize);
    const user = platform.admin.createUser('bench');
    const { token } = platform.admin.createToken({ user });
    const call = async (route: string, input: object) => {
      const res = await fetch(`${platform.url}/${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      const body = (await res.json()) as { id?: string; error?: { message: string } };
      if (!res.ok) throw new Error(`${route}: ${body.error?.message}`);
      return body;
    };
    const workloads = [
      { name: `1 × ${(o.big / MiB).toFixed(0)} MiB`, bytes: o.big, path: bigPath },
      {
        name: `${o.files} × ${(o.fileSize / MiB).toFixed(0)} MiB`,
        bytes: o.files * o.fileSize,
        path: smallDir,
      },
    ];
    for (const cloud of o.clouds) {
      const emu: Emulator = cloud === 'aws' ? await startS3rverBench() : await startAzuriteBench();
      try {
        await emu.createContainer('bench');
        const drive = (
          await call('drive/new', {
            name: `bench-${cloud}`,
            cloud,
            credentials: emu.credentials,
            endpoint: emu.endpoint,
          })
        ).id!;
        for (const [wi, w] of workloads.entries()) {
          const project = (
            await call('project/new', {
              name: `bench-${cloud}-${wi}`,
              defaultSymlink: { drive, container: 'bench', prefix: `ua${wi}` },
            })
          ).id!;
          const env = {
            ...process.env,
            ...emu.clientEnv,
            DX_APISERVER_PROTOCOL: 'http',
            DX_APISERVER_HOST: platform.host,
            DX_APISERVER_PORT: String(platform.port),
            DX_SECURITY_CONTEXT: JSON.stringify({ auth_token_type: 'Bearer', auth_token: token }),
            UA_STATE_DIR: join(work, 'state'),
          };
          const cpu0 = process.cpuUsage();
          const u = await runMeasured(
            process.execPath,
            [UA_BIN, '--direct', '-p', project, '--do-not-compress', '--chunk-size', '16M', w.path],
            { env },
          );
          const c = process.cpuUsage(cpu0);
          rows.push({
            cloud,
            workload: w.name,
            tool: 'ua --direct',
            bytes: w.bytes,
            u,
            serverCpuS: (c.user + c.system) / 1e6,
            note: u.code === 0 ? undefined : `exit ${u.code}: ${u.stderr.slice(-300)}`,
          });
          rows.push(await other(cloud, w, emu, wi));
        }
      } finally {
        await emu.stop();
      }
    }
  } finally {
    await platform.stop();
    rmSync(work, { recursive: true, force: true });
  }
  print(rows);
  return rows.some((r) => r.u && r.u.code !== 0) ? 1 : 0;
}

/** The same upload by a common tool, or a row saying why it was skipped. */
async function other(
  cloud: string,
  w: { name: string; bytes: number; path: string },
  emu: Emulator,
  wi: number,
): Promise<Row> {
  const env = {
    ...process.env,
    ...emu.clientEnv,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
  };
  const dir = w.path.endsWith('.bin') ? [] : ['--recursive'];
  const cpu0 = process.cpuUsage();
  let u: ProcUsage;
  let tool: string;
  if (cloud === 'aws' && has('aws')) {
    tool = 'aws s3 cp';
    u = await runMeasured(
      'aws',
      [
        '--endpoint-url',
        emu.endpoint,
        's3',
        'cp',
        '--only-show-errors',
        ...dir,
        w.path,
        `s3://bench/awscli${wi}/${dir.length ? '' : 'big.bin'}`,
      ],
      { env },
    );
  } else if (has('rclone')) {
    tool = 'rclone copy';
    const remote =
      cloud === 'aws'
        ? `:s3,provider=Other,endpoint=${emu.endpoint},access_key_id=S3RVER,secret_access_key=S3RVER:bench/rclone${wi}`
        : `:azureblob,account=${emu.credentials.account},key=${emu.credentials.key},endpoint=${emu.endpoint}:bench/rclone${wi}`;
    u = await runMeasured('rclone', ['copy', w.path, remote], { env });
  } else {
    return {
      cloud,
      workload: w.name,
      tool: cloud === 'aws' ? 'aws s3 cp / rclone' : 'rclone',
      bytes: w.bytes,
      note: 'skipped: not installed',
    };
  }
  const c = process.cpuUsage(cpu0);
  return {
    cloud,
    workload: w.name,
    tool,
    bytes: w.bytes,
    u,
    serverCpuS: (c.user + c.system) / 1e6,
    note: u.code === 0 ? undefined : `exit ${u.code}: ${u.stderr.slice(-300)}`,
  };
}

function print(rows: Row[]): void {
  const head = [
    'cloud',
    'workload',
    'tool',
    'MB/s',
    'wall s',
    'client CPU s',
    'client RSS MiB',
    'server CPU s',
    'note',
  ];
  const lines = rows.map((r) => [
    r.cloud,
    r.workload,
    r.tool,
    r.u ? (r.bytes / 1e6 / r.u.wallS).toFixed(1) : '-',
    r.u ? r.u.wallS.toFixed(2) : '-',
    r.u ? (r.u.userS + r.u.sysS).toFixed(2) : '-',
    r.u ? r.u.peakRssMiB.toFixed(0) : '-',
    r.serverCpuS !== undefined ? r.serverCpuS.toFixed(2) : '-',
    r.note ?? '',
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) =>
    l
      .map((c, i) => c.padEnd(width[i]))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${fmt(head)}\n${lines.map(fmt).join('\n')}\n`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);

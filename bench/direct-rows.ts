/**
 * Direct mode rows: `ua --direct` into s3rver and azurite, next to the peers a user would reach for
 * instead — `aws s3 cp`, `rclone copy`, `s3cmd put` and the SDKs' own upload helpers — each with its
 * defaults, on the same emulator process. Every row's stored objects are then read back and compared
 * with the local files (stored.ts): a row that stored nothing or the wrong bytes is reported as failed.
 *
 * rclone and s3cmd are Debian packages; when either is missing and the bench runs as root with apt-get,
 * it installs them (as .ci/run does for the tests' packages), else their rows say they were skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { runMeasured, type ServerProcess } from './measure.js';
import type { Row } from './report.js';
import {
  dist,
  failed,
  has,
  perFileNote,
  runUa,
  settled,
  warm,
  withTarget,
  type Ctx,
  UA,
} from './scenarios.js';
import {
  AZURITE_KEY,
  NODE,
  ROOT,
  startAzuriteProcess,
  startS3rverProcess,
  startUaPlatform,
} from './servers.js';
import { checkAzure, checkS3 } from './stored.js';

export interface DirectSet {
  id: string;
  label: string;
  /** A file, or a folder of files. */
  input: string;
  files: number;
  bytes: number;
}

export function directBuilt(): boolean {
  const r = spawnSync(NODE, [UA, '--help'], { encoding: 'utf8' });
  return /--direct\b/.test(`${r.stdout}${r.stderr}`);
}

/** Installs rclone and s3cmd from Debian when missing and we may (root, apt-get); says what it did. */
export function ensurePeerTools(log: (s: string) => void): void {
  const missing = ['rclone', 's3cmd'].filter((t) => !has(t));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    log(`${missing.join(', ')} not installed (Debian packages of the same names): their rows are skipped`);
    return;
  }
  log(`installing ${missing.join(', ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env });
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  }
  if (r.status !== 0) log(`apt-get install ${missing.join(' ')} failed: ${String(r.stderr).slice(-300)}`);
}

interface PeerSpec {
  id: string;
  name: string;
  /** The command to look for; undefined: always there (node). */
  tool?: string;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  /** Where in the bucket/container the tool writes (checked afterwards). */
  prefix: string;
}

/**
 * Runs one peer, then checks what it stored (`check` returns what is wrong, or undefined). The check
 * is outside the timed section.
 */
async function peerRow(
  spec: PeerSpec,
  set: DirectSet,
  server: ServerProcess,
  check: (prefix: string) => Promise<string | undefined>,
): Promise<Row> {
  const row: Row = { id: spec.id, group: 'peer', name: spec.name };
  if (spec.tool && !has(spec.tool)) return { ...row, skipped: `${spec.tool} not installed` };
  warm(set.input);
  const s0 = server.usage();
  const u = await runMeasured(spec.cmd, spec.args, { env: { ...process.env, ...spec.env } });
  await settled(server);
  const s1 = server.usage();
  const r: Row = {
    ...row,
    command: `${spec.cmd.split('/').pop()} ${spec.args.join(' ')}`.slice(0, 400),
    bytes: set.bytes,
    files: set.files,
  };
  if (u.code !== 0) return failed(r, u);
  return verified(
    {
      ...r,
      seconds: u.wallS,
      clientCpuS: u.userS + u.sysS,
      peakRssMiB: u.peakRssMiB,
      serverCpuS: s1.cpuS - s0.cpuS,
      serverPeakRssMiB: s1.peakRssMiB,
      note: perFileNote(set.files, u.userS + u.sysS, s1.cpuS - s0.cpuS),
    },
    await check(spec.prefix),
    set.files,
  );
}

function verified(row: Row, wrong: string | undefined, files: number): Row {
  if (row.skipped) return row;
  if (wrong) return { ...row, skipped: `stored bytes wrong: ${wrong}` };
  const ok = `stored bytes checked (${files} object${files > 1 ? 's' : ''}, MD5)`;
  return { ...row, note: row.note ? `${row.note}; ${ok}` : ok };
}

/**
 * The `ua --direct` row for one data set: a fresh ua-platform with a drive and a project that
 * auto-symlinks into `symlink`, then ua --direct with `env` (the cloud credentials).
 */
async function uaDirectRow(
  c: Ctx,
  built: boolean,
  set: DirectSet,
  o: {
    row: Row;
    proc: ServerProcess;
    drive: Record<string, unknown>;
    project: string;
    symlink: { container: string; prefix: string };
    env: Record<string, string>;
    check: (prefix: string) => Promise<string | undefined>;
  },
): Promise<Row> {
  const { id, group, name } = o.row;
  if (!built) return { id, group, name, skipped: 'not built (ua has no --direct)' };
  const row = await withTarget(startUaPlatform, async (t) => {
    const d = await t.call('drive/new', o.drive);
    const p = await t.call('project/new', { name: o.project, defaultSymlink: { drive: d.id, ...o.symlink } });
    return runUa(c, {
      target: { ...t, proc: o.proc, project: String(p.id) },
      row: o.row,
      args: [
        '--direct',
        '--do-not-compress',
        '--state-dir',
        join(ROOT, '.tmp', 'bench-state', String(Date.now())),
        set.input,
      ],
      files: set.files,
      bytes: set.bytes,
      env: { ...o.env, UA_DIRECT: '1' },
    });
  });
  return row.skipped ? row : verified(row, await o.check(o.symlink.prefix), set.files);
}

const inputsOf = (set: DirectSet) =>
  set.files === 1 ? [set.input] : readdirSync(set.input).map((f) => join(set.input, f));
/** rclone's AWS SDK refuses a custom CA bundle with its own HTTP transport; the endpoints are http. */
const NO_CA_BUNDLE = { AWS_CA_BUNDLE: '' };

/** Direct S3 (s3rver) rows for each data set: ua --direct, then the peers, all on one s3rver. */
export async function s3Rows(c: Ctx, sets: DirectSet[], built: boolean): Promise<Row[]> {
  ensurePeerTools(c.log);
  const rows: Row[] = [];
  const s3 = await startS3rverProcess();
  const keys = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
  const host = new URL(s3.endpoint).host;
  // s3cmd reads its keys from a config file (kept off the command line); path-style via --host-bucket.
  const s3cfg = join(mkdtempSync(join(tmpdir(), 'ua-bench-s3cmd-')), 's3cfg');
  writeFileSync(s3cfg, '[default]\naccess_key = S3RVER\nsecret_key = S3RVER\nbucket_location = us-east-1\n');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    for (const set of sets) {
      const bucket = `bench-${set.id}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const check = (prefix: string) => checkS3(client, bucket, prefix, set.input);
      const name = (tool: string) => `${tool} ${set.label} → s3rver`;
      const many = set.files > 1;
      const peers: PeerSpec[] = [
        {
          id: `aws-${set.id}`,
          name: name('aws s3 cp'),
          tool: 'aws',
          cmd: 'aws',
          args: [
            '--endpoint-url',
            s3.endpoint,
            's3',
            'cp',
            '--quiet',
            ...(many ? ['--recursive'] : []),
            set.input,
            `s3://${bucket}/aws/`,
          ],
          env: keys,
          prefix: 'aws/',
        },
        {
          id: `sdk-s3-${set.id}`,
          name: name('@aws-sdk/lib-storage Upload'),
          cmd: NODE,
          args: [dist('sdk-peer.js'), 's3', s3.endpoint, bucket, ...inputsOf(set)],
          env: {},
          prefix: 'sdk/',
        },
        {
          id: `rclone-${set.id}`,
          name: name('rclone copy'),
          tool: 'rclone',
          cmd: 'rclone',
          args: ['copy', '-q', set.input, `:s3:${bucket}/rclone/`],
          env: {
            ...NO_CA_BUNDLE,
            RCLONE_CONFIG: '/dev/null',
            RCLONE_S3_PROVIDER: 'Other',
            RCLONE_S3_ENDPOINT: s3.endpoint,
            RCLONE_S3_ACCESS_KEY_ID: 'S3RVER',
            RCLONE_S3_SECRET_ACCESS_KEY: 'S3RVER',
            RCLONE_S3_FORCE_PATH_STYLE: 'true',
          },
          prefix: 'rclone/',
        },
        {
          id: `s3cmd-${set.id}`,
          name: name('s3cmd put'),
          tool: 's3cmd',
          cmd: 's3cmd',
          args: [
            '-c',
            s3cfg,
            `--host=${host}`,
            `--host-bucket=${host}`,
            '--no-ssl',
            'put',
            '--no-progress',
            ...(many ? ['--recursive'] : []),
            set.input,
            `s3://${bucket}/s3cmd/`,
          ],
          env: {},
          prefix: 's3cmd/',
        },
      ];
      rows.push(
        await uaDirectRow(c, built, set, {
          row: {
            id: `s3-${set.id}`,
            group: 'direct',
            name: name('ua --direct'),
            peers: peers.map((p) => p.id),
          },
          proc: s3.proc,
          drive: {
            name: 'bench-s3',
            cloud: 'aws',
            credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
            endpoint: s3.endpoint,
          },
          project: `direct-${set.id}`,
          symlink: { container: bucket, prefix: 'ua/' },
          env: keys,
          check,
        }),
      );
      for (const p of peers) rows.push(await peerRow(p, set, s3.proc, check));
    }
  } finally {
    client.destroy();
    await s3.stop();
  }
  return rows;
}

/** Direct Azure (azurite) rows: ua --direct, @azure/storage-blob uploadFile and rclone copy. */
export async function azureRows(c: Ctx, sets: DirectSet[], built: boolean): Promise<Row[]> {
  ensurePeerTools(c.log);
  const rows: Row[] = [];
  const az = await startAzuriteProcess();
  try {
    const key = new StorageSharedKeyCredential('devstoreaccount1', AZURITE_KEY);
    const service = new BlobServiceClient(az.endpoint, key);
    for (const set of sets) {
      const container = `bench-${set.id}`;
      const cc = service.getContainerClient(container);
      await cc.create();
      const check = (prefix: string) => checkAzure(cc, prefix, set.input);
      const name = (tool: string) => `${tool} ${set.label} → azurite`;
      // rclone 1.60 builds https://<account>.<endpoint> from an account and key, so it cannot reach
      // azurite's http://127.0.0.1:<port>/<account> that way; a container SAS URL names the container
      // exactly (kept in its environment, off the command line).
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container,
          permissions: ContainerSASPermissions.parse('racwdl'),
          expiresOn: new Date(Date.now() + 24 * 3600e3),
        },
        key,
      ).toString();
      const peers: PeerSpec[] = [
        {
          id: `sdk-azure-${set.id}`,
          name: name('@azure/storage-blob uploadFile'),
          cmd: NODE,
          args: [dist('sdk-peer.js'), 'azure', az.connectionString, container, ...inputsOf(set)],
          env: {},
          prefix: 'sdk/',
        },
        {
          id: `rclone-az-${set.id}`,
          name: name('rclone copy'),
          tool: 'rclone',
          cmd: 'rclone',
          args: ['copy', '-q', set.input, `:azureblob:${container}/rclone/`],
          env: { ...NO_CA_BUNDLE, RCLONE_CONFIG: '/dev/null', RCLONE_AZUREBLOB_SAS_URL: `${cc.url}?${sas}` },
          prefix: 'rclone/',
        },
      ];
      rows.push(
        await uaDirectRow(c, built, set, {
          row: {
            id: `az-${set.id}`,
            group: 'direct',
            name: name('ua --direct'),
            peers: peers.map((p) => p.id),
          },
          proc: az.proc,
          drive: {
            name: 'bench-az',
            cloud: 'azure',
            credentials: { account: 'devstoreaccount1', key: AZURITE_KEY },
            endpoint: az.endpoint,
          },
          project: `direct-az-${set.id}`,
          symlink: { container, prefix: 'ua/' },
          env: { AZURE_STORAGE_CONNECTION_STRING: az.connectionString },
          check,
        }),
      );
      for (const p of peers) rows.push(await peerRow(p, set, az.proc, check));
    }
  } finally {
    await az.stop();
  }
  return rows;
}

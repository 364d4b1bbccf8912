/**
 * `ua --direct` against `@azure/storage-blob` uploadFile on one file into one azurite, alternating,
 * so both see the same load (this machine is shared; a run of one after the other is not a
 * comparison). Extra ua flags make variants (e.g. another --chunk-size).
 *
 *   node dist/bench/azure-alternate.js <file> [--reps 2] [--variant 'ua8=--chunk-size 8M' …]
 *
 * Prints one line per upload: MB/s (wall, start-up included), client CPU s (GNU time), azurite CPU s.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { runMeasured } from './measure.js';
import { dist, settled } from './scenarios.js';
import { AZURITE_KEY, NODE, ROOT, startAzuriteProcess, startUaPlatform } from './servers.js';

const argv = process.argv.slice(2);
const file = argv[0];
if (!file) throw new Error('usage: azure-alternate.js <file> [--reps N] [--variant name=flags …]');
const reps = Number(argv[argv.indexOf('--reps') + 1] || 2);
const variants: Array<[string, string[]]> = [
  ['ua', []],
  ['sdk', []],
  ...argv
    .flatMap((a, i) => (a === '--variant' ? [argv[i + 1]] : []))
    .map((v): [string, string[]] => [
      v.split('=')[0],
      v
        .slice(v.indexOf('=') + 1)
        .split(' ')
        .filter(Boolean),
    ]),
];
const bytes = statSync(file).size;
const az = await startAzuriteProcess();
const t = await startUaPlatform();
try {
  await BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient('bench').create();
  const d = await t.call('drive/new', {
    name: 'bench-az',
    cloud: 'azure',
    credentials: { account: 'devstoreaccount1', key: AZURITE_KEY },
    endpoint: az.endpoint,
  });
  for (let r = 0; r < reps; r++)
    for (const [name, flags] of variants) {
      // A project of its own per upload: ua would otherwise find the earlier one and send nothing.
      const p = await t.call('project/new', {
        name: `${name}-${r}`,
        defaultSymlink: { drive: d.id, container: 'bench', prefix: `${name}-${r}/` },
      });
      const args =
        name === 'sdk'
          ? [dist('sdk-peer.js'), 'azure', az.connectionString, 'bench', file]
          : [
              join(ROOT, 'bin', 'ua.js'),
              ...['-p', String(p.id), '--direct', '--do-not-compress'],
              ...['--state-dir', join(ROOT, '.tmp', 'bench-state', `${Date.now()}`)],
              ...flags,
              file,
            ];
      const s0 = az.proc.usage().cpuS;
      const u = await runMeasured(NODE, args, {
        env: {
          ...process.env,
          ...t.env,
          AZURE_STORAGE_CONNECTION_STRING: az.connectionString,
          UA_DIRECT: '1',
        },
      });
      await settled(az.proc);
      const line =
        u.code !== 0
          ? `failed (exit ${u.code}): ${u.stderr.slice(-300)}`
          : `${(bytes / 1e6 / u.wallS).toFixed(0)} MB/s, client CPU ${(u.userS + u.sysS).toFixed(2)} s, azurite CPU ${(az.proc.usage().cpuS - s0).toFixed(2)} s`;
      process.stdout.write(`${name} #${r + 1}: ${line}\n`);
    }
} finally {
  await t.stop();
  await az.stop();
}

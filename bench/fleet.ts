/**
 * Fleet mode: the same finished folders as the daemon rows, uploaded by one host and by two hosts
 * sharing a PostgreSQL queue (a throwaway cluster, as the tests start), each host a real
 * `ua daemon --once --queue …` process on this machine. Rows give files/s, MB/s and CPU/GB of the
 * hosts together, the split between them, and the queue's cost: the time each host spent waiting
 * for its statements, per uploaded file (goal < 2 ms).
 *
 * Both hosts share this machine's 2 cores and one ua-platform, so two hosts cannot be faster here:
 * the rows show what the queue costs and that the work splits, not a fleet's scaling (that needs
 * two machines, each with its own link and cores).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresMissing, startTestPostgres } from '../test/helpers/postgres.js';
import { novaseqRun, smallRun, type DaemonBenchSizes } from './daemon.js';
import { runMeasured, type ProcUsage } from './measure.js';
import type { Row } from './report.js';
import type { Ctx } from './scenarios.js';
import { NODE, ROOT, startUaPlatform } from './servers.js';

const UA = join(ROOT, 'bin', 'ua.js');

interface FleetSet {
  id: string;
  label: string;
  root: string;
  files: number;
  bytes: number;
  args: string[];
}

/** The queue statements and milliseconds a host logged when it stopped. */
function queueCost(u: ProcUsage): { statements: number; ms: number } {
  for (const line of u.stdout.split('\n').reverse()) {
    if (!line.includes('queue_ms')) continue;
    try {
      const j = JSON.parse(line) as { queue_statements: number; queue_ms: number };
      return { statements: j.queue_statements, ms: j.queue_ms };
    } catch {
      // not JSON
    }
  }
  return { statements: 0, ms: 0 };
}

async function onQueue<T>(queue: string, f: (c: import('pg').Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: queue });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** Files each host uploaded: the files whose object it made (as `status` counts them). */
const hostCounts = (queue: string) =>
  onQueue(queue, async (c) =>
    (
      await c.query<{ n: string }>(
        `SELECT COUNT(f.id) AS n FROM hosts h LEFT JOIN files f ON f.claimed_by = h.id AND f.state = 'uploaded'
          GROUP BY h.id ORDER BY h.id`,
      )
    ).rows.map((r) => Number(r.n)),
  );

/** The server's own execution time of every statement run in this database (pg_stat_statements), ms. */
const serverMs = (queue: string) =>
  onQueue(queue, async (c) => {
    const r = await c.query<{ ms: number | null; n: string | null }>(
      `SELECT SUM(total_exec_time) AS ms, SUM(calls) AS n FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return { ms: Number(r.rows[0].ms ?? 0), statements: Number(r.rows[0].n ?? 0) };
  });

async function measureHosts(set: FleetSet, hosts: number, queue: string): Promise<Row> {
  const t = await startUaPlatform();
  const states = Array.from({ length: hosts }, () => mkdtempSync(join(tmpdir(), 'ua-bench-fleet-')));
  try {
    const argsOf = (i: number) => [
      'daemon',
      '--once',
      '--watch',
      set.root,
      '--project',
      t.project,
      '--folder',
      '/bench',
      '--state-dir',
      states[i],
      '--queue',
      queue,
      '--host-id',
      `bench-${i + 1}`,
      '--settle',
      '0s',
      // A host learns of other hosts' progress at its ticks: with --once it exits at the first tick
      // that finds nothing left, so the interval bounds how long the last host idles.
      '--scan-interval',
      '1s',
      '--log-format',
      'json',
      ...set.args,
    ];
    const runs = await Promise.all(
      states.map((_, i) =>
        runMeasured(NODE, [UA, ...argsOf(i)], { env: { ...process.env, UA_DIRECT: '0', ...t.env } }),
      ),
    );
    const row: Row = {
      id: `fleet-${set.id}-${hosts}`,
      group: 'platform',
      name: `${hosts} ${hosts === 1 ? 'host' : 'hosts'} on one PostgreSQL queue, the finished ${set.label}`,
      command: `ua ${argsOf(0).join(' ')}${hosts > 1 ? ` (and ${hosts - 1} more with their own --host-id)` : ''}`,
      bytes: set.bytes,
      files: set.files,
      limit: hosts > 1 ? `fleet-${set.id}-1` : `daemon-${set.id}`,
    };
    const failed = runs.find((u) => u.code !== 0);
    if (failed)
      return {
        ...row,
        skipped: `failed (exit ${failed.code}): ${(failed.stderr || failed.stdout).trim().slice(-300)}`,
      };
    const cost = runs.map(queueCost);
    const uploaded = await hostCounts(queue);
    const waited = cost.reduce((a, c) => a + c.ms, 0);
    const server = await serverMs(queue);
    return {
      ...row,
      seconds: Math.max(...runs.map((u) => u.wallS)),
      clientCpuS: runs.reduce((a, u) => a + u.userS + u.sysS, 0),
      peakRssMiB: Math.max(...runs.map((u) => u.peakRssMiB)),
      note:
        `database time ${(server.ms / set.files).toFixed(2)} ms per file (${server.statements} statements, server-side; goal < 2 ms); ` +
        `hosts waited ${(waited / set.files).toFixed(1)} ms per file for answers (concurrent, event loop included)` +
        (hosts > 1 ? `; split ${uploaded.join(' / ')} files` : ''),
    };
  } finally {
    for (const s of states) rmSync(s, { recursive: true, force: true });
    await t.stop();
  }
}

export async function fleetRows(c: Ctx, s: DaemonBenchSizes): Promise<Row[]> {
  const missing = postgresMissing();
  if (missing) return [{ id: 'fleet', group: 'platform', name: 'fleet mode', skipped: missing }];
  const run = await novaseqRun(s, c.log);
  const small = smallRun(s.smallFiles, c.log);
  const sets: FleetSet[] = [
    {
      id: 'run',
      label: `NovaSeq run (${run.files} files)`,
      root: run.root,
      files: run.files,
      bytes: run.bytes,
      args: [],
    },
    {
      id: 'small',
      label: `run of ${s.smallFiles} × 4 KiB files`,
      root: small.root,
      files: s.smallFiles + 1,
      bytes: s.smallFiles * 4096 + 5,
      args: ['--profile', 'generic', '--complete-marker', 'done.txt'],
    },
  ];
  const pg = await startTestPostgres({ statStatements: true });
  const rows: Row[] = [];
  try {
    for (const set of sets)
      for (const hosts of [1, 2]) {
        c.log(`fleet: ${set.label}, ${hosts} host(s)`);
        const queue = await pg.database();
        await onQueue(queue, (q) => q.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
        rows.push(await measureHosts(set, hosts, queue));
      }
  } finally {
    pg.cleanup();
  }
  return rows;
}

/**
 * The daemon against `ua` on the same finished folders, each on a fresh ua-platform process:
 * - `daemon-run` / `ua-run`: a simulated NovaSeq run (CBCLs, InterOp, markers) — files/s, MB/s,
 *   CPU and peak RSS of `ua daemon --once --settle 0s` (scan, settle, upload, sentinel, exit) next
 *   to `ua --recursive` on the same folder (goal: the daemon within 10%);
 * - `daemon-small` / `ua-small`: one run of many 4 KiB files, where the daemon's per-file cost (its
 *   SQLite rows and transactions) shows; its peak RSS next to the count says whether memory is flat.
 * Data is generated once under bench/data/ (the simulator at full speed, or random small files).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateRun } from '../src/sim/sequencer.js';
import { DATA_DIR, ensureFolder } from './data.js';
import { runMeasured } from './measure.js';
import type { Row } from './report.js';
import type { Ctx } from './scenarios.js';
import { NODE, ROOT, startUaPlatform } from './servers.js';

const UA = join(ROOT, 'bin', 'ua.js');

export interface DaemonBenchSizes {
  cycles: number;
  tiles: number;
  cbclBytes: number;
  smallFiles: number;
}

export const DAEMON_QUICK: DaemonBenchSizes = {
  cycles: 8,
  tiles: 2,
  cbclBytes: 2 * 2 ** 20,
  smallFiles: 2000,
};
export const DAEMON_FULL: DaemonBenchSizes = {
  cycles: 25,
  tiles: 4,
  cbclBytes: 4 * 2 ** 20,
  smallFiles: 20_000,
};

/** A finished simulated NovaSeq run under bench/data/ (root folder holding one run folder). */
export async function novaseqRun(
  s: DaemonBenchSizes,
  log: (s: string) => void,
): Promise<{ root: string; dir: string; files: number; bytes: number }> {
  const root = join(DATA_DIR, `novaseq-${s.cycles}c-${s.tiles}t-${s.cbclBytes}`);
  const marker = join(root, '.complete.json');
  if (!existsSync(marker)) {
    log(`generating a simulated NovaSeq run in ${root} …`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const run = await simulateRun({
      root,
      profile: 'novaseq',
      cycles: s.cycles,
      lanes: 2,
      tiles: s.tiles,
      cbclBytes: s.cbclBytes,
      cycleMs: 0,
      seed: 11,
    });
    writeFileSync(marker, JSON.stringify({ dir: run.dir, files: run.entries.length, bytes: run.bytes }));
  }
  const { dir, files, bytes } = JSON.parse((await import('node:fs')).readFileSync(marker, 'utf8')) as {
    dir: string;
    files: number;
    bytes: number;
  };
  return { root, dir, files, bytes };
}

/** A generic run of `n` small files with a `done.txt` marker. */
export function smallRun(n: number, log: (s: string) => void): { root: string; dir: string } {
  const base = join(DATA_DIR, `smallrun-${n}`);
  const files = ensureFolder(base, n, 4096, log); // base/files holds them
  writeFileSync(join(files, 'done.txt'), 'done\n');
  return { root: base, dir: files };
}

async function measurePair(
  c: Ctx,
  set: {
    id: string;
    label: string;
    root: string;
    dir: string;
    files: number;
    bytes: number;
    daemonArgs: string[];
  },
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const which of ['ua', 'daemon'] as const) {
    const t = await startUaPlatform();
    const state = mkdtempSync(join(tmpdir(), 'ua-bench-daemon-'));
    try {
      const args =
        which === 'ua'
          ? [
              '-p',
              t.project,
              '--folder',
              '/bench',
              '--recursive',
              '--do-not-compress',
              '--override-file-limit',
              set.dir,
            ]
          : [
              'daemon',
              '--once',
              '--watch',
              set.root,
              '--project',
              t.project,
              '--folder',
              '/bench',
              '--state-dir',
              state,
              '--settle',
              '0s',
              '--log-format',
              'json',
              ...set.daemonArgs,
            ];
      const u = await runMeasured(NODE, [UA, ...args], {
        env: { ...process.env, UA_DIRECT: '0', UA_STATE_DIR: state, ...t.env },
      });
      const row: Row = {
        id: `${which}-${set.id}`,
        group: 'platform',
        name:
          which === 'ua'
            ? `ua --recursive on the finished ${set.label}`
            : `ua daemon --once on the finished ${set.label} (scan, upload, sentinel)`,
        command: `ua ${args.join(' ')}`,
        bytes: set.bytes,
        files: set.files,
        limit: which === 'daemon' ? `ua-${set.id}` : undefined,
      };
      if (u.code !== 0)
        rows.push({
          ...row,
          skipped: `failed (exit ${u.code}): ${(u.stderr || u.stdout).trim().slice(-300)}`,
        });
      else rows.push({ ...row, seconds: u.wallS, clientCpuS: u.userS + u.sysS, peakRssMiB: u.peakRssMiB });
    } finally {
      rmSync(state, { recursive: true, force: true });
      await t.stop();
    }
  }
  const [ua, d] = rows;
  if (ua.seconds && d.seconds)
    d.note = `daemon time / ua time = ${(d.seconds / ua.seconds).toFixed(2)} (goal ≤ 1.10)`;
  return rows;
}

export async function daemonRows(c: Ctx, s: DaemonBenchSizes): Promise<Row[]> {
  const run = await novaseqRun(s, c.log);
  const small = smallRun(s.smallFiles, c.log);
  return [
    ...(await measurePair(c, {
      id: 'run',
      label: `NovaSeq run (${run.files} files)`,
      ...run,
      daemonArgs: [],
    })),
    ...(await measurePair(c, {
      id: 'small',
      label: `run of ${s.smallFiles} × 4 KiB files`,
      root: small.root,
      dir: small.dir,
      files: s.smallFiles + 1,
      bytes: s.smallFiles * 4096 + 5,
      daemonArgs: ['--profile', 'generic', '--complete-marker', 'done.txt'],
    })),
    await statusPageRow(),
    await daemonMemoryRow(small.root, s.smallFiles),
  ];
}

/**
 * The status page's cost with 200 runs and 100,000 files (issue target: < 200 ms a page): a state
 * database filled through the store, the ops server in this process, GET / and GET /runs/<name>
 * 20 times each over HTTP; the median and the worst are reported.
 */
export async function statusPageRow(): Promise<Row> {
  const { openDaemonDb } = await import('../src/daemon/state/db.js');
  const { SqliteSql } = await import('../src/daemon/state/sql.js');
  const { DaemonStore } = await import('../src/daemon/state/store.js');
  const { readStatus } = await import('../src/daemon/ops/status.js');
  const { readRunDetail } = await import('../src/daemon/web/detail.js');
  const { startOpsServer } = await import('../src/daemon/ops/http.js');
  const { request } = await import('undici');
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-status-'));
  const db = new SqliteSql(openDaemonDb(dir));
  try {
    const store = new DaemonStore(db, { host: 'bench', leaseMs: 60_000 });
    const now = Date.now();
    const st = { size: 4096, mtimeMs: now, dev: 1, ino: 1, ctimeMs: now };
    await store.tx(async (store) => {
      for (let r = 0; r < 200; r++) {
        const { run } = await store.upsertRun({
          dir: `/runs/R${r}`,
          root: '/runs',
          name: `R${r}`,
          profile: 'illumina',
          runId: `R${r}`,
          startedAt: now,
          now,
        });
        const batch = Array.from({ length: 500 }, (_, f) => ({
          rel: `Data/L001/C${f}.1/L001_1.cbcl`,
          st: { ...st, ino: f },
        }));
        await store.observe(run, batch, 'project-x', now);
      }
    });
    await db.run(
      `UPDATE files SET state = 'uploaded', file_id = 'file-x', uploaded_at = ? WHERE id % 3 = 0`,
      [now],
    );
    await store.hostStarted(process.pid, 'bench', now);
    const ops = await startOpsServer(
      { host: '127.0.0.1', port: 0 },
      { status: () => readStatus(db), detail: (n, q) => readRunDetail(db, n, q) },
    );
    const times: Record<string, number[]> = { '/': [], '/runs/R17': [] };
    try {
      for (let i = 0; i < 20; i++)
        for (const path of Object.keys(times)) {
          const t0 = performance.now();
          const res = await request(`${ops.url}${path}`);
          await res.body.text();
          times[path].push(performance.now() - t0);
        }
    } finally {
      await ops.close();
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const worst = (a: number[]) => Math.max(...a);
    return {
      id: 'status-page',
      group: 'platform',
      name: 'daemon status page, 200 runs and 100,000 files: GET / and GET /runs/<name>',
      note:
        Object.entries(times)
          .map(([p, t]) => `${p} median ${med(t).toFixed(0)} ms, worst ${worst(t).toFixed(0)} ms`)
          .join('; ') + ' (goal < 200 ms)',
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Memory while a run of many small files passes through a daemon in this process: heap used after
 * a forced GC and RSS, sampled every 5 s. Flat = the last samples equal the first ones after the
 * initial scan, whatever the count (the queue is the database; at most 4 × upload-threads files are
 * in flight).
 */
export async function daemonMemoryRow(smallDir: string, files: number): Promise<Row> {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const { Daemon } = await import('../src/daemon/daemon.js');
  const t = await startUaPlatform();
  const state = mkdtempSync(join(tmpdir(), 'ua-bench-mem-'));
  const samples: Array<{ s: number; done: number; heap: number; rss: number }> = [];
  try {
    const sc = JSON.parse(t.env.DX_SECURITY_CONTEXT) as { auth_token: string };
    const d = await Daemon.open({
      options: {
        watch: [smallDir],
        project: t.project,
        folder: '/mem',
        stateDir: state,
        hostId: 'bench',
        leaseMs: 60_000,
        settleMs: 0,
        scanIntervalMs: 10_000,
        stallAfterMs: 86_400_000,
        profile: 'generic',
        completeMarker: 'done.txt',
        completeAfterMs: 3_600_000,
        layout: 'files',
        tarSize: 1 << 30,
        tarWaitMs: 1_800_000,
        exclude: [],
        failAfter: 5,
        retryBaseMs: 30_000,
        uploadThreads: 8,
        compressThreads: 2,
        compress: false,
        drainTimeoutMs: 5000,
        once: true,
      },
      session: {
        server: { protocol: 'http', host: t.env.DX_APISERVER_HOST, port: Number(t.env.DX_APISERVER_PORT) },
        token: sc.auth_token,
      },
      log: { log() {} },
    });
    const t0 = Date.now();
    let lastDone = 0;
    const iv = setInterval(() => {
      void d.status().then((s) => (lastDone = s.runs[0]?.files.done ?? 0));
      gc();
      const m = process.memoryUsage();
      samples.push({
        s: (Date.now() - t0) / 1000,
        done: lastDone,
        heap: m.heapUsed / 2 ** 20,
        rss: m.rss / 2 ** 20,
      });
    }, 5000);
    await d.idle;
    clearInterval(iv);
    await d.close();
    const seconds = (Date.now() - t0) / 1000;
    const after = samples.filter((x) => x.done > 0);
    const first = after[0];
    const last = after[after.length - 1];
    return {
      id: 'daemon-memory',
      group: 'platform',
      name: `ua daemon in-process, run of ${files} × 4 KiB files: heap after GC and RSS over the run`,
      files,
      bytes: files * 4096,
      seconds,
      peakRssMiB: Math.max(...samples.map((x) => x.rss)),
      note: first
        ? `heap ${first.heap.toFixed(1)} MiB at ${first.done} files → ${last.heap.toFixed(1)} MiB at ${last.done}; RSS ${first.rss.toFixed(0)} → ${last.rss.toFixed(0)} MiB`
        : 'too short to sample',
    };
  } finally {
    rmSync(state, { recursive: true, force: true });
    await t.stop();
  }
}

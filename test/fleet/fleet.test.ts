/**
 * Fleet mode against a real PostgreSQL server (a throwaway cluster per file) and a real ua-platform:
 * several daemons share one queue; each case ends with the exactly-once check (one closed,
 * byte-exact object per file, one sentinel per run, one launch) and the hosts' own accounting.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { objectsUnder, openTestDaemon, waitFor } from '../helpers/daemon.js';
import { completeRun, cuttablePath, expectExactlyOnce, writeRun } from '../helpers/fleet.js';
import { tempDir } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { postgresMissing, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { runUa } from '../helpers/run-ua.js';

const missing = postgresMissing();
const ctx = usePlatformAndTempDir();

if (missing && process.env.CI === 'true')
  it('has a PostgreSQL server to test fleet mode against', () => {
    expect(missing, '.ci/run installs Debian postgresql').toBeUndefined();
  });

describe.skipIf(missing !== undefined)('fleet mode: several hosts on one PostgreSQL queue', () => {
  let pgs: TestPostgres;
  const open: Daemon[] = [];
  const dirs: Array<() => void> = [];
  beforeAll(async () => {
    pgs = await startTestPostgres();
  }, 120_000);
  afterAll(() => pgs?.cleanup());
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
    while (dirs.length) dirs.pop()!();
  });

  async function hosts(url: string, root: string, n: number, extra: Record<string, unknown> = {}) {
    const out: Daemon[] = [];
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const state = tempDir();
        dirs.push(() => state.cleanup());
        const { daemon } = await openTestDaemon(ctx.tp, {
          watch: [root],
          stateDir: state.dir,
          queue: url,
          hostId: `host-${i + 1}`,
          leaseMs: 3000,
          throttle: 4 * 1024 * 1024,
          ...extra,
        });
        open.push(daemon);
        out[i] = daemon;
      }),
    );
    return out;
  }

  async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  for (const n of [2, 3])
    it(`${n} hosts split one run: every file once, one sentinel, one launch; each host did part`, async () => {
      const { tp, tmp } = ctx;
      const url = await pgs.database();
      const applet = await tp.call('applet/new', { project: tp.project, name: `demux-${n}`, runSpec: {} });
      const root = join(tmp.dir, `split-${n}`);
      const { dir, paths } = writeRun(root, `RUN_SPLIT_${n}`, 60, 96 * 1024);
      const ds = await hosts(url, root, n, { runWorkflow: applet.body.id });
      completeRun(dir, paths);
      await waitFor('run complete', async () => (await ds[0].status()).runs[0]?.state === 'complete', 60_000);
      const sentinel = await expectExactlyOnce(tp, `/runs/RUN_SPLIT_${n}`, dir, paths);
      const execs = await tp.call('system/findExecutions', {
        project: tp.project,
        executable: applet.body.id,
      });
      expect(execs.body.results).toHaveLength(1);
      const s = await ds[n - 1].status();
      expect(s.runs[0].sentinel).toBe(sentinel.id);
      expect(s.hosts.map((h) => h.id)).toEqual(Array.from({ length: n }, (_, i) => `host-${i + 1}`));
      // Each accepted result counted once, on the host that made it: the sum is the file count.
      expect(s.hosts.reduce((a, h) => a + h.uploaded, 0)).toBe(paths.length);
      for (const h of s.hosts) expect(h.uploaded, `${h.id} uploaded some`).toBeGreaterThan(0);

      // `ua daemon status --queue` from another process shows the runs and every host.
      const cli = await runUa(['daemon', 'status', '--queue', url, '--json'], { env: {} });
      expect(cli.code, cli.stderr).toBe(0);
      const j = JSON.parse(cli.stdout);
      expect(j.runs.map((r: { name: string; state: string }) => [r.name, r.state])).toEqual([
        [`RUN_SPLIT_${n}`, 'complete'],
      ]);
      expect(j.hosts.map((h: { id: string; state: string }) => [h.id, h.state])).toEqual(
        s.hosts.map((h) => [h.id, 'running']),
      );
      for (const h of j.hosts)
        expect(Object.keys(h)).toEqual(
          expect.arrayContaining(['id', 'uploaded', 'bytes', 'last_seen', 'state']),
        );
    }, 90_000);

  it('the database restarted mid-run: uploads pause, then finish exactly once', async () => {
    const { tp, tmp } = ctx;
    const url = await pgs.database();
    const root = join(tmp.dir, 'pg-restart');
    const { dir, paths } = writeRun(root, 'RUN_PG_RESTART', 80, 64 * 1024);
    const ds = await hosts(url, root, 2, { throttle: 1024 * 1024 });
    await waitFor('some uploaded', async () => (await ds[0].status()).runs[0]?.files.done >= 10, 30_000);
    pgs.restart();
    completeRun(dir, paths);
    await waitFor(
      'run complete',
      async () => {
        try {
          return (await ds[0].status()).runs[0]?.state === 'complete';
        } catch {
          return false; // the pool reconnects on the next call
        }
      },
      60_000,
    );
    await expectExactlyOnce(tp, '/runs/RUN_PG_RESTART', dir, paths);
    const s = await ds[1].status();
    expect(s.hosts.reduce((a, h) => a + h.uploaded, 0)).toBe(paths.length);
  }, 90_000);

  it('a host cut off from the platform but not the database: the other host takes its files', async () => {
    const { tp, tmp } = ctx;
    const url = await pgs.database();
    const root = join(tmp.dir, 'partition');
    const { dir, paths } = writeRun(root, 'RUN_PARTITION', 60, 128 * 1024);
    const path = await cuttablePath(tp.platform.host, tp.platform.port);
    try {
      const stateA = tempDir();
      const stateB = tempDir();
      dirs.push(
        () => stateA.cleanup(),
        () => stateB.cleanup(),
      );
      const common = { watch: [root], queue: url, leaseMs: 3000, throttle: 1024 * 1024 };
      const a = await openTestDaemon(
        tp,
        { ...common, stateDir: stateA.dir, hostId: 'cut-off' },
        { port: path.port },
      );
      open.push(a.daemon);
      await waitFor('A uploading', async () => {
        const rows = await sql<{ n: number }>(
          url,
          `SELECT COUNT(*)::int AS n FROM files WHERE claimed_by = 'cut-off' AND state = 'uploading'`,
        );
        return rows[0].n > 0;
      });
      path.cut();
      const b = await openTestDaemon(tp, { ...common, stateDir: stateB.dir, hostId: 'connected' });
      open.push(b.daemon);
      completeRun(dir, paths);
      await waitFor(
        'run complete',
        async () => (await b.daemon.status()).runs[0]?.state === 'complete',
        60_000,
      );
      await expectExactlyOnce(tp, '/runs/RUN_PARTITION', dir, paths);
      const s = await b.daemon.status();
      const by = Object.fromEntries(s.hosts.map((h) => [h.id, h.uploaded]));
      expect(by['cut-off'] + by.connected).toBe(paths.length);
      expect(by.connected).toBeGreaterThan(by['cut-off']);
    } finally {
      await path.close();
    }
  }, 90_000);

  it('200 runs queued at once on two hosts: 200 sentinels, every file once', async () => {
    const { tp, tmp } = ctx;
    const url = await pgs.database();
    const root = join(tmp.dir, 'many');
    const runs = Array.from({ length: 200 }, (_, i) =>
      writeRun(root, `RUN_MANY_${String(i).padStart(3, '0')}`, 1, 2048),
    );
    for (const r of runs) completeRun(r.dir, r.paths);
    const ds = await hosts(url, root, 2, { throttle: undefined, scanIntervalMs: 200 });
    await waitFor(
      '200 runs complete',
      async () => (await ds[0].status()).runs.filter((r) => r.state === 'complete').length === 200,
      120_000,
    );
    const records = await objectsUnder(tp, '/runs', 'record');
    expect(records.filter((r) => r.path.includes('RUN_MANY_') && r.state === 'closed')).toHaveLength(200);
    for (const [i, r] of runs.entries())
      await expectExactlyOnce(tp, `/runs/RUN_MANY_${String(i).padStart(3, '0')}`, r.dir, r.paths);
    const s = await ds[1].status();
    expect(s.hosts.reduce((a, h) => a + h.uploaded, 0)).toBe(runs.length * runs[0].paths.length);
  }, 180_000);

  it('a queue of the previous schema is migrated in place; a newer one is refused in one line', async () => {
    const { tp, tmp } = ctx;
    const url = await pgs.database();
    const { PG_MIGRATIONS } = await import('../../src/daemon/state/schema.js');
    const root = join(tmp.dir, 'migrate');
    const { dir, paths } = writeRun(root, 'RUN_MIGRATE', 5, 4096);
    completeRun(dir, paths);
    // Schema 1 as a ua of the previous version left it: a run discovered, a file mid-upload.
    await sql(url, PG_MIGRATIONS[0]);
    await sql(url, 'CREATE TABLE ua_schema (version INTEGER NOT NULL); INSERT INTO ua_schema VALUES (1)');
    const now = Date.now();
    await sql(
      url,
      `INSERT INTO runs (dir, root, name, profile, run_id, discovered_at, started_at, last_change_at)
       VALUES ($1, $2, 'RUN_MIGRATE', 'illumina', 'RUN_MIGRATE', $3, $3, $3)`,
      [dir, root, now],
    );
    await sql(
      url,
      `INSERT INTO files (run, path, size, mtime_ms, dev, ino, ctime_ms, seen_at, state)
       SELECT id, 'RunInfo.xml', 0, 0, 0, 0, 0, 0, 'uploading' FROM runs`,
    );
    const [d] = await hosts(url, root, 1);
    await waitFor('run complete', async () => (await d.status()).runs[0]?.state === 'complete', 60_000);
    await expectExactlyOnce(tp, '/runs/RUN_MIGRATE', dir, paths);
    expect(await sql(url, 'SELECT version FROM ua_schema')).toEqual([{ version: PG_MIGRATIONS.length }]);
    await open.pop()!.close();

    await sql(url, 'UPDATE ua_schema SET version = 99');
    const state = tempDir();
    await expect(
      openTestDaemon(tp, { watch: [root], stateDir: state.dir, queue: url, hostId: 'old-ua' }),
    ).rejects.toThrow(/newer ua \(schema 99, this ua knows \d+\); upgrade ua on this host/);
    rmSync(state.dir, { recursive: true, force: true });
  }, 90_000);
});

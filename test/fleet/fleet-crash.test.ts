/**
 * A fleet host killed -9 mid-run (a real `ua daemon --queue` process): its claims lapse after the
 * lease and the other host resumes those uploads into the objects the dead host opened (same mount
 * path, same signature), so in the end every file still has exactly one object, byte-exact.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDaemon, waitFor } from '../helpers/daemon.js';
import { exited, startDaemon } from '../helpers/daemon-process.js';
import { completeRun, expectExactlyOnce, writeRun } from '../helpers/fleet.js';
import { tempDir } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { postgresMissing, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const missing = postgresMissing();
const ctx = usePlatformAndTempDir();

describe.skipIf(missing !== undefined)('fleet mode: a host killed -9', () => {
  let pgs: TestPostgres;
  beforeAll(async () => {
    pgs = await startTestPostgres();
  }, 120_000);
  afterAll(() => pgs?.cleanup());

  it('another host takes over its claims after the lease and resumes them: every file once', async () => {
    const { tp, tmp } = ctx;
    const url = await pgs.database();
    const root = join(tmp.dir, 'kill');
    const { dir, paths } = writeRun(root, 'RUN_KILL', 40, 256 * 1024);
    const stateA = tempDir();
    const stateB = tempDir();
    const log: string[] = [];
    const { child, started } = startDaemon(
      [
        '--watch',
        root,
        '--project',
        tp.project,
        '--state-dir',
        stateA.dir,
        '--queue',
        url,
        '--host-id',
        'doomed',
        '--lease',
        '2s',
        '--settle',
        '300ms',
        '--scan-interval',
        '100ms',
        '--log-format',
        'json',
        '--upload-threads',
        '4',
        '--throttle',
        '1M',
      ],
      { ...tp.env, UA_RETRY_MIN_DELAY_MS: '20' },
      log,
    );
    await started;
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const claimed = async (host: string) =>
      (
        await db.query<{ n: number }>(
          `SELECT COUNT(*)::int AS n FROM files WHERE claimed_by = $1 AND state = 'uploading'`,
          [host],
        )
      ).rows[0].n;
    try {
      await waitFor('the doomed host uploading', async () => (await claimed('doomed')) >= 4, 30_000);
      child.kill('SIGKILL');
      await exited(child);
      const b = await openTestDaemon(tp, {
        watch: [root],
        stateDir: stateB.dir,
        queue: url,
        hostId: 'survivor',
        leaseMs: 2000,
      });
      try {
        completeRun(dir, paths);
        await waitFor(
          'run complete',
          async () => (await b.daemon.status()).runs[0]?.state === 'complete',
          60_000,
        );
        await expectExactlyOnce(tp, '/runs/RUN_KILL', dir, paths);
        // Lost: no heartbeat for a lease (what status and the metrics show for a dead host).
        const s = await waitFor('the doomed host shown lost', async () => {
          const st = await b.daemon.status();
          return st.hosts.find((h) => h.id === 'doomed')?.state === 'lost' ? st : undefined;
        });
        const by = Object.fromEntries(s.hosts.map((h) => [h.id, h]));
        expect(by.doomed.uploaded + by.survivor.uploaded).toBe(paths.length);
        expect(by.survivor.uploaded).toBeGreaterThan(0);
        expect(log.join('')).not.toMatch(/"level":"error"/);
      } finally {
        await b.daemon.close();
      }
    } finally {
      await db.end();
      stateA.cleanup();
      stateB.cleanup();
    }
  }, 120_000);
});

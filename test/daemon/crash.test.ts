/**
 * kill -9 of a real `ua daemon` process at random moments while a simulated NovaSeq run is written,
 * restarted each time: in the end every file has exactly one live object, byte-exact, one sentinel
 * is closed listing exactly those, and the workflow was launched once.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateRun } from '../../src/sim/sequencer.js';
import { objectsUnder, waitFor, webhookReceiver } from '../helpers/daemon.js';
import { tempDir } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';
import { exited, startDaemon } from '../helpers/daemon-process.js';

const ctx = usePlatformAndTempDir();

describe('ua daemon under kill -9', () => {
  it(
    'exactly once across ≥ 12 kills: one object per file, one sentinel, one launch',
    { timeout: 180_000 },
    async () => {
      const { tp, tmp } = ctx;
      const applet = await tp.call('applet/new', { project: tp.project, name: 'demux', runSpec: {} });
      expect(applet.status).toBe(200);
      const root = join(tmp.dir, 'crash-root');
      const state = tempDir();
      const hook = await webhookReceiver();
      const args = [
        '--watch',
        root,
        '--project',
        tp.project,
        '--folder',
        '/runs',
        '--state-dir',
        state.dir,
        '--settle',
        '300ms',
        '--scan-interval',
        '100ms',
        '--retry-base',
        '200ms',
        '--log-format',
        'json',
        '--run-workflow',
        applet.body.id,
        '--webhook',
        hook.url,
        '--upload-threads',
        '4',
        '--compress-threads',
        '1',
        '--drain-timeout',
        '1s',
        '--throttle',
        '3M',
      ];
      const env = { ...tp.env, UA_RETRY_MIN_DELAY_MS: '20' };
      const log: string[] = [];
      const sim = simulateRun({
        root,
        profile: 'novaseq',
        cycles: 12,
        lanes: 2,
        tiles: 2,
        cbclBytes: 512 * 1024,
        cycleMs: 300,
        seed: 7,
      });
      let { child, started } = startDaemon(args, env, log);
      let kills = 0;
      let killsAfterWritten = -1;
      void sim.then(() => (killsAfterWritten = 0));
      // Kill at random moments while the run is written and after it (when the last uploads, the
      // sentinel and the launch are due), at least 12 times in all.
      while (kills < 12 || killsAfterWritten < 4) {
        if (killsAfterWritten >= 0) killsAfterWritten++;
        await started;
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 700));
        child.kill('SIGKILL');
        await exited(child);
        kills++;
        ({ child, started } = startDaemon(args, env, log));
      }
      const run = await sim;
      const folder = `/runs/${run.runName}`;
      const sentinels = await waitFor(
        'sentinel closed',
        async () => {
          const r = (await objectsUnder(tp, folder, 'record')).filter((o) => o.state === 'closed');
          return r.length > 0 ? r : undefined;
        },
        90_000,
      );
      await waitFor('workflow launched', async () => {
        const j = await tp.call('system/findExecutions', { project: tp.project });
        return j.body.results.length > 0;
      });
      await new Promise((r) => setTimeout(r, 500)); // anything a duplicate would do, it does now
      child.kill('SIGTERM');
      await exited(child);

      const objects = await objectsUnder(tp, folder);
      const byPath = new Map<string, typeof objects>();
      for (const o of objects) byPath.set(o.path, [...(byPath.get(o.path) ?? []), o]);
      expect([...byPath.keys()].sort()).toEqual(run.entries.map((e) => `${folder}/${e.path}`).sort());
      for (const e of run.entries) {
        const hits = byPath.get(`${folder}/${e.path}`)!;
        expect(hits, e.path).toHaveLength(1);
        expect(hits[0].state, e.path).toBe('closed');
        const sha = createHash('sha256')
          .update(await downloadFile(tp, hits[0].id))
          .digest('hex');
        expect(sha, `${e.path} byte-exact`).toBe(e.sha256);
      }
      expect(sentinels).toHaveLength(1);
      expect((await objectsUnder(tp, folder, 'record')).length).toBe(1);
      expect([...sentinels[0].describe.details.file_ids].sort()).toEqual(objects.map((o) => o.id).sort());
      const jobs = await tp.call('system/findExecutions', { project: tp.project, describe: true });
      expect(jobs.body.results).toHaveLength(1);
      expect(jobs.body.results[0].describe.input.upload_sentinel_record).toEqual({
        $dnanexus_link: sentinels[0].id,
      });
      // Webhooks are at least once; the receiver dedupes by id, and sees one completion.
      const complete = new Set(hook.got.filter((e) => e.event === 'run-complete').map((e) => e.id));
      expect(complete.size).toBe(1);
      expect(kills).toBeGreaterThanOrEqual(12);
      // The kills did land mid-upload: lives that started with uploads to resume.
      expect((log.join('').match(/"resumed_uploads":[1-9]/g) ?? []).length).toBeGreaterThan(2);
      expect(log.join('')).not.toContain(tp.token);
      await hook.close();
      state.cleanup();
    },
  );
});

import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { simulateRun } from '../../src/sim/sequencer.js';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { objectsUnder, openTestDaemon, waitFor, webhookReceiver } from '../helpers/daemon.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';

const ctx = usePlatformAndTempDir();
const open: Daemon[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

function illuminaRun(root: string, name: string, runId = name, app = 'MiSeq Control Software'): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'RunInfo.xml'),
    `<?xml version="1.0"?>\n<RunInfo><Run Id="${runId}" Number="7"><Flowcell>F1</Flowcell><Reads><Read Number="1" NumCycles="3" IsIndexedRead="N"/></Reads></Run></RunInfo>\n`,
  );
  writeFileSync(
    join(dir, 'RunParameters.xml'),
    `<RunParameters><ApplicationName>${app}</ApplicationName></RunParameters>\n`,
  );
  return dir;
}

/** Every local file of the run has exactly one remote object at <folder>/<run>/<path>, closed and byte-exact. */
async function expectMirrored(dir: string, name: string, paths: string[]) {
  const { tp } = ctx;
  const objects = await objectsUnder(tp, `/runs/${name}`);
  const files = objects.filter((o) => o.class === 'file');
  expect(files.map((f) => f.path).sort()).toEqual(paths.map((p) => `/runs/${name}/${p}`).sort());
  for (const p of paths) {
    const hit = files.filter((f) => f.path === `/runs/${name}/${p}`);
    expect(hit, p).toHaveLength(1);
    const bytes = await downloadFile(tp, hit[0].id);
    expect(bytes.equals(readFileSync(join(dir, p))), `${p} byte-exact`).toBe(true);
  }
  return files;
}

describe('ua daemon: one run from first file to sentinel', () => {
  it('uploads files as they settle while the run is written, then closes one sentinel listing them all', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'life-root');
    const dir = illuminaRun(root, '261202_M01_0007_A000H1', 'RUNID-7');
    writeRandomFile(join(dir, 'Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl'), 300_000);
    const state = tempDir();
    const hook = await webhookReceiver();
    const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir, webhook: hook.url });
    open.push(daemon);
    await waitFor('first files uploaded', async () => (await daemon.status()).runs[0]?.files.done >= 3);
    expect((await daemon.status()).runs[0].state).toBe('uploading');
    // The run goes on: a new cycle, a growing InterOp file, then the marker.
    writeRandomFile(join(dir, 'Data/Intensities/BaseCalls/L001/C2.1/L001_1.cbcl'), 200_000);
    mkdirSync(join(dir, 'InterOp'));
    for (let i = 0; i < 5; i++) {
      appendFileSync(join(dir, 'InterOp/QMetricsOut.bin'), Buffer.alloc(10_000, i));
      await new Promise((r) => setTimeout(r, 120));
    }
    writeFileSync(join(dir, 'RTAComplete.txt'), 'RTA 2.4 completed on 12/2/2026\n');
    await waitFor('run complete', async () => (await daemon.status()).runs[0]?.state === 'complete');
    const paths = [
      'RunInfo.xml',
      'RunParameters.xml',
      'Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl',
      'Data/Intensities/BaseCalls/L001/C2.1/L001_1.cbcl',
      'InterOp/QMetricsOut.bin',
      'RTAComplete.txt',
    ];
    const files = await expectMirrored(dir, '261202_M01_0007_A000H1', paths);
    for (const f of files) {
      expect(f.state).toBe('closed');
      expect(f.describe.properties.run_id).toBe('RUNID-7');
    }
    const records = await objectsUnder(tp, '/runs/261202_M01_0007_A000H1', 'record');
    expect(records).toHaveLength(1);
    const s = records[0];
    expect(s.path).toBe('/runs/261202_M01_0007_A000H1/261202_M01_0007_A000H1.upload_sentinel');
    expect(s.state).toBe('closed');
    expect(s.describe.types).toEqual(['UploadSentinel']);
    expect(s.describe.details.run_id).toBe('RUNID-7');
    expect([...s.describe.details.file_ids].sort()).toEqual(files.map((f) => f.id).sort());
    expect((await daemon.status()).runs[0].sentinel).toBe(s.id);
    await waitFor('webhook', () => hook.got.find((e) => e.event === 'run-complete'));
    const done = hook.got.filter((e) => e.event === 'run-complete');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ run: '261202_M01_0007_A000H1', sentinel: s.id, files: paths.length });
    await hook.close();
    state.cleanup();
  });

  it('a file rewritten after upload is uploaded again and its old object removed: one live copy', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'rewrite-root');
    const dir = illuminaRun(root, 'RUN_REWRITE');
    writeFileSync(join(dir, 'SampleSheet.csv'), 'v1\n');
    const state = tempDir();
    const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir });
    open.push(daemon);
    await waitFor('v1 uploaded', async () => (await daemon.status()).runs[0]?.files.done === 3);
    const [v1] = (await objectsUnder(tp, '/runs/RUN_REWRITE')).filter((o) =>
      o.path.endsWith('SampleSheet.csv'),
    );
    writeFileSync(join(dir, 'SampleSheet.csv'), 'v2, corrected\n');
    await waitFor('v2 uploaded', async () => {
      const hits = (await objectsUnder(tp, '/runs/RUN_REWRITE')).filter((o) =>
        o.path.endsWith('SampleSheet.csv'),
      );
      return hits.length === 1 && hits[0].id !== v1.id && hits[0].state === 'closed';
    });
    expect((await tp.call(`${v1.id}/describe`)).status).toBe(404);
    writeFileSync(join(dir, 'RTAComplete.txt'), 'done\n');
    await waitFor('run complete', async () => (await daemon.status()).runs[0]?.state === 'complete');
    await expectMirrored(dir, 'RUN_REWRITE', [
      'RunInfo.xml',
      'RunParameters.xml',
      'SampleSheet.csv',
      'RTAComplete.txt',
    ]);
    state.cleanup();
  });

  it('NovaSeq waits for CopyComplete.txt, not RTAComplete.txt', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'nova-root');
    const dir = illuminaRun(root, 'RUN_NOVA', 'RUN_NOVA', 'NovaSeq Control Software');
    writeFileSync(join(dir, 'RTAComplete.txt'), 'rta\n');
    const state = tempDir();
    const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir });
    open.push(daemon);
    await waitFor('files uploaded', async () => (await daemon.status()).runs[0]?.files.done === 3);
    await new Promise((r) => setTimeout(r, 600));
    expect((await daemon.status()).runs[0].state).not.toBe('complete');
    writeFileSync(join(dir, 'CopyComplete.txt'), '');
    await waitFor('run complete', async () => (await daemon.status()).runs[0]?.state === 'complete');
    expect((await daemon.status()).runs[0].marker).toBe('CopyComplete.txt');
    state.cleanup();
  });

  it('a run without a marker past --stall-after is reported stalled (status and webhook) and keeps uploading', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'stall-root');
    const dir = illuminaRun(root, 'RUN_STALL');
    const state = tempDir();
    const hook = await webhookReceiver();
    const { daemon, log } = await openTestDaemon(tp, {
      watch: [root],
      stateDir: state.dir,
      stallAfterMs: 500,
      webhook: hook.url,
    });
    open.push(daemon);
    await waitFor('stalled', async () => (await daemon.status()).runs[0]?.state === 'stalled');
    await waitFor('stall webhook', () => hook.got.find((e) => e.event === 'run-stalled'));
    expect(log.lines.some((l) => l.level === 'warn' && /RUN_STALL stalled/.test(l.msg))).toBe(true);
    writeRandomFile(join(dir, 'late.bin'), 1000);
    await waitFor('late file uploaded', async () => (await daemon.status()).runs[0]?.files.done === 3);
    expect(hook.got.filter((e) => e.event === 'run-stalled')).toHaveLength(1);
    await hook.close();
    state.cleanup();
  });

  it('an ONT (MinKNOW) run written by the simulator completes on final_summary, byte-exact', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'ont-root');
    mkdirSync(root);
    const state = tempDir();
    const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir });
    open.push(daemon);
    const run = await simulateRun({
      root,
      profile: 'ont',
      cycles: 4,
      cbclBytes: 20_000,
      cycleMs: 150,
      seed: 5,
    });
    await waitFor('ONT run complete', async () => (await daemon.status()).runs[0]?.state === 'complete');
    const s = (await daemon.status()).runs[0];
    expect(s.profile).toBe('ont');
    expect(s.marker).toMatch(/^final_summary_.*\.txt$/);
    const objects = await objectsUnder(tp, `/runs/${run.runName}`);
    expect(objects.map((o) => o.path).sort()).toEqual(
      run.entries.map((e) => `/runs/${run.runName}/${e.path}`).sort(),
    );
    for (const e of run.entries) {
      const o = objects.find((x) => x.path === `/runs/${run.runName}/${e.path}`)!;
      expect(
        createHash('sha256')
          .update(await downloadFile(tp, o.id))
          .digest('hex'),
        e.path,
      ).toBe(e.sha256);
    }
    state.cleanup();
  });

  it('completion markers go up after every other file of their run, even when they were there first', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'markers-last');
    const dir = illuminaRun(root, 'RUN_MARKERS', 'RUN_MARKERS', 'NovaSeq Control Software');
    writeFileSync(join(dir, 'CopyComplete.txt'), '');
    writeFileSync(join(dir, 'RTAComplete.txt'), 'rta\n');
    for (let i = 0; i < 30; i++) writeRandomFile(join(dir, `Data/L001/C${i}.1/L001_1.cbcl`), 40_000);
    const state = tempDir();
    const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir, uploadThreads: 2 });
    open.push(daemon);
    await waitFor('complete', async () => (await daemon.status()).runs[0]?.state === 'complete');
    const rows = await daemon.store.q.all<{ path: string; uploaded_at: number }>(
      'SELECT path, uploaded_at FROM files ORDER BY uploaded_at',
    );
    const data = rows.filter((r) => !/Complete\.txt$/.test(r.path));
    const markers = rows.filter((r) => /Complete\.txt$/.test(r.path));
    expect(markers).toHaveLength(2);
    expect(Math.min(...markers.map((m) => m.uploaded_at))).toBeGreaterThanOrEqual(
      Math.max(...data.map((d) => d.uploaded_at)),
    );
    state.cleanup();
  });
});

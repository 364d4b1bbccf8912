import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startOpsServer } from '../../src/daemon/ops/http.js';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { objectsUnder, openTestDaemon, waitFor, webhookReceiver } from '../helpers/daemon.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';
import { startForwardProxy } from '../helpers/forward-proxy.js';
import { runUa } from '../helpers/run-ua.js';

const ctx = usePlatformAndTempDir();
const open: Daemon[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
  ctx.tp.platform.faults.clear();
});

function miseqRun(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'RunInfo.xml'), `<RunInfo><Run Id="${name}" Number="1"></Run></RunInfo>\n`);
  return dir;
}

async function expectByteExact(dir: string, name: string, paths: string[]) {
  const objects = await objectsUnder(ctx.tp, `/runs/${name}`);
  expect(objects.map((o) => o.path).sort()).toEqual(paths.map((p) => `/runs/${name}/${p}`).sort());
  for (const o of objects) {
    const rel = o.path.slice(`/runs/${name}/`.length);
    expect((await downloadFile(ctx.tp, o.id)).equals(readFileSync(join(dir, rel))), rel).toBe(true);
  }
}

describe('ua daemon operations', () => {
  it('the platform failing uploads for a while: retried with backoff, reported once, nothing lost', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'outage');
    const dir = miseqRun(root, 'RUN_OUTAGE');
    writeRandomFile(join(dir, 'a.bin'), 100_000);
    writeRandomFile(join(dir, 'b.bin'), 100_000);
    writeFileSync(join(dir, 'RTAComplete.txt'), 'x\n');
    tp.platform.faults.add({ target: 'put', action: 'status', status: 500, count: 30 });
    const hook = await webhookReceiver();
    const state = tempDir();
    const { daemon } = await openTestDaemon(tp, {
      watch: [root],
      stateDir: state.dir,
      failAfter: 2,
      webhook: hook.url,
    });
    open.push(daemon);
    await waitFor('file-failed reported', () => hook.got.find((e) => e.event === 'file-failed'));
    expect((await daemon.status()).runs[0].state).toBe('failed');
    expect((await daemon.status()).runs[0].last_error).toMatch(/500/);
    await waitFor(
      'complete after the outage',
      async () => (await daemon.status()).runs[0].state === 'complete',
    );
    await expectByteExact(dir, 'RUN_OUTAGE', ['RunInfo.xml', 'a.bin', 'b.bin', 'RTAComplete.txt']);
    expect(hook.got.filter((e) => e.event === 'run-failed')).toHaveLength(1);
    await hook.close();
    state.cleanup();
  });

  it('a file that keeps growing is uploaded once, when it has stopped, with its final bytes', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'grow');
    const dir = miseqRun(root, 'RUN_GROW');
    const state = tempDir();
    const { daemon, log } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir, settleMs: 500 });
    open.push(daemon);
    for (let i = 0; i < 15; i++) {
      appendFileSync(join(dir, 'growing.log'), `line ${i} ${'x'.repeat(5000)}\n`);
      await new Promise((r) => setTimeout(r, 200));
    }
    writeFileSync(join(dir, 'RTAComplete.txt'), 'x\n');
    await waitFor('complete', async () => (await daemon.status()).runs[0]?.state === 'complete');
    await expectByteExact(dir, 'RUN_GROW', ['RunInfo.xml', 'growing.log', 'RTAComplete.txt']);
    expect(log.lines.filter((l) => /replaced version/.test(l.msg))).toHaveLength(0);
    state.cleanup();
  });

  it('the workflow and --on-complete run once, also after a restart; two runs at once', async () => {
    const { tp, tmp } = ctx;
    const wf = await tp.call('workflow/new', { project: tp.project, name: 'wf', stages: [] });
    const root = join(tmp.dir, 'twice');
    const dirs = [miseqRun(root, 'RUN_A'), miseqRun(root, 'RUN_B')];
    for (const d of dirs) {
      writeRandomFile(join(d, 'data.bin'), 50_000);
      writeFileSync(join(d, 'RTAComplete.txt'), 'x\n');
    }
    const out = join(tmp.dir, 'hook-out.txt');
    const state = tempDir();
    const o = {
      watch: [root],
      stateDir: state.dir,
      runWorkflow: wf.body.id as string,
      onComplete: `echo "$UA_RUN_NAME $UA_SENTINEL_ID $UA_ATTEMPT" >> ${out}`,
    };
    const first = await openTestDaemon(tp, o);
    await waitFor(
      'both complete',
      async () =>
        (await first.daemon.status()).runs.every((r) => r.state === 'complete') &&
        (await first.daemon.status()).runs.length === 2,
    );
    await first.daemon.close();
    const again = await openTestDaemon(tp, o);
    open.push(again.daemon);
    await new Promise((r) => setTimeout(r, 800));
    const lines = readFileSync(out, 'utf8').trim().split('\n').sort();
    const status = await again.daemon.status();
    expect(lines).toEqual(status.runs.map((r) => `${r.name} ${r.sentinel} 1`).sort());
    const execs = await tp.call('system/findExecutions', {
      project: tp.project,
      executable: wf.body.id,
      describe: true,
    });
    expect(execs.body.results).toHaveLength(2);
    for (const e of execs.body.results) expect(e.id).toMatch(/^analysis-/);
    expect(new Set(status.runs.map((r) => r.job))).toEqual(
      new Set(execs.body.results.map((e: { id: string }) => e.id)),
    );
    state.cleanup();
  });

  it('status --json from another process agrees with the daemon; metrics and healthz answer', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'status');
    const dir = miseqRun(root, 'RUN_STATUS');
    writeRandomFile(join(dir, 'x.bin'), 10_000);
    const state = tempDir();
    const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir });
    open.push(daemon);
    await waitFor('uploaded', async () => (await daemon.status()).runs[0]?.files.done === 2);
    const cli = await runUa(['daemon', 'status', '--state-dir', state.dir, '--json']);
    expect(cli.code).toBe(0);
    const fromCli = JSON.parse(cli.stdout);
    expect(fromCli.daemon.running).toBe(true);
    expect(
      fromCli.runs.map((r: { name: string; state: string; files: unknown }) => [r.name, r.state, r.files]),
    ).toEqual((await daemon.status()).runs.map((r) => [r.name, r.state, r.files]));
    const text = await runUa(['daemon', 'status', '--state-dir', state.dir]);
    expect(text.stdout).toMatch(/uploading +RUN_STATUS +2\/2 files/);
    const second = await runUa(
      ['daemon', '--watch', root, '--project', tp.project, '--state-dir', state.dir],
      { env: tp.env },
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Another ua daemon is using the state dir/);
    const ops = await startOpsServer(
      { host: '127.0.0.1', port: 0 },
      { status: () => daemon.status(), detail: (n, q) => daemon.detail(n, q) },
    );
    try {
      const m = await request(`${ops.url}/metrics`);
      const body = await m.body.text();
      expect(body).toMatch(/ua_daemon_runs\{state="uploading"\} 1/);
      expect(body).toMatch(/ua_daemon_files\{kind="done"\} 2/);
      const h = await request(`${ops.url}/healthz`);
      expect(h.statusCode).toBe(200);
      await h.body.dump();
      const api = await request(`${ops.url}/api/status`);
      expect(((await api.body.json()) as { runs: unknown[] }).runs).toHaveLength(1);
    } finally {
      await ops.close();
    }
    state.cleanup();
  });

  it('ua daemon --once (cron): uploads the finished run, closes its sentinel, exits 0; a run without marker waits', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'once');
    const done = miseqRun(root, 'RUN_DONE');
    writeRandomFile(join(done, 'reads.bin'), 64_000);
    writeFileSync(join(done, 'RTAComplete.txt'), 'x\n');
    const waiting = miseqRun(root, 'RUN_OPEN');
    const state = tempDir();
    const args = [
      'daemon',
      '--once',
      '--watch',
      root,
      '--project',
      tp.project,
      '--state-dir',
      state.dir,
      '--settle',
      '0s',
      '--scan-interval',
      '100ms',
      '--log-format',
      'plain',
    ];
    const r = await runUa(args, { env: tp.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/run RUN_DONE complete: 3 files/);
    expect(r.stdout).toMatch(/--once: nothing left to do/);
    await expectByteExact(done, 'RUN_DONE', ['RunInfo.xml', 'reads.bin', 'RTAComplete.txt']);
    expect(await objectsUnder(tp, '/runs/RUN_DONE', 'record')).toHaveLength(1);
    expect(await objectsUnder(tp, '/runs/RUN_OPEN', 'record')).toHaveLength(0);
    // The next cron run finishes the other run once its marker is there, and does not redo the first.
    writeFileSync(join(waiting, 'RTAComplete.txt'), 'x\n');
    const again = await runUa(args, { env: tp.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/run RUN_OPEN complete: 2 files/);
    expect(again.stdout).not.toMatch(/RUN_DONE complete/);
    expect(await objectsUnder(tp, '/runs/RUN_DONE')).toHaveLength(3);
    state.cleanup();
  });

  it('reload (SIGHUP) applies new settings while running: --exclude, the throttle', async () => {
    const { tp, tmp } = ctx;
    const root = join(tmp.dir, 'reload');
    const dir = miseqRun(root, 'RUN_RELOAD');
    const state = tempDir();
    const { daemon, log } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir });
    open.push(daemon);
    await waitFor('first file', async () => (await daemon.status()).runs[0]?.files.done === 1);
    daemon.reload({ exclude: ['*.tmp'], throttle: 10 * 1024 * 1024 });
    writeRandomFile(join(dir, 'scratch.tmp'), 1000);
    writeRandomFile(join(dir, 'kept.bin'), 1000);
    await waitFor('kept.bin uploaded', async () => (await daemon.status()).runs[0]?.files.done === 2);
    await new Promise((r) => setTimeout(r, 500));
    expect((await objectsUnder(tp, '/runs/RUN_RELOAD')).map((o) => o.path).sort()).toEqual([
      '/runs/RUN_RELOAD/RunInfo.xml',
      '/runs/RUN_RELOAD/kept.bin',
    ]);
    expect(log.lines.some((l) => l.msg === 'configuration reloaded')).toBe(true);
    expect(log.lines.some((l) => l.msg === 'bandwidth: 10485760 bytes/s')).toBe(true);
    state.cleanup();
  });

  it('DX_CA_CERT is honoured as for ua: an unreadable CA bundle is one line and exit 1', async () => {
    const { tp, tmp } = ctx;
    const state = tempDir();
    const r = await runUa(['daemon', '--watch', tmp.dir, '--project', tp.project, '--state-dir', state.dir], {
      env: { ...tp.env, DX_CA_CERT: join(tmp.dir, 'no-such-ca.pem') },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unable to read the certificate file ".*no-such-ca\.pem"/);
    state.cleanup();
  });

  it('webhooks go through HTTP_PROXY like every other request; NO_PROXY keeps the platform direct', async () => {
    const { tp, tmp } = ctx;
    const proxy = await startForwardProxy();
    const hook = await webhookReceiver();
    const root = join(tmp.dir, 'hook-proxy');
    const dir = miseqRun(root, 'RUN_HOOK_PROXY');
    writeFileSync(join(dir, 'RTAComplete.txt'), 'x\n');
    const state = tempDir();
    // The daemon's agents read the environment when they are made (the test setup cleared it).
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = `127.0.0.1:${tp.platform.port}`;
    try {
      const { daemon } = await openTestDaemon(tp, { watch: [root], stateDir: state.dir, webhook: hook.url });
      open.push(daemon);
      await waitFor('webhook delivered', () => hook.got.some((e) => e.event === 'run-complete'));
      expect(proxy.forwarded.map((r) => `${r.method} ${r.target}`)).toContain(`POST ${hook.url}`);
      // Only the webhook: the platform is in NO_PROXY.
      expect(proxy.forwarded.every((r) => r.target.startsWith(hook.url))).toBe(true);
      await expectByteExact(dir, 'RUN_HOOK_PROXY', ['RunInfo.xml', 'RTAComplete.txt']);
    } finally {
      delete process.env.HTTP_PROXY;
      delete process.env.NO_PROXY;
      await hook.close();
      await proxy.stop();
      state.cleanup();
    }
  });
});

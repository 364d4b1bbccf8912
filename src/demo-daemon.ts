/**
 * The demo's second half: a simulated NovaSeq run written over ~10 s while a real `ua daemon`
 * process watches its folder and uploads files as they settle; then the sentinel record, the
 * launched analysis, `ua daemon status`, and every file downloaded back and compared.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { RunningPlatform } from './platform/index.js';
import { simulateRun } from './sim/sequencer.js';

type Api = (route: string, input: object) => Promise<Record<string, unknown>>;

export async function daemonDemo(o: {
  platform: RunningPlatform;
  project: string;
  token: string;
  work: string;
  env: NodeJS.ProcessEnv;
  api: Api;
  say(s: string): void;
}): Promise<boolean> {
  const { api, say } = o;
  const uaBin = fileURLToPath(new URL('../../bin/ua.js', import.meta.url));
  const root = join(o.work, 'instrument-output');
  const stateDir = join(o.work, 'daemon-state');
  mkdirSync(root);
  const applet = (await api('applet/new', { project: o.project, name: 'bcl-convert', runSpec: {} })) as {
    id: string;
  };
  const args = [
    'daemon',
    '--watch',
    root,
    '--project',
    o.project,
    '--folder',
    '/runs',
    '--state-dir',
    stateDir,
    '--settle',
    '1s',
    '--scan-interval',
    '500ms',
    '--run-workflow',
    applet.id,
    '--log-format',
    'plain',
  ];
  say(`\n$ ua ${args.join(' ')} &`);
  const daemon = spawn(process.execPath, [uaBin, ...args], {
    env: o.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  daemon.stdout
    .setEncoding('utf8')
    .on('data', (d: string) => process.stderr.write(d.replace(/^(?=.)/gm, '  daemon| ')));
  const exited = new Promise<number | null>((r) => daemon.on('exit', (code) => r(code)));
  try {
    say(
      `simulating a NovaSeq run into ${root} (12 cycles, 2 lanes, CBCLs appended in place, then RTAComplete, CopyComplete)`,
    );
    const run = await simulateRun({
      root,
      profile: 'novaseq',
      cycles: 12,
      lanes: 2,
      tiles: 2,
      cbclBytes: 1024 * 1024,
      cycleMs: 700,
      seed: 42,
    });
    const folder = `/runs/${run.runName}`;
    say(
      `run ${run.runName} written: ${run.entries.length} files, ${(run.bytes / 2 ** 20).toFixed(1)} MiB; waiting for the sentinel`,
    );
    let sentinel: { id: string; describe: { details: { file_ids: string[] } } } | undefined;
    for (let i = 0; i < 240 && !sentinel; i++) {
      const found = (await api('system/findDataObjects', {
        class: 'record',
        scope: { project: o.project, folder, recurse: false },
        state: 'closed',
        describe: { fields: { details: true, name: true } },
      })) as { results: Array<{ id: string; describe: { details: { file_ids: string[] } } }> };
      sentinel = found.results[0];
      if (!sentinel) await new Promise((r) => setTimeout(r, 250));
    }
    if (!sentinel) throw new Error('no sentinel after 60 s');
    const jobs = (await api('system/findExecutions', { project: o.project, describe: true })) as {
      results: Array<{ id: string; describe: { state: string; name: string } }>;
    };
    say(
      `sentinel ${sentinel.id} closed, listing ${sentinel.describe.details.file_ids.length} files; launched ${jobs.results.map((j) => `${j.id} (${j.describe.state})`).join(', ')}`,
    );
    say(`$ ua daemon status --state-dir ${stateDir}`);
    const status = spawnSync(process.execPath, [uaBin, 'daemon', 'status', '--state-dir', stateDir], {
      encoding: 'utf8',
    });
    process.stderr.write(status.stdout);

    say('verifying: download every file of the run, compare SHA-256 with what the instrument wrote');
    const files = (await api('system/findDataObjects', {
      class: 'file',
      scope: { project: o.project, folder, recurse: true },
      describe: { fields: { name: true, folder: true } },
      limit: 1000,
    })) as { results: Array<{ id: string; describe: { name: string; folder: string } }> };
    const byPath = new Map(
      files.results.map((f) => [`${f.describe.folder}/${f.describe.name}`.slice(folder.length + 1), f.id]),
    );
    let ok = 0;
    for (const e of run.entries) {
      const id = byPath.get(e.path);
      if (!id) continue;
      const { url } = (await api(`${id}/download`, {})) as { url: string };
      const res = await request(url);
      const sha = createHash('sha256')
        .update(Buffer.from(await res.body.arrayBuffer()))
        .digest('hex');
      if (sha === e.sha256) ok++;
      else process.stderr.write(`  MISMATCH ${e.path}\n`);
    }
    const exact = ok === run.entries.length && files.results.length === run.entries.length;
    say(
      `${ok}/${run.entries.length} run files byte-exact, ${files.results.length} objects in ${folder}, 1 sentinel, ${jobs.results.length} analysis launched`,
    );
    return exact && jobs.results.length === 1;
  } finally {
    daemon.kill('SIGTERM');
    await exited;
  }
}

/**
 * `ua daemon` command line and config file → DaemonOptions. Every flag can also be set in a YAML
 * or JSON file (`--config FILE`; keys as the flags, e.g. `scan-interval: 10s`, `watch: [/runs]`);
 * flags given on the command line win. Nothing here accepts a token: the daemon's auth comes from
 * DX_* variables or ~/.dnanexus_config, as `ua` reads them, so no token shows in `ps`.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import yargs from 'yargs';
import { parseSize } from '../config/options.js';
import { defaultDaemonStateDir } from '../daemon/state/db.js';
import { parseBwlimit, parseDuration, parseListen, type DaemonOptions } from '../daemon/options.js';
import type { ProfileName } from '../daemon/discover/profiles.js';
import { DaemonError } from '../errors.js';

export type DaemonCommand =
  | {
      action: 'run';
      options: DaemonOptions;
      http?: { host: string; port: number };
      logFormat: 'json' | 'plain' | 'auto';
      verbose: boolean;
    }
  | { action: 'status'; stateDir: string; queue?: string; json: boolean }
  | { action: 'help'; text: string };

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `Cannot read the config file ${path}: ${(err as Error).message}`,
    );
  }
  try {
    const v: unknown = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (v === null || v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v))
      throw new Error('it must be a mapping of option names to values');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `The config file ${path} is not valid YAML/JSON: ${(err as Error).message}`,
    );
  }
}

const PROFILES: readonly ProfileName[] = ['auto', 'illumina', 'ont', 'generic'];

function parser(argv: string[], env: NodeJS.ProcessEnv) {
  return yargs(argv)
    .scriptName('ua daemon')
    .usage(
      'ua daemon --watch DIR [--watch DIR …] --project P [options]\n' +
        'ua daemon status [--state-dir DIR] [--json]\n\n' +
        'Watches sequencer run folders and uploads their files as they settle, then closes an UploadSentinel ' +
        'record per run and (optionally) launches an analysis, once. Auth and server as for ua: ' +
        'DX_SECURITY_CONTEXT and DX_APISERVER_* or ~/.dnanexus_config.',
    )
    .command('status', 'show runs, their state, progress and last error')
    .option('watch', {
      type: 'string',
      array: true,
      describe: 'a folder whose subfolders are runs (repeatable)',
      group: 'What to upload:',
    })
    .option('project', {
      type: 'string',
      describe: 'project name or ID to upload into',
      group: 'What to upload:',
    })
    .option('folder', {
      type: 'string',
      default: '/runs',
      describe: 'remote folder for runs: <folder>/<run>/<path>',
      group: 'What to upload:',
    })
    .option('profile', {
      choices: PROFILES,
      default: 'auto' as ProfileName,
      describe: 'what a run is and when it is complete',
      group: 'What to upload:',
    })
    .option('layout', {
      choices: ['files', 'tar'] as const,
      default: 'files' as const,
      describe:
        'files: <folder>/<run>/<path>; tar: run.<RUNID>.lane.all_NNN.tar batches in <folder>/<run>/runs',
      group: 'What to upload:',
    })
    .option('tar-size', {
      type: 'string',
      default: '1G',
      describe: 'tar layout: a batch is cut once this much has settled',
      group: 'What to upload:',
    })
    .option('tar-wait', {
      type: 'string',
      default: '30m',
      describe: 'tar layout: …or once the oldest settled file has waited this long',
      group: 'What to upload:',
    })
    .option('exclude', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'glob of paths inside a run to skip',
      group: 'What to upload:',
    })
    .option('complete-marker', {
      type: 'string',
      describe: 'generic profile: file that marks a run complete',
      group: 'When:',
    })
    .option('complete-after', {
      type: 'string',
      default: '1h',
      describe: 'generic profile without marker: complete after this long unchanged',
      group: 'When:',
    })
    .option('settle', {
      type: 'string',
      default: '30s',
      describe: 'a file is uploaded once unchanged this long',
      group: 'When:',
    })
    .option('scan-interval', { type: 'string', default: '10s', group: 'When:' })
    .option('stall-after', {
      type: 'string',
      default: '24h',
      describe: 'report a run with no completion marker after this long',
      group: 'When:',
    })
    .option('webhook', {
      type: 'string',
      describe: 'URL that gets run-complete, run-stalled, run-failed, file-failed as JSON',
      group: 'Then:',
    })
    .option('on-complete', {
      type: 'string',
      describe: 'shell command run once per complete run (UA_RUN_DIR, UA_RUN_NAME, UA_SENTINEL_ID)',
      group: 'Then:',
    })
    .option('run-workflow', {
      type: 'string',
      describe: 'applet-xxxx or workflow-xxxx run once on the sentinel',
      group: 'Then:',
    })
    .option('throttle', { type: 'string', describe: 'bytes per second, e.g. 50M', group: 'Resources:' })
    .option('bwlimit', {
      type: 'string',
      describe: 'timetable, e.g. "08:00,50M 19:00,off"',
      group: 'Resources:',
    })
    .option('upload-threads', { type: 'number', default: 8, group: 'Resources:' })
    .option('compress-threads', {
      type: 'number',
      default: Math.max(1, availableParallelism()),
      group: 'Resources:',
    })
    .option('compress', {
      type: 'boolean',
      default: false,
      describe: 'gzip files on the way (names get .gz)',
      group: 'Resources:',
    })
    .option('state-dir', { type: 'string', default: defaultDaemonStateDir(env), group: 'Operations:' })
    .option('queue', {
      type: 'string',
      describe: 'fleet mode: postgres://user@host/db holds the queue and state for every host',
      group: 'Fleet:',
    })
    .option('host-id', {
      type: 'string',
      default: hostname(),
      describe: "this host's name in the queue (unique per host)",
      group: 'Fleet:',
    })
    .option('lease', {
      type: 'string',
      default: '60s',
      describe: "a claim's life without heartbeats; then another host takes the work",
      group: 'Fleet:',
    })
    .option('http', {
      alias: 'metrics',
      type: 'string',
      describe: 'HOST:PORT for the status page, /api, /metrics, /healthz (loopback unless --http-token)',
      group: 'Operations:',
    })
    .option('http-token', {
      type: 'string',
      describe:
        'token for the status page when --http is not loopback (better: in the config file, or UA_DAEMON_HTTP_TOKEN)',
      group: 'Operations:',
    })
    .option('log-format', {
      choices: ['auto', 'json', 'plain'] as const,
      default: 'auto' as const,
      group: 'Operations:',
    })
    .option('fail-after', {
      type: 'number',
      default: 5,
      describe: 'attempts before a file is reported failed (it is still retried)',
      group: 'Operations:',
    })
    .option('retry-base', {
      type: 'string',
      default: '30s',
      describe: 'first retry delay, doubling up to 1h',
      group: 'Operations:',
    })
    .option('drain-timeout', {
      type: 'string',
      default: '20s',
      describe: 'SIGTERM: time in-flight files get before they are aborted (and resumed later)',
      group: 'Operations:',
    })
    .option('once', {
      type: 'boolean',
      default: false,
      describe: 'exit when nothing is left to do (for cron); exit 1 if a run is failing',
      group: 'Operations:',
    })
    .option('json', { type: 'boolean', default: false, describe: 'status: JSON output' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false })
    .option('auth-token', { type: 'string', hidden: true })
    .config('config', 'YAML or JSON file with any of these options', readConfigFile)
    .strict()
    .wrap(100)
    .help(false)
    .version(false)
    .option('help', { alias: 'h', type: 'boolean' })
    .exitProcess(false)
    .fail((msg, err) => {
      throw err instanceof DaemonError
        ? err
        : new DaemonError(
            'UA_ERR_DAEMON_CONFIG',
            `${msg ?? err?.message}. Run 'ua daemon --help' for the options.`,
          );
    });
}

export async function daemonHelp(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return parser([], env).getHelp();
}

/** Parses `ua daemon …` (argv without `daemon`); throws DaemonError naming what is wrong. */
export async function parseDaemonArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<DaemonCommand> {
  const p = parser(argv, env);
  const a = await p.parseAsync();
  if (a.help) return { action: 'help', text: await p.getHelp() };
  const stateDir = String(a['state-dir']);
  const queue = a.queue ?? env.UA_DAEMON_QUEUE;
  if (queue !== undefined && !/^postgres(ql)?:\/\//.test(queue))
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `--queue must be a PostgreSQL URL (postgres://user@host:5432/db), not ${JSON.stringify(queue.replace(/:[^:@/]*@/, ':***@'))}`,
    );
  if (a._[0] === 'status') return { action: 'status', stateDir, queue, json: Boolean(a.json) };
  if (a._.length > 0)
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `Unknown argument ${String(a._[0])}: ua daemon takes no file arguments (use --watch DIR)`,
    );
  if (a['auth-token'] !== undefined)
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      '--auth-token is not accepted by ua daemon (a token on the command line shows in ps and logs): set DX_SECURITY_CONTEXT in its environment (systemd: EnvironmentFile=) or run dx login',
    );
  const watch = (a.watch ?? []).map(String);
  if (watch.length === 0)
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      'ua daemon needs --watch DIR (a folder whose subfolders are run folders)',
    );
  if (!a.project)
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      'ua daemon needs --project P (the project name or ID to upload into)',
    );
  const size = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    try {
      return parseSize(String(v));
    } catch {
      throw new DaemonError(
        'UA_ERR_DAEMON_CONFIG',
        `--${flag} ${JSON.stringify(v)} is not a size: use bytes${flag === 'tar-size' ? '' : ' per second'} with K, M or G (e.g. 50M)`,
      );
    }
  };
  const options: DaemonOptions = {
    watch,
    project: String(a.project),
    folder: String(a.folder).startsWith('/') ? String(a.folder) : `/${a.folder}`,
    stateDir,
    queue,
    hostId: String(a['host-id']),
    leaseMs: Math.max(1000, parseDuration(a.lease, 'lease')),
    settleMs: parseDuration(a.settle, 'settle'),
    scanIntervalMs: Math.max(50, parseDuration(a['scan-interval'], 'scan-interval')),
    stallAfterMs: parseDuration(a['stall-after'], 'stall-after'),
    profile: a.profile,
    completeMarker: a['complete-marker'],
    completeAfterMs: parseDuration(a['complete-after'], 'complete-after'),
    webhook: a.webhook,
    onComplete: a['on-complete'],
    runWorkflow: a['run-workflow'],
    throttle: size('throttle', a.throttle),
    bwlimit: a.bwlimit ? parseBwlimit(a.bwlimit) : undefined,
    metrics: a.http,
    httpToken: a['http-token'] ?? env.UA_DAEMON_HTTP_TOKEN,
    layout: a.layout,
    tarSize: size('tar-size', a['tar-size'])!,
    tarWaitMs: parseDuration(a['tar-wait'], 'tar-wait'),
    exclude: a.exclude.map(String),
    failAfter: Math.max(1, a['fail-after']),
    retryBaseMs: parseDuration(a['retry-base'], 'retry-base'),
    uploadThreads: Math.max(1, a['upload-threads']),
    compressThreads: Math.max(1, a['compress-threads']),
    compress: a.compress,
    drainTimeoutMs: parseDuration(a['drain-timeout'], 'drain-timeout'),
    once: a.once,
  };
  if (options.runWorkflow && !/^(applet|workflow)-[0-9A-Za-z]{24}$/.test(options.runWorkflow))
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `--run-workflow ${options.runWorkflow} is not an applet-xxxx or workflow-xxxx ID`,
    );
  return {
    action: 'run',
    options,
    http: options.metrics ? parseListen(options.metrics, 'http') : undefined,
    logFormat: a['log-format'],
    verbose: a.verbose,
  };
}

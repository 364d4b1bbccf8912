/**
 * `ua daemon …` and `ua daemon status`: the thin front on daemon/daemon.ts. SIGTERM/SIGINT drain
 * (a second one stops at once; either way the next start resumes), SIGHUP reloads the config file.
 * Exit codes: 0 after a clean stop, 1 for bad settings or a state dir in use, 3 when the server or
 * the token is refused.
 */
import { formatBytes, formatDuration, formatRate } from '../accounting/format.js';
import { resolveApiConfig, retryOverride } from '../config/env.js';
import { Daemon } from '../daemon/daemon.js';
import { tlsOptions } from '../index.js';
import { jsonLog, plainLog, type DaemonLog } from '../daemon/ops/log.js';
import type { OpsServer } from '../daemon/ops/http.js';
import { readStatus, type DaemonStatus } from '../daemon/ops/status.js';
import { openDaemonDbReadOnly } from '../daemon/state/db.js';
import { SqliteSql, type Sql } from '../daemon/state/sql.js';
import { DaemonError, UaError, UsageError } from '../errors.js';
import { parseDaemonArgs, type DaemonCommand } from './daemon-args.js';
import { errorLine } from './output.js';

export async function daemonMain(argv: string[]): Promise<number> {
  let cmd: DaemonCommand;
  try {
    cmd = await parseDaemonArgs(argv);
  } catch (err) {
    errorLine((err as Error).message);
    return 1;
  }
  if (cmd.action === 'help') {
    process.stdout.write(`${cmd.text}\n`);
    return 0;
  }
  if (cmd.action === 'status') return status(cmd.stateDir, cmd.queue, cmd.json);

  const log: DaemonLog =
    cmd.logFormat === 'json' || (cmd.logFormat === 'auto' && !process.stdout.isTTY)
      ? jsonLog(1, cmd.verbose ? 'debug' : 'info')
      : plainLog(process.stdout, cmd.verbose ? 'debug' : 'info');
  let cfg;
  try {
    cfg = resolveApiConfig();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    errorLine(err.message);
    return 1;
  }
  for (const w of cfg.configWarnings) process.stderr.write(`${w}\n`);
  if (!cfg.token) {
    errorLine(
      'No authentication token: set DX_SECURITY_CONTEXT (systemd: EnvironmentFile= with mode 0600) or run dx login as the user the daemon runs as',
    );
    return 1;
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.open({
      options: cmd.options,
      session: {
        server: cfg,
        token: cfg.token,
        retry: retryOverride(),
        tls: tlsOptions(cfg.caCert),
      },
      log,
    });
  } catch (err) {
    errorLine((err as Error).message);
    // Errors that carry their exit code (bad settings 1, an unreadable CA file 1) keep it; other
    // agent errors are the server's or the token's (3), as for ua.
    return (err as { exitCode?: number }).exitCode ?? (err instanceof UaError ? 3 : 1);
  }
  let ops: OpsServer | undefined;
  if (cmd.http) {
    try {
      // Loaded only when asked for: prom-client costs ~40 ms of start-up.
      const { startOpsServer } = await import('../daemon/ops/http.js');
      ops = await startOpsServer(
        { ...cmd.http, token: cmd.options.httpToken },
        {
          status: () => daemon.status(),
          detail: (n, q) => daemon.detail(n, q),
          executionState: (id) => daemon.executionState(id),
        },
      );
      log.log('info', `status page on ${ops.url}/ (metrics ${ops.url}/metrics, health ${ops.url}/healthz)`);
    } catch (err) {
      errorLine(
        err instanceof DaemonError
          ? err.message
          : `Cannot listen on --http ${cmd.options.metrics}: ${(err as Error).message}`,
      );
      await daemon.close();
      return 1;
    }
  }
  let failing = false;
  await new Promise<void>((resolve) => {
    let stopping = false;
    if (cmd.options.once)
      void daemon.idle.then(() => {
        if (stopping) return;
        stopping = true;
        void daemon
          .status()
          .then((st) => {
            failing = st.runs.some((r) => r.state === 'failed');
            log.log('info', `--once: nothing left to do${failing ? '; a run is failing' : ''}`);
          })
          .finally(() => daemon.close().then(resolve));
      });
    const stop = (sig: string) => {
      if (stopping) {
        log.log('info', `${sig} again: stopping now; in-flight uploads resume at the next start`);
        void daemon.drain(0);
        return;
      }
      stopping = true;
      log.log('info', `${sig}: finishing in-flight uploads, then stopping`);
      void daemon.close().then(resolve);
    };
    const hup = () => {
      parseDaemonArgs(argv)
        .then((c) => {
          if (c.action === 'run') daemon.reload(c.options);
        })
        .catch((err: Error) => log.log('error', `SIGHUP: config not reloaded: ${err.message}`));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', hup);
  });
  await ops?.close();
  log.log('info', 'stopped');
  return failing ? 1 : 0;
}

/** `ua daemon status`: reads the queue only (the SQLite file read-only, or the fleet's PostgreSQL). */
async function status(stateDir: string, queue: string | undefined, json: boolean): Promise<number> {
  let q: Sql;
  if (queue) {
    const { PgSql, redactUrl } = await import('../daemon/state/pg.js');
    q = new PgSql(queue, { max: 1, applicationName: 'ua daemon status' });
    try {
      await q.get('SELECT 1 AS ok FROM ua_schema');
    } catch (err) {
      await q.close().catch(() => {});
      errorLine(
        `Cannot read the queue ${redactUrl(queue)}: ${(err as Error).message}. Check --queue and that a ua daemon has used it.`,
      );
      return 1;
    }
  } else {
    const db = openDaemonDbReadOnly(stateDir);
    if (!db) {
      errorLine(`No daemon state in ${stateDir}: no ua daemon has run with this --state-dir`);
      return 1;
    }
    q = new SqliteSql(db);
  }
  let s: DaemonStatus;
  try {
    s = await readStatus(q);
  } finally {
    await q.close();
  }
  process.stdout.write(json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
  return 0;
}

const MARK: Record<string, string> = {
  failed: '✗',
  stalled: '!',
  uploading: '↑',
  waiting: '…',
  complete: '✓',
};

export function formatStatus(s: DaemonStatus): string {
  const d = s.daemon;
  const lines = [
    d.running
      ? `ua daemon running (pid ${d.pid}, ${d.project}), last heartbeat ${d.heartbeat_at}`
      : `ua daemon not running (last heartbeat ${d.heartbeat_at ?? 'never'})`,
  ];
  if (s.hosts.length > 1)
    for (const h of s.hosts)
      lines.push(
        `  host ${h.id}: ${h.state}, ${h.uploaded} files, ${formatBytes(h.bytes)}, last seen ${h.last_seen}`,
      );
  if (s.runs.length === 0) lines.push('no runs yet');
  for (const r of s.runs) {
    const eta =
      r.eta_seconds === null
        ? ''
        : r.state === 'complete'
          ? ''
          : `  ETA ${formatDuration(r.eta_seconds * 1000)}`;
    lines.push(
      `${MARK[r.state]} ${r.state.padEnd(9)} ${r.name}  ${r.files.done}/${r.files.total} files  ` +
        `${formatBytes(r.bytes.done)}/${formatBytes(r.bytes.total)}  ${formatRate(r.rate)}${eta}  age ${formatDuration(r.age_seconds * 1000)}`,
    );
    if (r.sentinel) lines.push(`    sentinel ${r.sentinel}${r.job ? `  job ${r.job}` : ''}`);
    if (r.last_error && r.state !== 'complete') lines.push(`    last error: ${r.last_error}`);
  }
  return `${lines.join('\n')}\n`;
}

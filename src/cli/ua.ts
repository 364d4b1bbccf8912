import { UsageError, RunError } from '../errors.js';
import { createRequire } from 'node:module';
import { fanOut } from '../accounting/events.js';
import { createReporting, openLogFile, type LogFile } from '../accounting/progress.js';
import { scrubSecrets } from '../accounting/events.js';
import { resolveApiConfig, redactToken, retryOverride, type ApiConfig } from '../config/env.js';
import { validate } from '../config/options.js';
import { formatDiagnosis, noTokenDiagnosis } from '../diagnose/permission.js';
import { runTestReport } from '../diagnose/test-report.js';
import { upload } from '../index.js';
import { createHttpAgent } from '../transfer/http.js';
import { CLASSIC_VERSION, UA_VERSION } from '../version.js';
import { PlatformClient } from '../transfer/platform/api.js';
import { parseArgs, type ParsedArgs } from './args.js';
import { helpText } from './help.js';
import { endQuietlyOnClosedStdout, errorLine, ResultLines, userInfo, userMessages } from './output.js';

/** Exit codes after a signal, as a shell reports a process it ended: 128 + the signal's number. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** After a parse error: where the options are, instead of all of them. */
export const HELP_POINTER = "Run 'ua --help' to list the options.";

const NO_TOKEN =
  'No Authentication token found, please provide a correct auth token (you may use --auth-token option)';

/** `ua [options] FILE...`: returns the exit code (0 ok, 1 usage/any file failed, 3 server/token). */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedStdout();
  // `ua daemon …` is its own command; the classic agent had no such subcommand (a file named
  // `daemon` can still be uploaded as `./daemon`).
  if (argv[0] === 'daemon') return (await import('./daemon.js')).daemonMain(argv.slice(1));
  // Likewise `ua completion bash|zsh`, and the hidden entry point its script calls on each TAB.
  if (argv[0] === 'completion') return (await import('./completion.js')).completionScript(argv.slice(1));
  if (argv[0] === '--get-yargs-completions')
    return (await import('./completion.js')).completionAnswer(argv.slice(1));
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.showHelp) process.stderr.write(`${err.displayLine}\n${HELP_POINTER}\n`);
    else errorLine(err.message);
    return 1;
  }
  const { action, options: o, positionals } = parsed;
  if (action === 'version') {
    process.stdout.write(versionBlock());
    return 0;
  }
  if (action === 'help') {
    process.stderr.write(`${helpText()}\n`);
    return parsed.helpExitCode ?? 0;
  }
  let cfg: ApiConfig;
  try {
    cfg = resolveApiConfig({
      cli: {
        apiserverProtocol: o.apiserverProtocol,
        apiserverHost: o.apiserverHost,
        apiserverPort: o.apiserverPort,
        authToken: o.authToken,
        certificateFile: o.certificateFile,
      },
    });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    errorLine(err.message);
    return 1;
  }
  for (const w of cfg.configWarnings) process.stderr.write(`${w}\n`);
  if (!cfg.token) {
    errorLine(NO_TOKEN);
    process.stderr.write(`${formatDiagnosis(noTokenDiagnosis(cfg))}\n`);
    return 1;
  }
  if (action === 'env') return printEnv(cfg);
  if (action === 'test')
    return runTestReport({ config: cfg, projects: o.projects, versionBlock: versionBlock() });

  try {
    for (const line of validate(o, positionals, cfg.projectContext)) userInfo(line);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    errorLine(err.message);
    return 1;
  }
  // --dry-run: the plan, read-only (cli/dry-run.ts); nothing below runs.
  if (o.dryRun) return (await import('./dry-run.js')).dryRun({ options: o, positionals, config: cfg });
  let logFile: LogFile | undefined;
  try {
    logFile = o.logFile === undefined ? undefined : openLogFile(o.logFile);
  } catch (err) {
    if (!(err instanceof RunError)) throw err;
    errorLine(err.message);
    return 1;
  }
  const reporting = createReporting({
    progress: o.progress,
    json: o.json,
    throttle: o.throttle,
    verbose: o.verbosity,
    logFile,
    doNotCompress: o.doNotCompress,
    compressLevel: o.compressLevel,
  });
  const results = new ResultLines({ json: o.json });
  const events = fanOut(
    reporting.sink,
    results.sink,
    userMessages({ out: reporting.log, verbose: o.verbosity > 0 }),
  );
  // The log file gets what ends the run too (the terminal has it from errorLine and the lines below).
  const logEnd = (line: string) => logFile?.write('ERROR', scrubSecrets(line));
  const ac = new AbortController();
  // The first SIGINT/SIGTERM aborts in-flight requests and ends with 130/143 (the shell's codes for
  // those signals) once every file has its result; a second one ends at once. Either way the files
  // left open resume on a rerun.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(SIGNAL_EXIT[sig] ?? 1);
    interrupted = sig;
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const out = await upload({
      options: o,
      positionals,
      server: cfg,
      token: cfg.token,
      config: cfg,
      projectContext: cfg.projectContext,
      events,
      signal: ac.signal,
      retry: retryOverride(),
      certificateFile: cfg.caCert,
    });
    events(reporting.stats.summary());
    reporting.stop();
    results.flush();
    if (interrupted) {
      const open = out.filter((r) => r?.outcome === 'failed').length;
      const line = `interrupted: ${open} ${open === 1 ? 'file' : 'files'} left open; rerun the same command to resume`;
      logEnd(line);
      process.stderr.write(`${line}\n`);
      return SIGNAL_EXIT[interrupted] ?? 1;
    }
    // A hole means a file never reached a result: count it as failed, as its stdout line says.
    return Array.from(out, (r) => r?.outcome ?? 'failed').includes('failed') ? 1 : 0;
  } catch (err) {
    reporting.stop();
    logEnd((err as Error)?.message ?? String(err));
    if (interrupted) {
      process.stderr.write('interrupted before the upload started; rerun the same command\n');
      return SIGNAL_EXIT[interrupted] ?? 1;
    }
    if (err instanceof RunError) {
      errorLine(err.message, process.stderr, true);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      errorLine(err.message);
      return 1;
    }
    errorLine((err as Error).message ?? String(err), process.stderr, true);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    logFile?.close();
  }
}

/** The undici ua sends with (node_modules), not the one inside Node (process.versions.undici). */
function undiciVersion(): string {
  try {
    return (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function versionBlock(): string {
  return `Upload Agent Version: ${UA_VERSION} (ua, compatible with ${CLASSIC_VERSION})\n  node version: ${process.versions.node}\n  undici version: ${undiciVersion()}\n`;
}

function serverLines(cfg: ApiConfig): string {
  return `  API server protocol: ${cfg.protocol}\n  API server host:     ${cfg.host}\n  API server port:     ${cfg.port}\n`;
}

async function currentProject(cfg: ApiConfig): Promise<string> {
  if (!cfg.projectContext) return 'Current Project: None\n';
  const agent = createHttpAgent({ connections: 1, env: process.env });
  try {
    const api = new PlatformClient({ server: cfg, token: cfg.token, agent });
    const d = await api.call<{ name: string }>(`${cfg.projectContext}/describe`, {}, { attempts: 1 });
    return `Current Project: ${d.name} (${cfg.projectContext})\n`;
  } catch (err) {
    return `Current Project:  (${cfg.projectContext})${(err as Error).message}\n`;
  } finally {
    await agent.close();
  }
}

/** Like the classic `--env`, but the token is shown only as a short prefix. */
async function printEnv(cfg: ApiConfig): Promise<number> {
  process.stdout.write(
    `Upload Agent v${UA_VERSION}, environment info:\n${serverLines(cfg)}  Auth token: ${redactToken(cfg.token)} (from ${cfg.tokenSource})\n`,
  );
  process.stdout.write(await currentProject(cfg));
  return 0;
}

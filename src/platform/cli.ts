import yargs from 'yargs';
import { isGrantLevel, type GrantLevel } from '../common/levels.js';
import { parseSize } from '../config/options.js';
import { simulateRunCommand, type SimulateFlags } from '../sim/cli-command.js';
import { openAdmin, type PlatformAdmin } from './admin.js';
import { driveCommands, fileCommands, projectListCommand, tokenListCommand } from './cli-lists.js';
import { publicUrlOf, startPlatform } from './index.js';

/**
 * `ua-platform` — run the local platform server and administer its data dir.
 * Each admin command prints only the new ID or token on stdout; errors are one line on stderr and
 * exit 1. Admin commands are safe while `serve` runs on the same data dir (SQLite WAL).
 * `simulate-run` needs no data dir: it writes a simulated sequencer run folder (src/sim), the
 * fixture the transfer daemon is tested and demoed with.
 */

class CliError extends Error {}

/** A command that reported its own outcome on stderr and wants this exit code (130: interrupted). */
class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const DURATION_RE = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

/** `30d`, `12h`, `90m`, `5s`, `200ms` → milliseconds. */
export function parseDuration(s: string, what = 'duration'): number {
  const m = DURATION_RE.exec(s);
  if (!m) throw new CliError(`invalid ${what} ${JSON.stringify(s)}: use e.g. 200ms, 5s, 90m, 12h or 30d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * An absolute time: an ISO-8601 date-time with its zone (`Z` or `±hh:mm`; a local time would mean
 * something else on another machine), or a date alone (midnight UTC, as ECMAScript reads it).
 */
const ISO_TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/** Date.parse rolls 2026-02-30 over into March; a date that is not on the calendar is refused instead. */
function onCalendar(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, sec, zh, zm] = m.slice(1).map((x) => Number(x ?? 0));
  const inMonth = mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return inMonth && h <= 23 && mi <= 59 && sec <= 59 && zh <= 23 && zm <= 59;
}

/**
 * `token new --expires`: a lifetime from now (`30s`, `90m`, `12h`, `30d`, as parseDuration) or an
 * absolute ISO-8601 time (`2026-12-02T03:00:00Z`), so a test can make a token that expires while
 * it watches. A time already past is refused: it would print a token that never worked.
 */
export function parseExpiry(s: string, now: number): number {
  if (DURATION_RE.test(s)) return now + parseDuration(s, '--expires');
  const m = ISO_TIME_RE.exec(s);
  const at = m && onCalendar(m) ? Date.parse(s) : NaN;
  if (Number.isNaN(at)) {
    throw new CliError(
      `invalid --expires ${JSON.stringify(s)}: use a lifetime (30s, 90m, 12h, 30d) or an ISO-8601 time with a zone (2026-12-02T03:00:00Z)`,
    );
  }
  if (at <= now) throw new CliError(`--expires ${s} is in the past`);
  return at;
}

function size(s: string, what: string): number {
  try {
    return parseSize(s);
  } catch {
    throw new CliError(`invalid ${what} ${JSON.stringify(s)}: use e.g. 64K, 1M or 4096 (bytes)`);
  }
}

function level(s: string): GrantLevel {
  const up = s.toUpperCase();
  if (!isGrantLevel(up))
    throw new CliError(`invalid level ${JSON.stringify(s)}: VIEW, UPLOAD, CONTRIBUTE or ADMINISTER`);
  return up;
}

function dataDirOf(args: { data?: string }): string {
  const dir = args.data ?? process.env.UA_PLATFORM_DATA;
  if (!dir) throw new CliError('--data DIR is required (or set UA_PLATFORM_DATA)');
  return dir;
}

type Run = () => Promise<void> | void;

async function serve(
  dataDir: string,
  port: number,
  closingDelayMs: number | undefined,
  publicUrl: string | undefined,
): Promise<void> {
  if (publicUrl !== undefined) {
    try {
      publicUrlOf(publicUrl);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const platform = await startPlatform({ dataDir, port, closingDelayMs, publicUrl });
  process.stdout.write(`listening on ${platform.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void platform.stop().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function withAdmin(args: { data?: string }, fn: (admin: PlatformAdmin) => string): Run {
  return () => {
    const admin = openAdmin(dataDirOf(args));
    try {
      process.stdout.write(`${fn(admin)}\n`);
    } finally {
      admin.close();
    }
  };
}

export async function main(argv: string[]): Promise<number> {
  let run: Run | undefined;
  const setRun = (r: Run) => {
    run = r;
  };
  const parser = yargs(argv)
    .scriptName('ua-platform')
    .option('data', { type: 'string', describe: 'data directory (default: $UA_PLATFORM_DATA)', global: true })
    .command(
      'serve',
      'run the API server',
      (y) =>
        y
          .option('port', {
            type: 'number',
            default: 0,
            describe: 'TCP port on 127.0.0.1 (0 = any free port)',
          })
          .option('closing-delay-ms', { type: 'number', describe: 'how long files stay "closing"' })
          .option('public-url', {
            type: 'string',
            describe:
              'base of signed part and download URLs (default: the Host header each client used), e.g. behind a TLS proxy',
          }),
      (a) => {
        run = () => serve(dataDirOf(a), a.port, a['closing-delay-ms'], a['public-url']);
      },
    )
    .command('user', 'manage users', (y) =>
      y
        .command(
          'new <handle>',
          'create a user; prints its ID',
          (y2) => y2.positional('handle', { type: 'string', demandOption: true }),
          (a) => {
            run = withAdmin(a, (admin) => admin.createUser(a.handle));
          },
        )
        .demandCommand(1),
    )
    .command('project', 'manage projects', (y) =>
      y
        .command(
          'new <name>',
          'create a project; prints its ID',
          (y2) =>
            y2
              .positional('name', { type: 'string', demandOption: true })
              .option('owner', { type: 'string', demandOption: true, describe: 'user ID or handle' })
              .option('region', { type: 'string' }),
          (a) => {
            run = withAdmin(a, (admin) =>
              admin.createProject({ name: a.name, owner: a.owner, region: a.region }),
            );
          },
        )
        .command(projectListCommand(setRun, dataDirOf))
        .demandCommand(1),
    )
    .command(
      'invite <project> <user> <level>',
      'grant a user a level in a project; prints the user ID',
      (y) =>
        y
          .positional('project', { type: 'string', demandOption: true })
          .positional('user', { type: 'string', demandOption: true })
          .positional('level', { type: 'string', demandOption: true }),
      (a) => {
        run = withAdmin(a, (admin) => {
          admin.invite(a.project, a.user, level(a.level));
          return a.user.startsWith('user-') ? a.user : `user-${a.user.toLowerCase()}`;
        });
      },
    )
    .command('token', 'manage API tokens', (y) =>
      y
        .command(
          'new',
          'create a token; prints it (shown only once)',
          (y2) =>
            y2
              .option('user', { type: 'string', demandOption: true })
              .option('project', { type: 'string', describe: 'limit the token to this project (or *)' })
              .option('level', { type: 'string', describe: 'the level within --project' })
              .option('expires', {
                type: 'string',
                describe: 'lifetime (30d, 12h, 90m, 30s) or time (2026-12-02T03:00:00Z)',
              }),
          (a) => {
            run = withAdmin(a, (admin) => {
              if ((a.project === undefined) !== (a.level === undefined)) {
                throw new CliError('--project and --level go together');
              }
              const scope = a.project ? { projects: { [a.project]: level(a.level!) } } : undefined;
              const expiresAt = a.expires ? parseExpiry(a.expires, Date.now()) : undefined;
              return admin.createToken({ user: a.user, scope, expiresAt }).token;
            });
          },
        )
        .command(
          'revoke <token>',
          'revoke a token, given the token or its ID; prints "revoked"',
          (y2) => y2.positional('token', { type: 'string', demandOption: true }),
          (a) => {
            run = withAdmin(a, (admin) => {
              admin.revokeToken(a.token);
              // Never echo a token: answer with "revoked" instead.
              return 'revoked';
            });
          },
        )
        .command(tokenListCommand(setRun, dataDirOf))
        .demandCommand(1),
    )
    .command('drive', 'manage drives (the cloud accounts of auto-symlink projects)', (y) =>
      driveCommands(y, setRun, dataDirOf),
    )
    .command('file', 'inspect files', (y) => fileCommands(y, setRun, dataDirOf))
    .command(
      'simulate-run <dir>',
      'write a simulated sequencer run folder into DIR over time (to test a transfer daemon)',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'the watch folder' })
          .option('profile', {
            type: 'string',
            demandOption: true,
            describe: 'novaseq, nextseq2000, miseq or ont',
          })
          .option('cycles', { type: 'number', describe: 'cycles; ONT: batches of reads (default 10)' })
          .option('lanes', { type: 'number', describe: 'lanes (default: novaseq 2, others 1)' })
          .option('tiles', { type: 'number', describe: 'CBCL files per lane per cycle (default 2)' })
          .option('cbcl-size', {
            type: 'string',
            describe: 'final size of each CBCL (ONT: POD5) file (default 64K)',
          })
          .option('speed', {
            type: 'string',
            describe: 'wall-clock time per cycle, e.g. 200ms (default), 2s; 0ms = as fast as the disk allows',
          })
          .option('grow', {
            type: 'string',
            describe: 'how long each data file keeps growing (default 3/4 of --speed)',
          })
          .option('seed', { type: 'number', describe: 'same seed, same names and bytes (default 1)' })
          .option('name', {
            type: 'string',
            describe: 'run folder name (default: the instrument style, from the seed)',
          })
          .option('stall', {
            type: 'boolean',
            describe: 'stop half-way (or after --stall-after N cycles), no markers',
          })
          .option('stall-after', {
            type: 'number',
            describe: 'with --stall: cycles written before the stall',
          })
          .option('nested', {
            type: 'boolean',
            describe: 'ONT: <experiment>/<sample>/<run> under DIR, as MinKNOW',
          }),
      (a) => {
        const flags: SimulateFlags = {
          dir: a.dir,
          profile: a.profile,
          cycles: a.cycles,
          lanes: a.lanes,
          tiles: a.tiles,
          cbclBytes: a['cbcl-size'] === undefined ? undefined : size(a['cbcl-size'], '--cbcl-size'),
          cycleMs: a.speed === undefined ? undefined : parseDuration(a.speed, '--speed'),
          growMs: a.grow === undefined ? undefined : parseDuration(a.grow, '--grow'),
          seed: a.seed,
          name: a.name,
          stall: a.stall,
          stallAfter: a['stall-after'],
          nested: a.nested,
        };
        run = async () => {
          const code = await simulateRunCommand(
            flags,
            (line) => process.stdout.write(`${line}\n`),
            (line) => process.stderr.write(`${line}\n`),
          );
          if (code !== 0) throw new ExitCode(code);
        };
      },
    )
    .demandCommand(1)
    .strict()
    .help()
    .exitProcess(false)
    .epilogue(
      'Every command but simulate-run needs --data DIR (or UA_PLATFORM_DATA); admin commands work while serve runs.\n\n' +
        'Example:\n  ua-platform serve --data ./pd --port 8124\n  ua-platform user new alice --data ./pd\n' +
        '  ua-platform project new demo --owner alice --data ./pd\n  ua-platform token new --user alice --expires 30d --data ./pd',
    )
    .fail((msg, err, y) => {
      // A command group named without its command (or nothing at all): that level's usage, not a bare complaint.
      if (!err && /^Not enough non-option arguments/.test(msg ?? '')) {
        y.showHelp((text) => process.stderr.write(`${text}\n`));
        throw new ExitCode(1);
      }
      throw err ?? new CliError(msg);
    });

  try {
    await parser.parseAsync();
    if (!run) return 0; // --help / --version were printed
    await run();
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code; // its message is already on stderr
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ua-platform: ${msg.split('\n')[0]}\n`);
    return 1;
  }
}

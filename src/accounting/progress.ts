/**
 * Progress renderers and their wiring. Each renderer is an EventSink plus `stop()`:
 * - TtyProgress (tty-progress.ts): a redrawn block of progress lines when stderr is a terminal;
 * - PlainProgress (plain-progress.ts): classic-like periodic lines when it is not;
 * - JsonLines (json-lines.ts): one JSON object per event on stdout for `--json`.
 * `formatSummary` (format.ts) is the human end-of-run line.
 *
 * Renderers read a TransferStats but never feed it; `createReporting` puts `stats.record` first.
 */
import { type EventSink, fanOut } from './events.js';
import { JsonLines } from './json-lines.js';
import { PlainProgress, type IntervalTimers, type WritableText } from './plain-progress.js';
import type { Clock } from './rate-window.js';
import { TransferStats } from './stats.js';
import { TtyProgress } from './tty-progress.js';
import type { LogFile } from './log-file.js';
import { verboseLog } from './verbose-log.js';

export { formatBytes, formatDuration, formatEta, formatRate, formatSummary } from './format.js';
export { JsonLines, toJsonLine, type JsonLine, type JsonLinesOptions } from './json-lines.js';
export { PlainProgress, type PlainProgressOptions, type WritableText } from './plain-progress.js';
export { TtyProgress, type TtyProgressOptions } from './tty-progress.js';
export { openLogFile, type LogFile } from './log-file.js';

export interface ProgressRenderer {
  readonly sink: EventSink;
  stop(): void;
}

export interface ReportingOptions {
  /** `--progress`: bars on a TTY stderr, plain lines otherwise. */
  progress: boolean;
  /** `--json`: JSON lines on stdout. */
  json: boolean;
  stderr?: WritableText;
  stdout?: WritableText;
  /** `--throttle` bytes/s, shown by the plain renderer. */
  throttle?: number;
  /** Plain renderer's period; default 10 s. */
  intervalMs?: number;
  clock?: Clock;
  timers?: IntervalTimers;
  /** Use this stats object instead of a new one; it is fed here, so nobody else should record into it. */
  stats?: TransferStats;
  /** -v = 1, -vv = 2: verbose lines on stderr (above the bars). */
  verbose?: number;
  /** `--log-file`: gets the -vv lines, retries, failures and the summary, whatever `verbose` is. */
  logFile?: LogFile;
  /** For the wording of the compression decision in verbose lines. */
  doNotCompress?: boolean;
  compressLevel?: number;
}

export interface Reporting {
  /** Give every engine event to this. */
  readonly sink: EventSink;
  readonly stats: TransferStats;
  /** Writes a user line to stderr without tearing the bars. */
  log(line: string): void;
  /** Ends the renderers (final round / final bars). Idempotent; call it on every exit path. */
  stop(): void;
}

export function createReporting(o: ReportingOptions): Reporting {
  const stats = o.stats ?? new TransferStats({ clock: o.clock });
  const stderr = o.stderr ?? process.stderr;
  const renderers: ProgressRenderer[] = [];
  let log = (line: string): void => void stderr.write(line.endsWith('\n') ? line : `${line}\n`);
  if (o.progress) {
    const r =
      stderr.isTTY === true
        ? new TtyProgress({ stats, stream: stderr, clock: o.clock })
        : new PlainProgress({
            stats,
            stream: stderr,
            clock: o.clock,
            timers: o.timers,
            throttle: o.throttle,
            intervalMs: o.intervalMs,
          });
    renderers.push(r);
    log = (line) => r.log(line);
  }
  if (o.json)
    renderers.push(
      new JsonLines({ stream: o.stdout, clock: o.clock, includeApiCalls: (o.verbose ?? 0) >= 2 }),
    );
  const words = { doNotCompress: o.doNotCompress, compressLevel: o.compressLevel };
  const verbose: EventSink[] = [];
  if ((o.verbose ?? 0) > 0)
    verbose.push(
      verboseLog({ ...words, level: o.verbose!, write: (level, line) => log(`${level}: ${line}`) }),
    );
  const file = o.logFile;
  if (file)
    verbose.push(verboseLog({ ...words, level: 2, all: true, write: (l, line) => file.write(l, line) }));
  return {
    sink: fanOut(stats.sink, ...verbose, ...renderers.map((r) => r.sink)),
    stats,
    log: (line) => log(line),
    stop: () => {
      for (const r of renderers) r.stop();
    },
  };
}

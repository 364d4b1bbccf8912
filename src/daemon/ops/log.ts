/**
 * The daemon's log: one JSON object per line (pino) when stdout is not a terminal — journald, a
 * file, a log shipper — and plain, readable lines on a terminal. Messages never carry a token:
 * `scrubSecrets` runs over every message as a second line of defence.
 */
import { pino, type Logger } from 'pino';
import { scrubSecrets, type UaEvent } from '../../accounting/events.js';
import { unverifiedText } from '../../accounting/format.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface DaemonLog {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
}

export function jsonLog(dest: NodeJS.WritableStream | number = 1, level: LogLevel = 'info'): DaemonLog {
  const logger: Logger = pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    typeof dest === 'number' ? pino.destination({ dest, sync: true }) : dest,
  );
  return { log: (lvl, msg, fields = {}) => logger[lvl](fields, scrubSecrets(msg)) };
}

/** An error text as one short line: a server's multi-line XML body must not fill the log or status. */
export function oneLine(text: string, max = 240): string {
  const flat = text
    .replace(/\s+/g, ' ')
    // An S3-style XML error body (the part PUT's) as its code and message only.
    .replace(/server Response: '<\?xml.*?<Code>([^<]*)<\/Code>.*?<Message>([^<]*)<\/Message>.*?'/, '$1: $2')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function plainLog(out: NodeJS.WritableStream = process.stdout, level: LogLevel = 'info'): DaemonLog {
  return {
    log(lvl, msg, fields = {}) {
      if (ORDER[lvl] < ORDER[level]) return;
      const t = new Date().toISOString().replace('T', ' ').slice(0, 19);
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      out.write(`${t} ${lvl.padEnd(5)} ${scrubSecrets(msg)}${extra ? `  ${extra}` : ''}\n`);
    },
  };
}

/** A log that keeps lines in memory (tests). */
export function memoryLog(): DaemonLog & {
  lines: Array<{ level: LogLevel; msg: string; fields?: LogFields }>;
} {
  const lines: Array<{ level: LogLevel; msg: string; fields?: LogFields }> = [];
  return { lines, log: (level, msg, fields) => lines.push({ level, msg, fields }) };
}

/** Retries and warnings from the engine, one short line each. */
export function logEngineEvent(log: DaemonLog, e: UaEvent): void {
  if (e.type === 'part-retry')
    log.log(
      'warn',
      `part ${e.index} of ${e.fileId}: ${oneLine(e.reason)}; retry ${e.attempt} in ${e.delayMs} ms`,
    );
  else if (e.type === 'api-retry')
    log.log('warn', `/${e.route}: ${oneLine(e.reason)}; retry ${e.attempt} in ${e.delayMs} ms`);
  else if (e.type === 'warning') log.log('warn', oneLine(e.message, 400));
  else if (e.type === 'part-unverified') log.log('warn', oneLine(unverifiedText(e), 400));
}

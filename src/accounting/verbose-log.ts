/**
 * `-v` / `-vv` and `--log-file`: the run told as lines, from the events alone.
 *
 * Level 1 (-v), per file: the plan (size, parts, compression decision), the resume point
 * (`resuming file-… at 42%, 9 of 16 parts on the server`), its end; per part, each retry with the
 * server's body. Level 2 (-vv) adds each part stored and each API call's status and time.
 *
 * Nothing here can print a token: events never carry one (see events.ts), and every free text (error
 * messages, reasons, bodies) goes through `scrubSecrets` as a second line of defence.
 */
import { type EventSink, type FileStartEvent, type UaEvent, scrubSecrets } from './events.js';
import { formatBytes, formatSummary, unverifiedText } from './format.js';

export type Level = 'ERROR' | 'INFO' | 'DEBUG';

export interface VerboseLogOptions {
  /** 1 = -v, 2 = -vv. */
  level: number;
  /** One line out, without its newline. */
  write(level: Level, line: string): void;
  /**
   * Also tell retries, warnings, failures and the summary. The terminal shows those already
   * (cli/output.ts userMessages); a log file must have them.
   */
  all?: boolean;
  /** For the wording of the compression decision. */
  doNotCompress?: boolean;
  compressLevel?: number;
}

export function verboseLog(o: VerboseLogOptions): EventSink {
  const names = new Map<number, string>();
  const info = (line: string): void => o.write('INFO', line);
  const debug = (line: string): void => {
    if (o.level >= 2) o.write('DEBUG', line);
  };
  const nameOf = (order: number, fileId: string): string => {
    const n = names.get(order);
    return n === undefined ? fileId : `"${n}" (${fileId})`;
  };
  return (e: UaEvent) => {
    switch (e.type) {
      case 'run-start':
        info(`run: ${e.files} ${e.files === 1 ? 'file' : 'files'}, ${formatBytes(e.totalBytes)}`);
        return;
      case 'file-start':
        names.set(e.order, e.localPath);
        info(planLine(e, o));
        if (e.resumed) info(resumeLine(e));
        return;
      case 'part-done':
        debug(
          `part ${e.index} of ${nameOf(e.order, e.fileId)} stored: ${formatBytes(e.rawBytes)}` +
            (e.sentBytes !== e.rawBytes ? ` (${formatBytes(e.sentBytes)} sent)` : '') +
            (e.resent ? ', sent again: the earlier copy did not match' : ''),
        );
        return;
      case 'part-retry':
        if (o.all) {
          info(
            `retry part ${e.index} of ${nameOf(e.order, e.fileId)}: ${what(e)}; attempt ${e.attempt} failed, next in ${seconds(e.delayMs)}`,
          );
          if (e.body) info(`  server said: ${scrubSecrets(e.body)}`);
        }
        return;
      case 'api-retry':
        if (o.all) {
          info(`retry /${e.route}: ${what(e)}; attempt ${e.attempt} failed, next in ${seconds(e.delayMs)}`);
          if (e.body) info(`  server said: ${scrubSecrets(e.body)}`);
        }
        return;
      case 'part-unverified':
        if (o.all) info(`warning: ${unverifiedText(e)}`);
        return;
      case 'api-call':
        debug(
          `api /${e.route} ${e.status === undefined ? 'no answer' : e.status} in ${e.ms.toFixed(0)} ms` +
            (e.attempt > 1 ? ` (attempt ${e.attempt})` : ''),
        );
        return;
      case 'file-done':
        names.delete(e.order);
        if (e.outcome === 'failed') {
          if (o.all) info(`failed "${e.localPath}": ${folded(e.error ?? 'unknown error')}`);
        } else info(`${e.outcome.replace('-', ' ')} "${e.localPath}" as ${e.fileId}`);
        return;
      case 'warning':
        if (o.all) info(`warning: ${scrubSecrets(e.message)}`);
        return;
      case 'summary':
        if (o.all) info(formatSummary(e));
        return;
      default:
        return;
    }
  };
}

/** `plan "reads.fq" -> "reads.fq.gz" (file-…) in project-…: 1.20 GiB, 17 parts of 75.0 MiB, gzip level 6`. */
function planLine(e: FileStartEvent, o: VerboseLogOptions): string {
  const head = `plan "${e.localPath}" -> "${e.remoteName}" (${e.fileId}) in ${e.project}: ${formatBytes(e.size)}`;
  const p = e.plan;
  if (p === undefined) return head;
  const parts =
    p.parts === undefined
      ? `parts of ${formatBytes(p.chunkSize)} cut as stdin is read`
      : `${p.parts} ${p.parts === 1 ? 'part' : 'parts'} of ${formatBytes(p.chunkSize)}`;
  return `${head}, ${parts}, ${compression(e, o)}`;
}

function compression(e: FileStartEvent, o: VerboseLogOptions): string {
  const p = e.plan!;
  if (p.compress) return `gzip level ${o.compressLevel ?? 6}`;
  if (o.doNotCompress) return 'not compressed (--do-not-compress)';
  if (e.size === 0 && p.parts !== undefined) return 'not compressed (empty)';
  return `not compressed (already compressed: ${p.media || 'unknown type'})`;
}

/** `resuming file-… at 42%, 9 of 16 parts on the server`. */
function resumeLine(e: FileStartEvent): string {
  if (e.size > 0 && e.doneBytes >= e.size) return `${e.fileId}: an earlier run sent every part already`;
  const pct = e.size > 0 ? Math.floor((e.doneBytes / e.size) * 100) : 0;
  const parts =
    e.plan?.parts === undefined ? '' : `, ${e.plan.partsDone} of ${e.plan.parts} parts on the server`;
  return `resuming ${e.fileId} at ${pct}%${parts}`;
}

/** `HTTP 503 SlowDown`, `ECONNRESET`, or the reason when nothing shorter is known. */
export function what(e: { status?: number; code?: string; reason: string }): string {
  if (e.status !== undefined) return `HTTP ${e.status}${e.code ? ` ${e.code}` : ''}`;
  if (e.code) return e.code;
  return scrubSecrets(e.reason).replace(/\s+/g, ' ').slice(0, 120);
}

/** Scrubbed and on one line (an error can quote a server's pretty-printed XML). */
export function folded(text: string): string {
  return scrubSecrets(text).replace(/\s+/g, ' ').trim();
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The only stdout writer of the agent, and the small stderr helpers.
 *
 * stdout carries the machine-readable result and nothing else: after the run, one line per input file
 * in input order, its file ID (`file-…`) or the literal `failed` (ua-behavior §6.1). With `--json` the
 * JSON lines (accounting/json-lines.ts) carry the results instead and ResultLines prints nothing.
 * Everything for humans (progress, messages, summary) goes to stderr.
 */
import type { EventSink, UaEvent } from '../accounting/events.js';
import { scrubSecrets } from '../accounting/events.js';
import { formatSummary, unverifiedText } from '../accounting/format.js';
import { folded, seconds, what } from '../accounting/verbose-log.js';

/** Somewhere to write text: a stream, or a line function such as `Reporting.log` (keeps bars intact). */
export type LineOut = { write(chunk: string): unknown } | ((line: string) => void);

function writeLine(out: LineOut, line: string): void {
  if (typeof out === 'function') out(line);
  else out.write(`${line}\n`);
}

export interface ResultLinesOptions {
  /** `--json`: stay silent. */
  json?: boolean;
  /** Default process.stdout. */
  stream?: { write(chunk: string): unknown };
  /** Number of inputs; otherwise taken from run-start (or the highest order seen). */
  count?: number;
}

export class ResultLines {
  /** Records file-done results (and the input count from run-start). */
  readonly sink: EventSink = (e) => this.onEvent(e);
  private readonly json: boolean;
  private readonly stream: { write(chunk: string): unknown };
  private count?: number;
  private readonly results = new Map<number, string | null>();
  private flushed = false;

  constructor(o: ResultLinesOptions = {}) {
    this.json = o.json ?? false;
    this.stream = o.stream ?? process.stdout;
    this.count = o.count;
  }

  /** The result of input `order` (0-based); the first result recorded for an input wins. */
  record(order: number, fileId: string | null): void {
    if (!Number.isInteger(order) || order < 0) throw new RangeError(`bad input order ${order}`);
    if (!this.results.has(order)) this.results.set(order, fileId);
  }

  /** The stdout lines, in input order; an input with no result (e.g. the run was cancelled) is `failed`. */
  lines(): string[] {
    const n = this.count ?? (this.results.size === 0 ? 0 : Math.max(...this.results.keys()) + 1);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.results.get(i) ?? 'failed');
    return out;
  }

  /** Prints the lines once, at the end of the run (classic behaviour); a no-op with `--json`. */
  flush(): void {
    if (this.flushed) return;
    this.flushed = true;
    if (this.json) return;
    const lines = this.lines();
    if (lines.length > 0) this.stream.write(`${lines.join('\n')}\n`);
  }

  private onEvent(e: UaEvent): void {
    if (e.type === 'run-start') this.count ??= e.files;
    else if (e.type === 'file-done') this.record(e.order, e.outcome === 'failed' ? null : e.fileId);
  }
}

/** 128 + SIGPIPE: what a shell reports for a program whose stdout reader went away (`yes | head -1`). */
export const CLOSED_STDOUT_EXIT = 141;

/**
 * Ends the process quietly when stdout's reader is gone (`ua --test | head -1`), as SIGPIPE ends the
 * classic agent: no stack trace, exit CLOSED_STDOUT_EXIT. Node ignores SIGPIPE, so the write fails
 * with EPIPE instead, emitted as an 'error' that would otherwise crash the process.
 */
export function endQuietlyOnClosedStdout(
  stream: NodeJS.EventEmitter = process.stdout,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') exit(CLOSED_STDOUT_EXIT);
    else throw err;
  });
}

/** A USERINFO line on stderr (the classic agent's always-shown messages). */
export function userInfo(msg: string, out: LineOut = process.stderr): void {
  writeLine(out, msg);
}

/**
 * `ERROR: <msg>` on stderr. `blankLineBefore` reproduces the classic agent's blank line before errors
 * from its main upload block.
 */
export function errorLine(msg: string, out: LineOut = process.stderr, blankLineBefore = false): void {
  if (blankLineBefore) writeLine(out, '');
  writeLine(out, `ERROR: ${scrubSecrets(msg)}`);
}

export interface UserMessagesOptions {
  /** Where to write; pass `Reporting.log` while progress bars are shown. */
  out?: LineOut;
  /** Also announce retries (the classic agent only showed them with -v). Default true. */
  retries?: boolean;
  /** -v: a retry line is followed by the server's body (scrubbed). */
  verbose?: boolean;
}

/**
 * Human messages derived from events, for stderr: failed files, warnings, retries and the final
 * summary line. Put it after the progress renderers in `fanOut`, so bars are stopped before the
 * summary is written.
 */
export function userMessages(o: UserMessagesOptions = {}): EventSink {
  const out = o.out ?? process.stderr;
  const retries = o.retries ?? true;
  const names = new Map<number, string>();
  const body = (b: string | undefined): void => {
    if (o.verbose && b) writeLine(out, `  server said: ${scrubSecrets(b)}`);
  };
  return (e) => {
    switch (e.type) {
      case 'file-start':
        names.set(e.order, e.localPath);
        return;
      case 'file-done':
        names.delete(e.order);
        if (e.outcome === 'failed') {
          // On one line: an error can quote a server's pretty-printed XML, which would tear the bars.
          const why = e.error === undefined ? '' : ` ${folded(e.error)}`;
          writeLine(out, `File "${e.localPath}" could not be uploaded.${why}`);
        }
        return;
      case 'warning':
        writeLine(out, `WARNING: ${scrubSecrets(e.message)}`);
        return;
      case 'part-unverified':
        writeLine(out, `WARNING: ${unverifiedText(e)}`);
        return;
      case 'part-retry':
        // One short line (status, error code, part, next try); the body, often a whole XML page, with -v.
        if (retries) {
          const name = names.get(e.order) ?? e.fileId;
          writeLine(
            out,
            `Retrying part ${e.index} of "${name}" in ${seconds(e.delayMs)}: ${what(e)} (attempt ${e.attempt} failed)`,
          );
          body(e.body);
        }
        return;
      case 'api-retry':
        if (retries) {
          writeLine(
            out,
            `Retrying /${e.route} in ${seconds(e.delayMs)}: ${what(e)} (attempt ${e.attempt} failed)`,
          );
          body(e.body);
        }
        return;
      case 'summary':
        writeLine(out, formatSummary(e));
        return;
      default:
        return;
    }
  };
}

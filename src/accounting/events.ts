/**
 * The events the upload engine emits, and a tiny typed emitter.
 *
 * Every renderer (TTY bars, plain lines, JSON lines), the statistics and the stdout result lines are
 * driven by these events alone, so the engine never knows how progress is shown.
 *
 * SECURITY: no event ever carries an auth token, a signed URL or request headers. Emitters pass error
 * messages and reasons as text; `scrubSecrets` is applied to those texts by every renderer as a second
 * line of defence (a server may echo a signed URL or an Authorization header in an error body).
 *
 * Conventions: `order` is the file's 0-based position in the input order (the line it gets on stdout);
 * "raw" bytes are file bytes before compression, "sent" bytes are what goes over the wire (after
 * compression). All byte counts are plain numbers (safe up to 8 PiB).
 */

/** The run is about to start sending; emitted once, before any file-start. */
export interface RunStartEvent {
  type: 'run-start';
  /** Number of input files (the number of stdout result lines). */
  files: number;
  /** Sum of the input files' sizes (raw bytes). */
  totalBytes: number;
}

/** A file got its remote file object (fresh or resumed) and its parts are about to be sent. */
export interface FileStartEvent {
  type: 'file-start';
  order: number;
  localPath: string;
  remoteName: string;
  /** Project ID the file goes to. */
  project: string;
  fileId: string;
  /** Raw size in bytes. */
  size: number;
  /** True when an open file object from an earlier run is being completed. */
  resumed: boolean;
  /** Raw bytes already uploaded by an earlier run (parts that will not be sent again). */
  doneBytes: number;
  /** The plan, for -v and the log file (absent from emitters that do not know it). */
  plan?: FilePlanInfo;
}

export interface FilePlanInfo {
  /** Parts planned; undefined for stdin, whose parts are cut as it is read. */
  parts?: number;
  /** Of those, parts an earlier run left on the server (counted in doneBytes). */
  partsDone: number;
  /** Raw bytes per part (the last may be shorter). */
  chunkSize: number;
  /** Gzipped on the way (the remote name then ends in .gz). */
  compress: boolean;
  /** The media type the remote file gets (`application/x-gzip` when compressing). */
  media: string;
  /** Direct mode: written to the project's bucket/container with the user's cloud credentials. */
  direct?: boolean;
}

/**
 * Optional, high-frequency: bytes of one part handed to the socket (a delta, not a total). Emit it from
 * the request body (see `throttled` in throttle.ts) for smooth rates; without it rates step at part-done.
 */
export interface PartProgressEvent {
  type: 'part-progress';
  order: number;
  index: number;
  /** Sent bytes since the previous part-progress event for this part. */
  sentBytes: number;
}

/** One part was stored by the server. */
export interface PartDoneEvent {
  type: 'part-done';
  order: number;
  fileId: string;
  /** The part's index, numbered as the destination numbers parts (the platform starts at 1). */
  index: number;
  rawBytes: number;
  sentBytes: number;
  /**
   * A part an earlier run had sent (counted in file-start's doneBytes) was found not to match the local
   * bytes and was sent again: its raw bytes are not new progress.
   */
  resent?: boolean;
}

/**
 * A part an earlier run (of ua or the classic agent) left on the destination could not be proven to
 * be this file's content, so it is sent again (its part-done has `resent`). Uncompressed: its MD5 is
 * not the local bytes'. Compressed: it is none of the forms ua can remake (this run's compressor;
 * node:zlib with classic padding; upstream zlib as the classic agent compresses).
 */
export interface PartUnverifiedEvent {
  type: 'part-unverified';
  order: number;
  fileId: string;
  index: number;
  localPath: string;
  compressed: boolean;
  /** Size and MD5 of the part on the destination. */
  size: number;
  md5: string;
}

/** A part upload failed and will be tried again after `delayMs`; what failed, in short (RetryDetail). */
export interface PartRetryEvent extends RetryDetail {
  type: 'part-retry';
  order: number;
  fileId: string;
  index: number;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  reason: string;
}

/** The short facts of a failed attempt: HTTP status, an error code, and the server's body. */
export interface RetryDetail {
  /** HTTP status, when the server answered. */
  status?: number;
  /** The server's error code (`SlowDown`, `InvalidAuthentication`) or the socket's (`ECONNRESET`). */
  code?: string;
  /** The server's answer, for -v (scrubbed by every renderer). */
  body?: string;
}

/** An API call (not tied to one part) failed and will be retried. */
export interface ApiRetryEvent extends RetryDetail {
  type: 'api-retry';
  /** The route without host or query, e.g. `file/new` or `file-xxxx/close`. */
  route: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

/**
 * One API call attempt ended (answered, or failed to connect): for -vv and the log file. Only
 * emitted when the session is asked for it (`apiTimings`): there is one per part.
 */
export interface ApiCallEvent {
  type: 'api-call';
  route: string;
  /** Undefined when no answer came (connection error, abort). */
  status?: number;
  ms: number;
  attempt: number;
}

export type FileOutcome = 'uploaded' | 'resumed' | 'already-closed' | 'failed';

/** A file reached its end: closed (or found closed), or failed. Emitted exactly once per input file. */
export interface FileDoneEvent {
  type: 'file-done';
  order: number;
  localPath: string;
  /** The file object's ID, or null when the file failed (also when it failed after /file/new). */
  fileId: string | null;
  outcome: FileOutcome;
  /** Why it failed (outcome 'failed' only); user-facing text, never a token. */
  error?: string;
  /** The file's raw size in bytes. */
  bytes: number;
}

/** End of run; built by `TransferStats.summary()`. */
export interface SummaryEvent {
  type: 'summary';
  /** Files that ended well: uploaded + resumed + already closed. */
  ok: number;
  failed: number;
  /** Files completed from an earlier run's open file object. */
  resumed: number;
  /** Files found already closed by an earlier run (nothing sent). */
  skipped: number;
  /** Raw bytes of the parts sent in this run. */
  rawBytes: number;
  /** Bytes of the parts sent in this run as sent (after compression). */
  sentBytes: number;
  /** Part and API retries during the run. */
  retries: number;
  elapsedMs: number;
  /** sentBytes / 2^20 / elapsed seconds: MiB/s, the unit the classic agent calls "MB/sec". */
  mbPerSec: number;
}

/** Something the user should know that is not an error of one file. */
export interface WarningEvent {
  type: 'warning';
  message: string;
}

export type UaEvent =
  | RunStartEvent
  | FileStartEvent
  | PartProgressEvent
  | PartDoneEvent
  | PartUnverifiedEvent
  | PartRetryEvent
  | ApiRetryEvent
  | ApiCallEvent
  | FileDoneEvent
  | SummaryEvent
  | WarningEvent;

export type UaEventType = UaEvent['type'];

export type EventSink = (e: UaEvent) => void;

/**
 * One sink that forwards each event to every sink, in the order given (put `stats.record` before the
 * renderers that read the stats). A throwing sink does not stop the others from seeing the event; the
 * first error is rethrown once all have run, so a broken renderer is loud but never skips a result line.
 */
export function fanOut(...sinks: EventSink[]): EventSink {
  return (e) => {
    let failure: { err: unknown } | undefined;
    for (const sink of sinks) {
      try {
        sink(e);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  };
}

const SECRET_QUERY = /([?&][\w.-]*(?:sig|signature|token|credential|secret|key|auth)[\w.-]*=)[^&\s'"<>]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const TOKEN_FIELD = /("?(?:auth_?token|authorization|access_?token|token)"?\s*[:=]\s*"?)[^"\s,}]+/gi;

/** Removes things that look like credentials from free text (error messages, reasons). */
export function scrubSecrets(text: string): string {
  return text
    .replace(BEARER, '$1 <redacted>')
    .replace(SECRET_QUERY, '$1<redacted>')
    .replace(TOKEN_FIELD, '$1<redacted>');
}

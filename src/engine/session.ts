/**
 * The upload engine as a long-lived object: it owns the HTTP connection pool, the API client, the
 * worker pool, the byte budget, the throttle, the resume journal and the destination router, and
 * uploads planned files as they come, for one command line or for weeks (the daemon).
 *
 *   const session = await openSession(config, sink, signal);
 *   await session.upload(files);      // files: an array, or an AsyncIterable fed over time
 *   await session.drain();            // stop taking files; in-flight ones finish
 *   await session.close();            // releases everything it owns
 *
 * Output is the events alone (file-start, part-done, file-done …), one file-done per file taken.
 * The CLI (src/index.ts) and the daemon are thin fronts on it; tests drive it in-process, with the
 * memory destination (transfer/memory/) or a real one.
 */
import { TokenBucket, throttled } from '../accounting/throttle.js';
import type { EventSink } from '../accounting/events.js';
import { retryDetail } from '../accounting/retry-detail.js';
import { ByteBudget } from '../read/budget.js';
import { defaultStateDir, openJournal, type OpenedJournal } from '../state/journal.js';
import type { Destination } from '../transfer/destination.js';
import { createHttpAgent } from '../transfer/http.js';
import { PlatformClient, type ApiServer } from '../transfer/platform/api.js';
import { PlatformDestination } from '../transfer/platform/destination.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../transfer/retry.js';
import { DestinationRouter } from '../transfer/router.js';
import { runUploads, type FileResult, type ScheduledFile } from '../transfer/scheduler.js';
import type { Compressor } from '../work/compressors.js';
import { PartPool } from '../work/pool.js';
import type { Dispatcher } from 'undici';

/** The platform's smallest part but the last; compressed parts are padded up to it. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/**
 * Default bound on bytes of parts in flight; keeps RSS flat whatever the file count or size. 384 MiB
 * (five 75 MiB parts) runs as fast as 512 to a discarding server and keeps peak RSS near 500 MiB.
 */
export const DEFAULT_MEMORY_BUDGET = 384 * 1024 * 1024;

/** What the engine needs to know; the CLI's options extend it (config/options.ts UaOptions). */
export interface EngineOptions {
  /** Concurrent part uploads. */
  uploadThreads: number;
  /** Worker threads that read, hash and compress parts. */
  compressThreads: number;
  /** Attempts per part, in all. */
  tries: number;
  compressLevel: number;
  /** Which deflate compresses parts (default libdeflate; node:zlib when it cannot load: a warning says so). */
  compressor?: Compressor;
  /** Bytes per second for the whole session; undefined = unthrottled. */
  throttle?: number;
  waitOnClose: boolean;
  verify: boolean;
  doNotResume: boolean;
  /** Force direct mode for every project (else automatic: see transfer/router.ts). */
  direct?: boolean;
  /** The resume journal's directory (default: UA_STATE_DIR, $XDG_CACHE_HOME/ua, ~/.cache/ua). */
  stateDir?: string;
}

export interface SessionConfig {
  options: EngineOptions;
  server: ApiServer;
  token: string;
  /** Retry timing override (tests use short delays). */
  retry?: Partial<RetryPolicy>;
  /** TLS: skip verification (NOVERIFY), or a CA bundle to trust. */
  tls?: { insecure?: boolean; ca?: string };
  memoryBudget?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Emit part-progress events as bytes leave (at least one per 64 KiB), for progress bars and rates
   * that move inside a part. Off by default: the body is then handed to the socket whole.
   */
  partProgress?: boolean;
  /** Emit an api-call event as each API call attempt ends (-vv, --log-file): one or more per part. */
  apiTimings?: boolean;
  /** Use this destination for every file instead of the platform router (tests: the memory destination). */
  destination?: Destination;
}

export async function openSession(
  config: SessionConfig,
  sink: EventSink,
  signal: AbortSignal,
): Promise<Session> {
  return new Session(config, sink, signal);
}

export class Session {
  readonly api: PlatformClient;
  readonly budget: ByteBudget;
  readonly router?: DestinationRouter;
  readonly #o: EngineOptions;
  readonly #sink: EventSink;
  readonly #signal: AbortSignal;
  readonly #agent: Dispatcher;
  readonly #pool: PartPool;
  readonly #journal: OpenedJournal;
  readonly #destination: Destination;
  /** fileId → the file's order, while it is in flight (part-retry events name the file by order). */
  readonly #orderOf = new Map<string, number>();
  /** order → fileId, to forget the entry above when the file ends (a failed file's file-done has no ID). */
  readonly #fileOf = new Map<number, string>();
  readonly #running = new Set<Promise<void>>();
  #taking = true;
  #closed?: Promise<void>;
  /** The session's one throttle, undefined = unthrottled; setThrottle changes it while parts flow. */
  #bucket?: TokenBucket;
  /** The deflate asked for (a thread where libdeflate cannot load compresses with node:zlib instead). */
  readonly #compressor: Compressor;

  constructor(config: SessionConfig, sink: EventSink, signal: AbortSignal) {
    const o = config.options;
    this.#o = o;
    this.#signal = signal;
    this.#sink = (e) => {
      if (e.type === 'file-start') {
        this.#orderOf.set(e.fileId, e.order);
        this.#fileOf.set(e.order, e.fileId);
      } else if (e.type === 'file-done') {
        const fileId = this.#fileOf.get(e.order);
        this.#fileOf.delete(e.order);
        if (fileId !== undefined) this.#orderOf.delete(fileId);
      }
      sink(e);
    };
    this.#agent = createHttpAgent({ connections: o.uploadThreads + 8, ...config.tls, env: config.env });
    const retry = { ...DEFAULT_RETRY, ...config.retry };
    this.api = new PlatformClient({
      server: config.server,
      token: config.token,
      agent: this.#agent,
      retry,
      onRetry: (route, attempt, delayMs, reason, err) =>
        this.#sink({ type: 'api-retry', route, attempt, delayMs, reason, ...retryDetail(err) }),
      ...(config.apiTimings
        ? {
            onCall: (route: string, status: number | undefined, ms: number, attempt: number) =>
              this.#sink({ type: 'api-call', route, status, ms, attempt }),
          }
        : {}),
    });
    // libdeflate loads in the threads that compress with it (work/gzip.ts); the first part one of
    // them had to compress with node:zlib instead says why, once.
    this.#pool = new PartPool({
      threads: o.compressThreads,
      onLibdeflateError: (reason) =>
        this.#sink({
          type: 'warning',
          message: `libdeflate could not be loaded (${reason}); compressing with node:zlib`,
        }),
    });
    this.#compressor = o.compressor ?? 'libdeflate';
    this.budget = new ByteBudget(config.memoryBudget ?? DEFAULT_MEMORY_BUDGET);
    // Resume state on this machine: direct mode's cloud uploads, and the source MD5 of compressed parts.
    this.#journal = openJournal(defaultStateDir(config.env ?? process.env, o.stateDir));
    if (config.destination) this.#destination = config.destination;
    else {
      this.#bucket = o.throttle ? new TokenBucket(o.throttle) : undefined;
      const platform = new PlatformDestination({
        api: this.api,
        agent: this.#agent,
        partRetry: { ...retry, attempts: o.tries },
        resume: !o.doNotResume,
        throttle: (data, s, part) =>
          throttled(data, this.#bucket, s, config.partProgress ? this.#progressOf(part) : undefined),
        onPartRetry: (fileId, index, attempt, delayMs, reason, err) =>
          this.#sink({
            type: 'part-retry',
            order: this.#orderOf.get(fileId) ?? -1,
            fileId,
            index,
            attempt,
            delayMs,
            reason,
            ...retryDetail(err),
          }),
      });
      this.router = new DestinationRouter({
        options: o,
        api: this.api,
        platform,
        pool: this.#pool,
        minPartSize: MIN_PART_SIZE,
        compressor: this.#compressor,
        journal: this.#journal,
        env: config.env,
        // Direct mode's SDK requests draw on the same bucket (read per part: setThrottle applies).
        throttle: (data, s) => throttled(data, this.#bucket, s),
      });
      this.#destination = this.router;
    }
  }

  /**
   * Uploads `files` as they come; resolves once the input has ended (or the session drains) and
   * every file taken has its result (file-done event, and `onResult`). Several calls may run at
   * once; they share the session's memory budget, workers and connections.
   */
  async upload(
    files: AsyncIterable<ScheduledFile> | Iterable<ScheduledFile>,
    onResult?: (r: FileResult) => void,
  ): Promise<void> {
    if (this.#closed) throw new Error('upload() on a closed session');
    const run = runUploads(files, {
      destination: this.#destination,
      pool: this.#pool,
      budget: this.budget,
      uploadThreads: this.#o.uploadThreads,
      compressLevel: this.#o.compressLevel,
      compressor: this.#compressor,
      minPartSize: MIN_PART_SIZE,
      waitOnClose: this.#o.waitOnClose,
      verify: this.#o.verify,
      events: this.#sink,
      signal: this.#signal,
      records: this.#journal.journal,
      onResult,
      taking: () => this.#taking,
    });
    this.#running.add(run);
    try {
      await run;
    } finally {
      this.#running.delete(run);
    }
  }

  /** Counts one part's bytes as they are handed to the socket, as part-progress events. */
  #progressOf(part: { fileId: string; index: number }): (bytes: number) => void {
    return (sentBytes) => {
      const order = this.#orderOf.get(part.fileId);
      if (order !== undefined) this.#sink({ type: 'part-progress', order, index: part.index, sentBytes });
    };
  }

  /**
   * Bytes per second for every part sent from now on (undefined: unthrottled), e.g. the daemon's
   * --bwlimit timetable. Platform and direct destinations alike.
   */
  setThrottle(rate: number | undefined): void {
    if (rate === undefined) this.#bucket = undefined;
    else if (this.#bucket) this.#bucket.setRate(rate);
    else this.#bucket = new TokenBucket(rate);
  }

  /** Current throttle in bytes per second, undefined when unthrottled. */
  get throttle(): number | undefined {
    return this.#bucket?.rate;
  }

  /** Files that have started and not ended (each holds a small bookkeeping entry until it ends). */
  get filesInFlight(): number {
    return this.#orderOf.size;
  }

  /** Stops taking new files from every input; resolves when the files in flight have their results. */
  async drain(): Promise<void> {
    this.#taking = false;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Drains, then releases the workers, connections, cloud clients and the journal. Idempotent. */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      await this.drain();
      this.router?.close();
      this.#journal.journal?.close();
      await this.#pool.destroy();
      await this.#agent.close();
    })());
  }
}

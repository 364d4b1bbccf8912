/**
 * `ua daemon` as a long-lived object: it owns the state database, the engine session, the watcher
 * and its loop, and is driven in-process by tests; cli/daemon.ts is a thin front on it.
 *
 *   const d = await Daemon.open(config);   // lock the state dir, resolve the project, start
 *   d.status();                            // what `ua daemon status` shows
 *   await d.drain();                       // SIGTERM: finish (or abort and later resume) in-flight files
 *   await d.close();
 *
 * One loop, in named steps, every --scan-interval (sooner when the watcher or an upload result
 * says something moved): discover runs → scan each active run → settle → feed uploads → remove
 * replaced versions → advance runs (complete → sentinel → workflow → hook → webhook) → report
 * stalls → deliver webhooks → bandwidth schedule → heartbeat. The periodic scan is the truth
 * (instrument shares are often network mounts where file events never arrive); chokidar only makes
 * it react sooner.
 */
import { watch, type FSWatcher } from 'chokidar';
import type { Dispatcher } from 'undici';
import { createHttpAgent } from '../transfer/http.js';
import { existsSync } from 'node:fs';
import type { EventSink } from '../accounting/events.js';
import { diagnoseConfigOf, refusalText, resolveAllExplained } from '../diagnose/refusal.js';
import { openSession, type Session, type SessionConfig } from '../engine/session.js';
import { DaemonError } from '../errors.js';
import { UA_VERSION } from '../version.js';
import { isMarkerFile } from './discover/profiles.js';
import { Scanner } from './discover/scanner.js';
import { logEngineEvent, oneLine, type DaemonLog } from './ops/log.js';
import { deliverWebhooks } from './ops/notify.js';
import { readStatus, type DaemonStatus } from './ops/status.js';
import { readRunDetail, type RunDetail } from './web/detail.js';
import { bwRateAt, type DaemonOptions } from './options.js';
import { openQueue, StateDirLock } from './state/db.js';
import { redactUrl } from './state/pg.js';
import { DaemonStore, type FileRow } from './state/store.js';
import { checkExecutable, removeStale } from './steps/platform-steps.js';
import { RunSteps } from './steps/runs.js';
import { TarUnits } from './steps/tar-units.js';
import { FileUnits, UploadFeeder, backoff, type UnitKind } from './steps/uploads.js';
import { TarBatches } from './state/tars.js';

export interface DaemonConfig {
  options: DaemonOptions;
  /** Server, token, TLS and retry timing, as for `ua`; the engine options come from `options`. */
  session: Omit<SessionConfig, 'options'>;
  log: DaemonLog;
  /** Wall clock (tests may pass their own). */
  now?: () => number;
}

export class Daemon {
  readonly #o: DaemonOptions;
  readonly #log: DaemonLog;
  readonly #now: () => number;
  readonly #lock: StateDirLock;
  readonly #store: DaemonStore;
  readonly #session: Session;
  readonly #feeder: UploadFeeder<{ run: number }>;
  readonly #tars: TarBatches;
  readonly #project: string;
  readonly #abort: AbortController;
  readonly #runs: RunSteps;
  readonly #scanner: Scanner;
  readonly #execStates = new Map<string, { at: number; state?: string }>();
  #watcher?: FSWatcher;
  #beat?: NodeJS.Timeout;
  /** Webhook deliveries' own small pool, through a proxy when the environment names one. */
  #hooks?: Dispatcher;
  #beatFailing = false;
  #wake?: () => void;
  #woken = false;
  #stopping = false;
  #loop?: Promise<void>;
  #ticks = 0;
  #closed?: Promise<void>;
  #idle!: () => void;
  /** With --once: resolves after the first tick that finds nothing left to do. */
  readonly idle = new Promise<void>((r) => (this.#idle = r));

  private constructor(
    c: DaemonConfig,
    parts: {
      lock: StateDirLock;
      store: DaemonStore;
      session: Session;
      project: string;
      abort: AbortController;
    },
  ) {
    this.#o = c.options;
    this.#log = c.log;
    this.#now = c.now ?? Date.now;
    this.#lock = parts.lock;
    this.#store = parts.store;
    this.#session = parts.session;
    this.#project = parts.project;
    this.#abort = parts.abort;
    this.#scanner = new Scanner({
      o: this.#o,
      store: this.#store,
      project: this.#project,
      log: this.#log,
      now: this.#now,
    });
    this.#runs = new RunSteps({
      o: this.#o,
      store: this.#store,
      api: this.#session.api,
      project: this.#project,
      log: this.#log,
      now: this.#now,
      signal: this.#abort.signal,
      poke: () => this.#poke(),
      stopping: () => this.#stopping,
    });
    this.#tars = new TarBatches(this.#store);
    const unit = {
      store: this.#store,
      project: this.#project,
      folder: this.#o.folder,
      failAfter: this.#o.failAfter,
      retryBaseMs: this.#o.retryBaseMs,
      now: this.#now,
    };
    const kind: UnitKind<{ run: number }> =
      this.#o.layout === 'tar'
        ? new TarUnits({
            ...unit,
            tars: this.#tars,
            onBatchFailed: (run, name, attempts, error) =>
              this.#runs.fileFailed(run, {
                path: `runs/${name}`,
                attempts,
                last_error: error,
                mtime_ms: 0,
              } as FileRow),
          })
        : new FileUnits({
            ...unit,
            compress: this.#o.compress,
            onFileFailed: (run, row) => this.#runs.fileFailed(run, row),
            isLast: (path) => this.#isLast(path),
          });
    this.#feeder = new UploadFeeder(
      {
        session: this.#session,
        // Enough files in flight that small files keep every upload thread busy (prepare-ahead is 16).
        window:
          this.#o.layout === 'tar'
            ? Math.max(2, this.#o.uploadThreads)
            : Math.max(16, this.#o.uploadThreads * 4),
        now: this.#now,
        signal: this.#abort.signal,
        onWriteFailed: (err) =>
          this.#log.log(
            'warn',
            `cannot record an upload's result: ${err.message}; retrying until the queue answers`,
          ),
        retryBaseMs: this.#o.retryBaseMs,
        onUnreachable: (ms, error) =>
          this.#log.log(
            'warn',
            `the platform cannot be reached from this host (${oneLine(error)}); claiming nothing for ${Math.round(ms / 1000)} s, its files stay due for any host`,
          ),
        onSettled: (run) => {
          void this.#feeder.feed().catch(() => {});
          // A tick rescans every active run: only worth it early when this run may now be complete.
          void this.#store.hasPendingFiles(run).then(
            (pending) => pending || this.#poke(),
            () => {},
          );
        },
      },
      kind,
    );
  }

  #isLast(path: string): boolean {
    return isMarkerFile(path, { completeMarker: this.#o.completeMarker });
  }

  /** Locks the state dir, checks the project (and executable) before anything is uploaded, starts the loop. */
  static async open(c: DaemonConfig): Promise<Daemon> {
    const o = c.options;
    const lock = StateDirLock.acquire(o.stateDir);
    let store: DaemonStore | undefined;
    let session: Session | undefined;
    try {
      store = new DaemonStore(await openQueue(o), { host: o.hostId, leaseMs: o.leaseMs });
      const abort = new AbortController();
      const sink: EventSink = (e) => logEngineEvent(c.log, e);
      session = await openSession(
        {
          ...c.session,
          options: {
            uploadThreads: o.uploadThreads,
            compressThreads: o.compressThreads,
            tries: 3,
            compressLevel: 6,
            throttle: o.throttle,
            waitOnClose: false,
            verify: false,
            doNotResume: false,
            stateDir: o.stateDir,
          },
        },
        sink,
        abort.signal,
      );
      const { resolved, refusals } = await resolveAllExplained(
        session.api,
        [o.project],
        diagnoseConfigOf(c.session.server),
        abort.signal,
      );
      if (refusals.length > 0) throw new DaemonError('UA_ERR_PROJECT', refusalText(refusals));
      const project = resolved.get(o.project)!;
      await session.router!.warm([project], abort.signal);
      if (o.runWorkflow) {
        try {
          await checkExecutable(session.api, o.runWorkflow, abort.signal);
        } catch (err) {
          throw new DaemonError(
            'UA_ERR_DAEMON_CONFIG',
            `--run-workflow ${o.runWorkflow} cannot be used: ${(err as Error).message}. Nothing was uploaded; fix the ID or the token's access.`,
            { cause: err },
          );
        }
      }
      const requeued = (await store.requeueMine()) + (await new TarBatches(store).requeueMine());
      const d = new Daemon(c, { lock, store, session, project: project.id, abort });
      await store.hostStarted(process.pid, UA_VERSION, d.#now());
      await d.#writeMeta();
      c.log.log(
        'info',
        `ua daemon ${UA_VERSION} watching ${o.watch.join(', ')} → ${project.name} (${project.id}):${o.folder}`,
        {
          state_dir: o.stateDir,
          ...(o.queue ? { queue: redactUrl(o.queue), host: o.hostId } : {}),
          resumed_uploads: requeued,
        },
      );
      d.#start();
      return d;
    } catch (err) {
      await session?.close().catch(() => {});
      await store?.q.close().catch(() => {});
      lock.release();
      throw err;
    }
  }

  /** The status as `ua daemon status` shows it. */
  status(): Promise<DaemonStatus> {
    return readStatus(this.#store.q, this.#now());
  }

  /** One run with a page of its files, its events and its throughput (the status page's run view). */
  detail(name: string, q: { page?: number; state?: string } = {}): Promise<RunDetail | undefined> {
    return readRunDetail(this.#store.q, name, q, this.#now());
  }

  /**
   * A launched job's or analysis's state, asked of the platform at most every 15 s per ID (the
   * status page shows it; a slow or failing platform shows no state rather than a slow page).
   */
  async executionState(id: string): Promise<string | undefined> {
    const hit = this.#execStates.get(id);
    if (hit && this.#now() - hit.at < 15_000) return hit.state;
    try {
      const d = await this.#session.api.call<{ state?: string }>(
        `${id}/describe`,
        {},
        {
          attempts: 1,
          signal: AbortSignal.timeout(2000),
        },
      );
      if (this.#execStates.size > 1000) this.#execStates.clear();
      this.#execStates.set(id, { at: this.#now(), state: d.state });
      return d.state;
    } catch {
      return hit?.state;
    }
  }

  get store(): DaemonStore {
    return this.#store;
  }

  /** SIGHUP: new settings for what can change while running (not the project or the state dir). */
  reload(o: Partial<DaemonOptions>): void {
    const keep = {
      project: this.#o.project,
      stateDir: this.#o.stateDir,
      folder: this.#o.folder,
      queue: this.#o.queue,
      hostId: this.#o.hostId,
    };
    Object.assign(this.#o, o, keep);
    this.#scanner.reload();
    void this.#writeMeta().catch(() => {});
    void this.#watcher?.close();
    this.#watch();
    this.#log.log('info', 'configuration reloaded');
    this.#poke();
  }

  /**
   * Stops taking files; in-flight uploads get `timeoutMs` to finish, then are aborted (their parts
   * stay on the platform and the next start resumes them).
   */
  async drain(timeoutMs = this.#o.drainTimeoutMs): Promise<void> {
    this.#stopping = true;
    this.#poke();
    await this.#loop;

    await this.#watcher?.close();
    const ended = this.#feeder.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      ended.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.#log.log(
        'info',
        `stopping: ${this.#feeder.inFlight} uploads in flight are aborted and will resume at the next start`,
      );
      this.#abort.abort();
      await ended.catch(() => {});
    }
    await this.#runs.idle();
  }

  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      await this.drain();
      clearInterval(this.#beat);
      const st = this.#store.q.stats;
      if (st)
        this.#log.log(
          'info',
          `queue: ${st.statements} statements, ${Math.round(st.ms)} ms waiting for them`,
          { queue_statements: st.statements, queue_ms: Math.round(st.ms) },
        );
      await this.#session.close();
      await this.#hooks?.close().catch(() => {});
      await this.#store.hostStopped(this.#now()).catch(() => {});
      await this.#store.q.close();
      this.#lock.release();
    })());
  }

  // ---- the loop ----

  #start(): void {
    this.#watch();
    // Claims live while this host beats, whatever a tick is doing (a scan of a big run can be long).
    this.#beat = setInterval(() => void this.#heartbeat(), Math.max(200, Math.floor(this.#o.leaseMs / 3)));
    this.#beat.unref();
    this.#loop = (async () => {
      while (!this.#stopping) {
        try {
          await this.#tick();
        } catch (err) {
          this.#log.log(
            'error',
            `scan failed: ${(err as Error).message}; trying again in ${this.#o.scanIntervalMs} ms`,
          );
        }
        await this.#sleep(this.#o.scanIntervalMs);
      }
    })();
  }

  #watch(): void {
    const roots = this.#o.watch.filter((r) => existsSync(r));
    if (roots.length === 0) return;
    // depth 1: new run folders and their top-level markers; deeper trees are left to the scan, so
    // the watcher holds a few hundred inotify watches, not one per file of a 100,000-file run.
    this.#watcher = watch(roots, { ignoreInitial: true, depth: 1, ignored: (p) => /\/\./.test(p) });
    this.#watcher.on('all', () => this.#poke());
    this.#watcher.on('error', () => {});
  }

  #poke(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#stopping) {
      this.#woken = false;
      return;
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.#wake = () => {
        clearTimeout(t);
        r();
      };
    });
    this.#wake = undefined;
    this.#woken = false;
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#store.heartbeat(this.#now(), { ...this.#feeder.live(), runs: this.#runs.live() });
      if (this.#beatFailing) this.#log.log('info', 'the queue answers again; claims renewed');
      this.#beatFailing = false;
    } catch (err) {
      if (!this.#beatFailing)
        this.#log.log(
          'warn',
          `heartbeat failed: ${(err as Error).message}; after ${this.#o.leaseMs} ms without one, other hosts may take this host's uploads`,
        );
      this.#beatFailing = true;
    }
  }

  async #tick(): Promise<void> {
    const now = this.#now();
    await this.#heartbeat();
    await this.#scanner.discover(now);
    for (const run of await this.#store.myRuns('active')) {
      if (this.#stopping) return;
      await this.#scanner.scanRun(run);
    }
    await this.#scanner.settle();
    if (this.#o.layout === 'tar')
      for (const run of await this.#store.myRuns('active'))
        await this.#tars.form(
          run,
          { tarSize: this.#o.tarSize, tarWaitMs: this.#o.tarWaitMs, isLast: (p) => this.#isLast(p) },
          this.#now(),
        );
    const expired = await this.#store.expireLeases(this.#now());
    if (expired > 0)
      this.#log.log(
        'warn',
        `${expired} uploads of a host whose lease lapsed are due again (resumed from their parts)`,
      );
    await this.#feeder.feed();
    await this.#removeStale();
    for (const run of [...(await this.#store.myRuns('active')), ...(await this.#store.myRuns('finishing'))])
      await this.#runs.advance(run);
    if (this.#o.webhook)
      await deliverWebhooks(
        this.#store,
        this.#o.webhook,
        this.#now,
        this.#o.retryBaseMs,
        this.#abort.signal,
        (this.#hooks ??= createHttpAgent({ connections: 2 })),
      );
    this.#bandwidth();
    if (++this.#ticks % 100 === 0) await this.#store.prune(this.#now());
    if (
      this.#o.once &&
      this.#feeder.inFlight === 0 &&
      (await this.#store.pendingWork(this.#o.failAfter)) === 0
    )
      this.#idle();
  }

  async #removeStale(): Promise<void> {
    for (const row of await this.#store.claimStale(this.#now(), 32)) {
      try {
        await removeStale(this.#session.api, row, this.#abort.signal);
        await this.#store.staleRemoved(row.id);
        this.#log.log('info', `removed the replaced version of ${row.path}`, {
          file: row.file_id ?? undefined,
        });
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        await this.#store.staleFailed(
          row.id,
          (err as Error).message,
          this.#now() + backoff(this.#o.retryBaseMs, row.attempts + 1),
        );
      }
    }
  }

  #bandwidth(): void {
    const rate = this.#o.bwlimit ? bwRateAt(this.#o.bwlimit, new Date(this.#now())) : this.#o.throttle;
    if (rate === this.#session.throttle) return;
    this.#session.setThrottle(rate);
    this.#log.log('info', rate === undefined ? 'bandwidth: unlimited' : `bandwidth: ${rate} bytes/s`);
  }

  async #writeMeta(): Promise<void> {
    const s = this.#store;
    await s.setMeta('project', this.#project);
    await s.setMeta('stall_after_ms', String(this.#o.stallAfterMs));
    await s.setMeta('fail_after', String(this.#o.failAfter));
    await s.setMeta('scan_interval_ms', String(this.#o.scanIntervalMs));
    await s.setMeta('lease_ms', String(this.#o.leaseMs));
  }
}

/**
 * A run's life after its files: complete on disk → finishing (sentinel → workflow → on-complete
 * hook) → complete (webhook), each step recorded as it succeeds so a restart resumes at the next
 * one; and the loud reports: stalled runs, failing runs and files (log, events, webhook, once each).
 */
import type { PlatformClient } from '../../transfer/platform/api.js';
import { UaError } from '../../errors.js';
import { runIdOf, type RunProfile } from '../discover/profiles.js';
import { oneLine, type DaemonLog } from '../ops/log.js';
import { queueWebhook, runHook } from '../ops/notify.js';
import type { DaemonOptions } from '../options.js';
import type { DaemonStore, FileRow, RunRow } from '../state/store.js';
import { TarBatches } from '../state/tars.js';
import { closeSentinel, launchWorkflow, NotYetClosed, runFolder } from './platform-steps.js';
import { backoff } from './uploads.js';

export interface RunStepsContext {
  /** The daemon's options (live: SIGHUP may change them). */
  o: DaemonOptions;
  store: DaemonStore;
  api: PlatformClient;
  project: string;
  log: DaemonLog;
  now(): number;
  signal: AbortSignal;
  /** Asks the loop for an early tick. */
  poke(): void;
  stopping(): boolean;
}

export class RunSteps {
  readonly #c: RunStepsContext;
  readonly #finishing = new Map<number, Promise<void>>();

  constructor(c: RunStepsContext) {
    this.#c = c;
  }

  /** Runs whose finishing steps run here now (their owner leases are renewed by the heartbeat). */
  live(): number[] {
    return [...this.#finishing.keys()];
  }

  /** Resolves when no finishing step is running. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#finishing.values()]);
  }

  /** Moves a run on: reports a stall, turns complete on disk into finishing, runs the finishing steps. */
  async advance(run: RunRow): Promise<void> {
    const now = this.#c.now();
    const store = this.#c.store;
    if (run.phase === 'active') {
      if (!run.marker && now - run.started_at > this.#c.o.stallAfterMs && !run.stalled_reported)
        await this.#stalled(run);
      if (!this.#completeOnDisk(run, now)) return;
      const c = await store.counts(run.id);
      if (c.settling + c.ready + c.uploading > 0 || c.uploaded === 0 || (await store.staleCount(run.id)) > 0)
        return;
      if (await store.startFinishing(run.id))
        await store.event(run.id, 'info', 'finishing', `all ${c.uploaded} files uploaded`, now);
      run = (await store.run(run.id))!;
    }
    if (
      run.phase !== 'finishing' ||
      run.next_step_at > now ||
      this.#finishing.has(run.id) ||
      this.#c.stopping()
    )
      return;
    // One host runs a run's finishing steps (the others see its owner's lease and wait).
    if (!(await store.ownRunSteps(run.id, now))) return;
    run = (await store.run(run.id))!;
    const id = run.id;
    this.#finishing.set(
      id,
      this.#finish(run).finally(() => this.#finishing.delete(id)),
    );
  }

  #completeOnDisk(run: RunRow, now: number): boolean {
    if (run.marker) return true;
    return (
      run.profile === 'generic' &&
      !this.#c.o.completeMarker &&
      now - run.last_change_at >= this.#c.o.completeAfterMs
    );
  }

  /** The once-only steps of a complete run, each recorded as it succeeds; a failure retries with backoff. */
  async #finish(run: RunRow): Promise<void> {
    const signal = this.#c.signal;
    const ctx = {
      api: this.#c.api,
      store: this.#c.store,
      tars: this.#c.o.layout === 'tar' ? new TarBatches(this.#c.store) : undefined,
      project: this.#c.project,
      folder: this.#c.o.folder,
      signal,
    };
    try {
      if (!run.sentinel_id) {
        const runId = runIdOf(run.dir, run.profile as RunProfile, run.name);
        const id = await closeSentinel(ctx, run, runId);
        await this.#c.store.updateRun(run.id, { sentinel_id: id, run_id: runId });
        run = (await this.#c.store.run(run.id))!;
        this.#c.log.log('info', `run ${run.name}: sentinel ${id} closed`, { run: run.name, sentinel: id });
      }
      if (this.#c.o.runWorkflow && !run.job_id) {
        const job = await launchWorkflow(
          { ...ctx, executable: this.#c.o.runWorkflow },
          run,
          run.sentinel_id!,
        );
        await this.#c.store.updateRun(run.id, { job_id: job });
        run = (await this.#c.store.run(run.id))!;
        this.#c.log.log('info', `run ${run.name}: ${this.#c.o.runWorkflow} launched as ${job}`, {
          run: run.name,
          job,
        });
      }
      if (this.#c.o.onComplete && run.hook_state !== 'done') {
        const attempt = run.hook_state?.startsWith('running')
          ? Number(run.hook_state.split(':')[1] ?? 1) + 1
          : 1;
        await this.#c.store.updateRun(run.id, { hook_state: `running:${attempt}` });
        const code = await runHook(
          this.#c.o.onComplete,
          {
            UA_RUN_DIR: run.dir,
            UA_RUN_NAME: run.name,
            UA_RUN_ID: run.run_id,
            UA_SENTINEL_ID: run.sentinel_id!,
            UA_JOB_ID: run.job_id ?? '',
            UA_ATTEMPT: String(attempt),
          },
          signal,
        );
        if (code !== 0) throw new Error(`--on-complete exited with code ${code}`);
        await this.#c.store.updateRun(run.id, { hook_state: 'done' });
      }
      await this.#completed(run);
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof NotYetClosed) {
        // The platform assembles closing files in a moment: look again soon, not at the next scan.
        const delay = Math.min(250, this.#c.o.scanIntervalMs);
        await this.#c.store.updateRun(run.id, { next_step_at: this.#c.now() + delay }).catch(() => {});
        setTimeout(() => this.#c.poke(), delay).unref();
        return;
      }
      const message = oneLine(err instanceof UaError || err instanceof Error ? err.message : String(err));
      try {
        await this.#c.store.runStepFailed(
          run.id,
          message,
          this.#c.now() + backoff(this.#c.o.retryBaseMs, run.step_attempts + 1),
        );
      } catch {
        return; // the database is away: the step is tried again once it is back
      }
      this.#c.log.log('warn', `run ${run.name}: ${message}; retrying`, {
        run: run.name,
        attempt: run.step_attempts + 1,
      });
      if (run.step_attempts + 1 >= this.#c.o.failAfter && !run.failed_reported)
        await this.#runFailed(run, message).catch(() => {});
    }
  }

  async #completed(run: RunRow): Promise<void> {
    const now = this.#c.now();
    const files = await this.#c.store.uploadedFiles(run.id);
    const bytes = files.reduce((n, f) => n + f.size, 0);
    const seconds = Math.round((now - run.discovered_at) / 1000);
    await this.#c.store.tx(async (store) => {
      await store.updateRun(run.id, { phase: 'complete', completed_at: now, last_error: null, owner: null });
      await store.event(
        run.id,
        'info',
        'complete',
        `complete: ${files.length} files, sentinel ${run.sentinel_id}`,
        now,
      );
      if (this.#c.o.webhook)
        await queueWebhook(
          store,
          `run-complete:${run.dir}:${run.sentinel_id}`,
          {
            event: 'run-complete',
            run: run.name,
            run_id: run.run_id,
            folder: runFolder(this.#c.o.folder, run),
            sentinel: run.sentinel_id,
            job: run.job_id,
            files: files.length,
            bytes,
            seconds,
          },
          now,
        );
    });
    this.#c.log.log(
      'info',
      `run ${run.name} complete: ${files.length} files, ${bytes} bytes in ${seconds} s`,
      {
        run: run.name,
        sentinel: run.sentinel_id,
      },
    );
    this.#c.poke();
  }

  async #stalled(run: RunRow): Promise<void> {
    const now = this.#c.now();
    const hours = ((now - run.started_at) / 3_600_000).toFixed(1);
    const message = `no completion marker after ${hours} h; still uploading what settles`;
    const first = await this.#c.store.tx(async (store) => {
      // Once per run, whichever host sees the stall first.
      if (
        (await store.q.run('UPDATE runs SET stalled_reported = 1 WHERE id = ? AND stalled_reported = 0', [
          run.id,
        ])) === 0
      )
        return false;
      await store.event(run.id, 'warn', 'stalled', message, now);
      if (this.#c.o.webhook)
        await queueWebhook(
          store,
          `run-stalled:${run.dir}`,
          { event: 'run-stalled', run: run.name, message, dir: run.dir },
          now,
        );
      return true;
    });
    if (first) this.#c.log.log('warn', `run ${run.name} stalled: ${message}`, { run: run.name });
  }

  async #runFailed(run: RunRow, message: string): Promise<void> {
    const now = this.#c.now();
    const first = await this.#c.store.tx(async (store) => {
      if (
        (await store.q.run('UPDATE runs SET failed_reported = 1 WHERE id = ? AND failed_reported = 0', [
          run.id,
        ])) === 0
      )
        return false;
      await store.event(run.id, 'error', 'failed', message, now);
      if (this.#c.o.webhook)
        await queueWebhook(
          store,
          `run-failed:${run.dir}`,
          { event: 'run-failed', run: run.name, message },
          now,
        );
      return true;
    });
    if (first)
      this.#c.log.log('error', `run ${run.name} is failing: ${message} (retried with backoff)`, {
        run: run.name,
      });
  }

  /** A file reached --fail-after attempts: reported once (it keeps being retried). */
  async fileFailed(run: RunRow, row: FileRow): Promise<void> {
    const now = this.#c.now();
    const message = `${row.path}: ${row.attempts} ${row.attempts === 1 ? 'attempt' : 'attempts'} failed (${row.last_error}); retried with backoff`;
    await this.#c.store.tx(async (store) => {
      await store.event(run.id, 'error', 'file-failed', message, now);
      if (this.#c.o.webhook)
        await queueWebhook(
          store,
          `file-failed:${run.dir}:${row.path}:${row.mtime_ms}`,
          {
            event: 'file-failed',
            run: run.name,
            path: row.path,
            attempts: row.attempts,
            error: row.last_error,
          },
          now,
        );
    });
    this.#c.log.log('error', `run ${run.name}: ${message}`, { run: run.name });
    if (!run.failed_reported) await this.#runFailed(run, message);
  }
}

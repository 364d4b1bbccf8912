/**
 * The scan, the source of truth: new run folders under the watch roots, every file of each active
 * run observed (new versions recorded, vanished files marked), completion markers looked for, and
 * files unchanged for --settle made due unless a process still holds them open for writing.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import picomatch from 'picomatch';
import type { DaemonLog } from '../ops/log.js';
import type { DaemonOptions } from '../options.js';
import type { DaemonStore, Observed, RunRow } from '../state/store.js';

/** Files per observe() call: one SELECT and one INSERT per batch (SQLite allows 32,766 parameters). */
const OBSERVE_BATCH = 500;
import { completionMarker, runIdOf, runProfileOf, type RunProfile } from './profiles.js';
import { filesOpenForWriting, subfolders, walkRun } from './walk.js';

export interface ScannerContext {
  /** The daemon's options (live: SIGHUP may change them). */
  o: DaemonOptions;
  store: DaemonStore;
  project: string;
  log: DaemonLog;
  now(): number;
}

export class Scanner {
  readonly #c: ScannerContext;
  readonly #known = new Set<string>();
  readonly #warnedRoots = new Set<string>();
  #skip: (rel: string) => boolean;

  constructor(c: ScannerContext) {
    this.#c = c;
    this.#skip = matcher(c.o.exclude);
  }

  /** After a reload: --exclude may have changed. */
  reload(): void {
    this.#skip = matcher(this.#c.o.exclude);
  }

  /** New run folders under the watch roots (each inserted once, whichever host sees it first). */
  async discover(now: number): Promise<void> {
    for (const root of this.#c.o.watch) {
      if (!existsSync(root)) {
        if (!this.#warnedRoots.has(root)) {
          this.#warnedRoots.add(root);
          this.#c.log.log('warn', `watch root ${root} does not exist (yet); it is checked on every scan`);
        }
        continue;
      }
      this.#warnedRoots.delete(root);
      for (const name of subfolders(root)) {
        const dir = resolve(root, name);
        if (this.#known.has(dir)) continue;
        const profile = runProfileOf(dir, this.#c.o.profile);
        if (!profile) continue; // not a run (yet): RunInfo.xml may come a moment later
        const { run, created } = await this.#c.store.upsertRun({
          dir,
          root,
          name,
          profile,
          runId: runIdOf(dir, profile, name),
          startedAt: now,
          now,
        });
        await this.#c.store.seesRun(run.id);
        this.#known.add(dir);
        if (created) this.#c.log.log('info', `run ${name} discovered (${profile})`, { run: name, dir });
      }
    }
  }

  /** One pass over a run folder: every file observed, vanished files marked, the marker looked for. */
  async scanRun(run: RunRow): Promise<void> {
    if (!existsSync(run.dir)) return;
    let seen = 0;
    let oldest = run.started_at;
    let batch: Observed[] = [];
    const flush = async () => {
      await this.#c.store.observe(run, batch, this.#c.project, this.#c.now());
      batch = [];
    };
    for await (const f of walkRun(run.dir, this.#skip)) {
      seen++;
      if (f.st.mtimeMs < oldest) oldest = f.st.mtimeMs;
      batch.push(f);
      if (batch.length >= OBSERVE_BATCH) await flush();
    }
    await flush();
    if (seen !== (await this.#c.store.liveFileCount(run.id)))
      await this.#c.store.markGone(
        run,
        (rel) => existsSync(join(run.dir, rel)),
        this.#c.project,
        this.#c.now(),
      );
    const patch: Partial<RunRow> = {};
    if (oldest < run.started_at) patch.started_at = Math.floor(oldest);
    if (!run.marker) {
      const marker = completionMarker(run.dir, run.profile as RunProfile, {
        completeMarker: this.#c.o.completeMarker,
      });
      if (marker) {
        patch.marker = marker;
        await this.#c.store.event(
          run.id,
          'info',
          'marker',
          `completion marker ${marker} seen`,
          this.#c.now(),
        );
        this.#c.log.log('info', `run ${run.name}: ${marker} seen; completes once every file is uploaded`, {
          run: run.name,
        });
      }
    }
    await this.#c.store.updateRun(run.id, patch);
  }

  /** Files unchanged for --settle become due, unless a process still holds them open for writing. */
  async settle(): Promise<void> {
    const before = this.#c.now() - this.#c.o.settleMs;
    // Only this host's writers can be seen (another host's dev numbers differ: inode alone here).
    let writing: Set<string> | undefined;
    // Pages of 5000 rows: memory bounded whatever the run's size, every settled file seen per tick.
    for (let after = 0; ;) {
      const candidates = await this.#c.store.settlingSince(before, 5000, after);
      if (candidates.length === 0) return;
      after = candidates[candidates.length - 1].id;
      writing ??= new Set([...filesOpenForWriting()].map((k) => k.slice(k.indexOf(':') + 1)));
      const ready: number[] = [];
      for (const f of candidates) {
        if (writing.has(String(f.ino))) await this.#c.store.restartSettle(f.id, this.#c.now());
        else ready.push(f.id);
      }
      await this.#c.store.markReady(ready);
    }
  }
}

function matcher(globs: readonly string[]): (rel: string) => boolean {
  if (globs.length === 0) return () => false;
  const m = picomatch([...globs], { dot: true });
  return (rel) => m(rel) || m(rel.slice(rel.lastIndexOf('/') + 1));
}

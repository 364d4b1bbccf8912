/**
 * --layout tar's upload unit: a batch of a run's files as one `run.<RUNID>.lane.all_NNN.tar` under
 * `<folder>/<run>/runs`, read straight from the member files (no copy on disk; plan/tar-plan.ts),
 * deterministic, so a batch interrupted by a crash (or by its host's death, on another host) resumes
 * by part. The members' versions are the ones the scan settled; each member is checked again when
 * the upload opens the batch and before it closes it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { planTar, type TarBatchMember } from '../../plan/tar-plan.js';
import type { FileResult, ScheduledFile } from '../../transfer/scheduler.js';
import { oneLine } from '../ops/log.js';
import type { DaemonStore, RunRow } from '../state/store.js';
import { tarName, type TarBatches, type TarRow } from '../state/tars.js';
import { runFolder } from './platform-steps.js';
import { backoff, unreachable, type UnitKind } from './uploads.js';

export interface TarUnitOptions {
  store: DaemonStore;
  tars: TarBatches;
  project: string;
  folder: string;
  failAfter: number;
  retryBaseMs: number;
  now(): number;
  /** A batch reached `failAfter` attempts (reported once; it keeps being retried). */
  onBatchFailed(run: RunRow, name: string, attempts: number, error: string): Promise<void>;
}

interface TarUnit {
  run: number;
  tar: TarRow;
  runRow: RunRow;
  /** Member file ids with the version each was batched at, and where it is on this host. */
  members: Array<{ id: number; path: string; abs: string; size: number; mtimeMs: number; ino: number }>;
}

export class TarUnits implements UnitKind<TarUnit> {
  readonly table = 'tars' as const;
  readonly #o: TarUnitOptions;

  constructor(o: TarUnitOptions) {
    this.#o = o;
  }

  id(u: TarUnit): number {
    return u.tar.id;
  }

  async claim(now: number, room: number): Promise<TarUnit[]> {
    const out: TarUnit[] = [];
    for (const tar of await this.#o.tars.claim(now, room)) {
      const runRow = (await this.#o.store.run(tar.run))!;
      const members = (await this.#o.tars.members(tar.id)).map((f) => ({
        id: f.id,
        abs: join(runRow.dir, f.path),
        size: f.size,
        mtimeMs: f.mtime_ms,
        ino: f.ino,
        path: f.path,
      }));
      out.push({ run: tar.run, tar, runRow, members });
    }
    return out;
  }

  async plan(u: TarUnit, order: number): Promise<ScheduledFile | undefined> {
    // This host's device numbers and ctimes (another host's differ) for the identity checks.
    const members: TarBatchMember[] = [];
    const changed: number[] = [];
    for (const m of u.members) {
      try {
        const st = statSync(m.abs);
        if (st.size !== m.size || st.mtimeMs !== m.mtimeMs || st.ino !== m.ino) throw new Error('changed');
        members.push({
          name: `${u.runRow.name}/${m.path}`,
          absPath: m.abs,
          size: m.size,
          mtimeMs: m.mtimeMs,
          dev: st.dev,
          ino: m.ino,
          ctimeMs: st.ctimeMs,
        });
      } catch {
        changed.push(m.id);
      }
    }
    if (changed.length > 0) {
      await this.#o.tars.failed(u.tar.id, u.tar.claim, 'a member changed', changed, () => 0);
      return undefined;
    }
    const sf = planTar(
      members,
      {
        projectId: this.#o.project,
        folder: `${runFolder(this.#o.folder, u.runRow)}/runs`,
        name: tarName(u.runRow.run_id, u.tar.seq),
        properties: { run_id: u.runRow.run_id, run_folder: u.runRow.name },
      },
      { order },
    );
    await this.#o.tars.setSignature(u.tar.id, u.tar.claim, sf.plan.signature!);
    return sf;
  }

  async record(u: TarUnit, r: FileResult, aborted: boolean): Promise<void> {
    const o = this.#o;
    const now = o.now();
    if (r.outcome !== 'failed' && r.fileId) {
      await o.tars.uploaded(u.tar.id, r.fileId, o.project, now);
      return;
    }
    if (aborted || unreachable(r)) return o.tars.requeue(u.tar.id, u.tar.claim);
    const changed = u.members
      .filter((m) => {
        try {
          const st = statSync(m.abs);
          return st.size !== m.size || st.mtimeMs !== m.mtimeMs || st.ino !== m.ino;
        } catch {
          return true;
        }
      })
      .map((m) => m.id);
    const error = oneLine(r.error ?? 'failed');
    const b = await o.tars.failed(
      u.tar.id,
      u.tar.claim,
      error,
      changed,
      (n) => now + backoff(o.retryBaseMs, n),
    );
    if (b && b.attempts >= o.failAfter && !b.failed_reported && b.claim === u.tar.claim) {
      await o.tars.markFailedReported(b.id);
      await o.onBatchFailed(u.runRow, tarName(u.runRow.run_id, b.seq), b.attempts, error);
    }
  }
}

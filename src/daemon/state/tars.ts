/**
 * --layout tar's state: a run's settled files grouped into numbered batches, each one remote
 * `run.<RUNID>.lane.all_NNN.tar` (dx-streaming-upload's names), uploaded straight from the member
 * files (plan/tar-plan.ts). A batch's membership is fixed in the transaction that makes it, so the
 * same batch planned again after a crash, on any host, is the same bytes and resumes by part.
 *
 * Members are `files` rows in state `uploading` with `tar` set; they become `uploaded` (with the
 * batch's file ID) in the transaction that records the batch's object. A member that changes before
 * its batch is uploaded dissolves the batch (dissolveBatch); batches are claimed, leased and
 * fenced like files.
 */
import { marks, type Sql } from './sql.js';
import type { DaemonStore, FileRow, RunRow } from './store.js';
import { skipLocked, type StoreBase } from './store-base.js';

export interface TarRow {
  id: number;
  run: number;
  seq: number;
  state: 'ready' | 'uploading' | 'uploaded';
  size: number;
  files: number;
  attempts: number;
  last_error: string | null;
  failed_reported: number;
  file_id: string | null;
  signature: string | null;
  claimed_by: string | null;
  claim: number;
}

export interface BatchRules {
  /** Cut a batch once this many bytes of settled files are waiting. */
  tarSize: number;
  /** …or once the oldest of them has waited this long (so a slow run still uploads as it goes). */
  tarWaitMs: number;
  /** Completion markers: batched last, alone, once nothing else of the run is pending. */
  isLast(path: string): boolean;
}

/** `run.<RUNID>.lane.all_NNN.tar`, NNN from 000 (dx-streaming-upload's `%03d`). */
export const tarName = (runId: string, seq: number): string =>
  `run.${runId}.lane.all_${String(seq).padStart(3, '0')}.tar`;

/**
 * Batch `b`, not uploaded, is given up because members changed or went away: an object an attempt
 * left open under its signature is stale; the `changed` members settle again, and the rest are
 * ready to be batched anew (a new membership is a new signature). Inside the caller's transaction.
 */
export async function dissolveBatch(
  s: StoreBase,
  t: Sql,
  b: Pick<TarRow, 'id' | 'run' | 'signature'>,
  changed: readonly number[] = [],
): Promise<void> {
  if (b.signature) {
    const project =
      (await t.get<{ value: string }>(`SELECT value FROM meta WHERE key = 'project'`))?.value ?? '';
    await s.addStale(b.run, `batch ${b.id}`, project, null, b.signature, t);
  }
  if (changed.length > 0)
    await t.run(`UPDATE files SET state = 'settling', tar = NULL WHERE id IN (${marks(changed.length)})`, [
      ...changed,
    ]);
  await t.run(`UPDATE files SET state = 'ready', tar = NULL WHERE tar = ? AND state = 'uploading'`, [b.id]);
  await t.run('DELETE FROM tars WHERE id = ?', [b.id]);
}

/**
 * At most this many members per batch: a batch's plan holds a 512-byte header and a row per member,
 * so 10,000 members are ~10 MB while in flight, however many files the run has (100,000 small files
 * become ten batches, not one of 100 MB in memory).
 */
export const MAX_TAR_MEMBERS = 10_000;
/** Settled files looked at per pass: memory bounded by this, not by the run's file count. */
const FORM_WINDOW = 2 * MAX_TAR_MEMBERS;

export class TarBatches {
  constructor(readonly store: DaemonStore) {}

  /**
   * Makes the run's next batches from its settled files not in one, as the rules say; returns how
   * many. One host at a time per run (the run row is locked for the transaction on PostgreSQL;
   * SQLite runs one transaction at a time).
   */
  form(run: RunRow, rules: BatchRules, now: number): Promise<number> {
    return this.store.q.tx(async (t) => {
      if (t.dialect === 'postgres') await t.get('SELECT id FROM runs WHERE id = ? FOR UPDATE', [run.id]);
      const ready = await t.all<FileRow>(
        `SELECT * FROM files WHERE run = ? AND state = 'ready' AND tar IS NULL ORDER BY path LIMIT ?`,
        [run.id, FORM_WINDOW],
      );
      if (ready.length === 0) return 0;
      // More are waiting beyond this window: a short remainder waits for the next pass.
      const truncated = ready.length === FORM_WINDOW;
      const pending = (await t.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM files WHERE run = ? AND (state = 'settling' OR (state = 'uploading' AND tar IS NOT NULL))`,
        [run.id],
      ))!.n;
      const data = ready.filter((f) => !rules.isLast(f.path));
      const markers = ready.filter((f) => rules.isLast(f.path));
      const total = data.reduce((a, f) => a + f.size, 0);
      const oldest = Math.min(...data.map((f) => f.seen_at));
      const finalPass = run.marker !== null && pending === 0;
      const groups: FileRow[][] = [];
      if (data.length > 0 && (total >= rules.tarSize || now - oldest >= rules.tarWaitMs || finalPass)) {
        let group: FileRow[] = [];
        let size = 0;
        for (const f of data) {
          group.push(f);
          size += f.size;
          if (size >= rules.tarSize || group.length >= MAX_TAR_MEMBERS) {
            groups.push(group);
            group = [];
            size = 0;
          }
        }
        // A remainder short of tarSize waits for more files, unless time or the run's end says go.
        if (
          group.length > 0 &&
          !truncated &&
          (groups.length === 0 || finalPass || now - oldest >= rules.tarWaitMs)
        )
          groups.push(group);
      }
      // The markers last: in a batch of their own once every other file of the run is uploaded.
      if (markers.length > 0 && data.length === 0 && pending === 0) groups.push(markers);
      const used = new Set(
        (await t.all<{ seq: number }>('SELECT seq FROM tars WHERE run = ?', [run.id])).map((r) => r.seq),
      );
      let seq = 0;
      for (const g of groups) {
        while (used.has(seq)) seq++;
        used.add(seq);
        const made = await t.get<{ id: number }>(
          `INSERT INTO tars (run, seq, state, size, files, created_at) VALUES (?, ?, 'ready', ?, ?, ?) RETURNING id`,
          [run.id, seq, g.reduce((a, f) => a + f.size, 0), g.length, now],
        );
        for (let i = 0; i < g.length; i += 500) {
          const ids = g.slice(i, i + 500).map((f) => f.id);
          await t.run(
            `UPDATE files SET state = 'uploading', tar = ? WHERE id IN (${marks(ids.length)}) AND state = 'ready'`,
            [made!.id, ...ids],
          );
        }
      }
      return groups.length;
    });
  }

  /** Batches due now of runs this host sees, each won by one host, like files. */
  async claim(now: number, limit: number): Promise<TarRow[]> {
    if (limit <= 0) return [];
    const s = this.store;
    return s.q.tx(async (t) => {
      const ids = await t.all<{ id: number }>(
        `SELECT b.id FROM tars b JOIN runs r ON r.id = b.run JOIN run_hosts h ON h.run = b.run AND h.host = ?
          WHERE b.state = 'ready' AND b.next_try_at <= ? AND r.phase = 'active'
          ORDER BY b.next_try_at, b.run, b.seq LIMIT ?${skipLocked(t, 'b')}`,
        [s.host, now, limit],
      );
      if (ids.length === 0) return [];
      return t.all<TarRow>(
        `UPDATE tars SET state = 'uploading', claimed_by = ?, claim = claim + 1, lease_until = ?
          WHERE id IN (${marks(ids.length)}) AND state = 'ready' RETURNING *`,
        [s.host, now + s.leaseMs, ...ids.map((r) => r.id)],
      );
    });
  }

  /** The batch's members in archive order (path order, as they were batched). */
  members(tar: number): Promise<FileRow[]> {
    return this.store.q.all<FileRow>(`SELECT * FROM files WHERE tar = ? ORDER BY path`, [tar]);
  }

  async setSignature(id: number, claim: number, signature: string): Promise<void> {
    await this.store.q.run('UPDATE tars SET signature = ? WHERE id = ? AND claim = ?', [
      signature,
      id,
      claim,
    ]);
  }

  /**
   * Batch `id` closed as `fileId`: it and its members are uploaded, in one transaction. A batch
   * dissolved meanwhile (a member changed) or already recorded with another object makes this one
   * stale. Returns whether it was recorded.
   */
  async uploaded(id: number, fileId: string, project: string, now: number): Promise<boolean> {
    const s = this.store;
    let counted: TarRow | undefined;
    const mine = await s.q.tx(async (t) => {
      const b = await t.get<TarRow>('SELECT * FROM tars WHERE id = ?', [id]);
      if (b?.state === 'uploaded' && b.file_id === fileId) return true;
      if (!b || b.state === 'uploaded') {
        await s.addStale(b?.run ?? 0, `batch ${id}`, project, fileId, null, t);
        return false;
      }
      await t.run(
        `UPDATE tars SET state = 'uploaded', file_id = ?, uploaded_at = ?, last_error = NULL, claimed_by = ? WHERE id = ?`,
        [fileId, now, s.host, id],
      );
      await t.run(
        `UPDATE files SET state = 'uploaded', file_id = ?, uploaded_size = size, uploaded_mtime_ms = mtime_ms,
           uploaded_at = ?, last_error = NULL, claimed_by = ? WHERE tar = ? AND state = 'uploading'`,
        [fileId, now, s.host, id],
      );
      counted = b;
      return true;
    });
    if (counted) s.countThroughput(counted.run, counted.size, counted.files, now);
    return mine;
  }

  /**
   * Claim `claim` of the batch failed: due again at `nextTryAt(attempts)` for any host. A member that
   * changed under it was already taken out by the scan (the batch dissolved), or is now: `changed`
   * lists such members' ids. Returns the batch as it is now (undefined: dissolved).
   */
  failed(
    id: number,
    claim: number,
    error: string,
    changed: readonly number[],
    nextTryAt: (attempts: number) => number,
  ): Promise<TarRow | undefined> {
    const s = this.store;
    return s.q.tx(async (t) => {
      const b = await t.get<TarRow>('SELECT * FROM tars WHERE id = ?', [id]);
      if (!b || b.state !== 'uploading' || b.claim !== claim || b.claimed_by !== s.host) return b;
      if (changed.length > 0) {
        await dissolveBatch(s, t, b, changed);
        return undefined;
      }
      const attempts = b.attempts + 1;
      await t.run(
        `UPDATE tars SET state = 'ready', claimed_by = NULL, attempts = ?, next_try_at = ?, last_error = ? WHERE id = ?`,
        [attempts, nextTryAt(attempts), error, id],
      );
      return t.get<TarRow>('SELECT * FROM tars WHERE id = ?', [id]);
    });
  }

  async requeue(id: number, claim: number): Promise<void> {
    await this.store.q.run(
      `UPDATE tars SET state = 'ready', claimed_by = NULL WHERE id = ? AND state = 'uploading' AND claim = ?`,
      [id, claim],
    );
  }

  async markFailedReported(id: number): Promise<void> {
    await this.store.q.run('UPDATE tars SET failed_reported = 1 WHERE id = ?', [id]);
  }

  requeueMine(): Promise<number> {
    return this.store.q.run(
      `UPDATE tars SET state = 'ready', claimed_by = NULL WHERE state = 'uploading' AND claimed_by = ?`,
      [this.store.host],
    );
  }

  /** The run's uploaded batches in order (the sentinel's `tar_file_ids`). */
  uploadedOf(run: number): Promise<Array<{ seq: number; file_id: string; size: number; files: number }>> {
    return this.store.q.all(
      `SELECT seq, file_id, size, files FROM tars WHERE run = ? AND state = 'uploaded' ORDER BY seq`,
      [run],
    );
  }
}

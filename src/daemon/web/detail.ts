/**
 * One run in detail for /runs/<name> and /api/runs/<name>: its status row, a page of its files,
 * its recent events and its throughput over the last 24 h (15-minute bins). Paginated so a run of
 * 100,000 files costs one indexed page query, not a table scan into memory.
 */
import type { Sql } from '../state/sql.js';
import type { FileState, RunRow } from '../state/store.js';
import { readStatus, type RunStatus } from '../ops/status.js';

export const PAGE_SIZE = 100;

export interface FileLine {
  path: string;
  state: FileState;
  size: number;
  attempts: number;
  error: string | null;
  file_id: string | null;
}

export interface RunDetail {
  run: RunStatus;
  /** The launched job's or analysis's state as the platform says (null: none, or not known now). */
  job_state: string | null;
  files: { page: number; pages: number; total: number; state: string | null; items: FileLine[] };
  events: Array<{ at: string; level: string; kind: string; message: string }>;
  /** Bytes uploaded per 15 minutes, oldest first, ending now (96 bins). */
  throughput: { binMinutes: number; bytes: number[]; endsAt: string };
}

const STATES = new Set(['settling', 'ready', 'uploading', 'uploaded', 'gone']);

export async function readRunDetail(
  db: Sql,
  name: string,
  q: { page?: number; state?: string },
  now = Date.now(),
): Promise<RunDetail | undefined> {
  const row = await db.get<RunRow>('SELECT * FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1', [name]);
  if (!row) return undefined;
  const run = (await readStatus(db, now)).runs.find((r) => r.dir === row.dir)!;
  const state = q.state && STATES.has(q.state) ? q.state : null;
  const where = state ? 'run = ? AND state = ?' : `run = ? AND state != 'gone'`;
  const args = state ? [row.id, state] : [row.id];
  const total = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM files WHERE ${where}`, args))!.n;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const page = Math.min(Math.max(1, Math.floor(q.page ?? 1)), pages);
  // Failing files first (what needs a person), then by path.
  const items = await db.all<FileLine>(
    `SELECT path, state, size, attempts, last_error AS error, file_id FROM files WHERE ${where}
     ORDER BY CASE WHEN state != 'uploaded' AND attempts > 0 THEN 0 ELSE 1 END, path LIMIT ? OFFSET ?`,
    [...args, PAGE_SIZE, (page - 1) * PAGE_SIZE],
  );
  const events = (
    await db.all<{ at: number; level: string; kind: string; message: string }>(
      'SELECT at, level, kind, message FROM events WHERE run = ? ORDER BY id DESC LIMIT 50',
      [row.id],
    )
  ).map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
  const BIN = 15;
  const endMinute = Math.floor(now / 60_000);
  const bins = new Array<number>(96).fill(0);
  const rows = await db.all<{ minute: number; bytes: number }>(
    'SELECT minute, bytes FROM throughput WHERE run = ? AND minute > ?',
    [row.id, endMinute - 96 * BIN],
  );
  for (const r of rows) {
    const i = 95 - Math.floor((endMinute - r.minute) / BIN);
    if (i >= 0 && i < 96) bins[i] += r.bytes;
  }
  return {
    run,
    job_state: null,
    files: { page, pages, total, state, items },
    events,
    throughput: { binMinutes: BIN, bytes: bins, endsAt: new Date(now).toISOString() },
  };
}

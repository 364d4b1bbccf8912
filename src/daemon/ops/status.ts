/**
 * What `ua daemon status`, /api/status and the metrics show: every run's state, files done/total,
 * bytes, rate, ETA and last error, computed from the database alone, so a status command run beside
 * the daemon (or after it died) tells the same as the daemon itself.
 */
import type { Db } from '../state/db.js';
import type { RunRow } from '../state/store.js';

export type RunState = 'waiting' | 'uploading' | 'complete' | 'stalled' | 'failed';

export interface RunStatus {
  name: string;
  dir: string;
  run_id: string;
  profile: string;
  state: RunState;
  files: { done: number; total: number; failing: number };
  bytes: { done: number; total: number };
  /** Bytes per second over the last 5 minutes (or the run's life if shorter); a complete run's average. */
  rate: number;
  eta_seconds: number | null;
  age_seconds: number;
  marker: string | null;
  sentinel: string | null;
  job: string | null;
  last_error: string | null;
  discovered_at: string;
  completed_at: string | null;
}

export interface DaemonStatus {
  daemon: {
    running: boolean;
    pid: number | null;
    heartbeat_at: string | null;
    project: string | null;
    version: string | null;
  };
  runs: RunStatus[];
}

interface Limits {
  stallAfterMs: number;
  failAfter: number;
}

function meta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
    ?.value;
}

export function readStatus(db: Db, now = Date.now()): DaemonStatus {
  const limits: Limits = {
    stallAfterMs: Number(meta(db, 'stall_after_ms') ?? 86_400_000),
    failAfter: Number(meta(db, 'fail_after') ?? 5),
  };
  const beat = Number(meta(db, 'heartbeat_at') ?? 0);
  const interval = Number(meta(db, 'scan_interval_ms') ?? 10_000);
  const runs = (db.prepare('SELECT * FROM runs ORDER BY discovered_at DESC, id DESC').all() as RunRow[]).map(
    (r) => runStatus(db, r, limits, now),
  );
  // Stalled and failed first (what needs a person), then newest first.
  const rank: Record<RunState, number> = { failed: 0, stalled: 1, uploading: 2, waiting: 3, complete: 4 };
  runs.sort((a, b) => rank[a.state] - rank[b.state]);
  return {
    daemon: {
      running: beat > 0 && now - beat < Math.max(30_000, 3 * interval),
      pid: meta(db, 'pid') ? Number(meta(db, 'pid')) : null,
      heartbeat_at: beat ? new Date(beat).toISOString() : null,
      project: meta(db, 'project') ?? null,
      version: meta(db, 'version') ?? null,
    },
    runs,
  };
}

function runStatus(db: Db, r: RunRow, l: Limits, now: number): RunStatus {
  const agg = db
    .prepare(
      `SELECT COUNT(*) AS total,
         SUM(state = 'uploaded') AS done,
         SUM(CASE WHEN state = 'uploaded' THEN size ELSE 0 END) AS done_bytes,
         SUM(size) AS bytes,
         SUM(state != 'uploaded' AND attempts >= ?) AS failing,
         MAX(CASE WHEN state != 'uploaded' THEN last_error END) AS file_error
       FROM files WHERE run = ? AND state != 'gone'`,
    )
    .get(l.failAfter, r.id) as {
    total: number;
    done: number | null;
    done_bytes: number | null;
    bytes: number | null;
    failing: number | null;
    file_error: string | null;
  };
  const recent = db
    .prepare('SELECT SUM(bytes) AS b FROM throughput WHERE run = ? AND minute >= ?')
    .get(r.id, Math.floor(now / 60_000) - 4) as { b: number | null };
  // Over the last 5 minutes, or the run's life if shorter; a complete run shows its average.
  const window = Math.max(1, Math.min(300, (now - r.discovered_at) / 1000));
  const rate =
    r.phase === 'complete' && r.completed_at
      ? (agg.done_bytes ?? 0) / Math.max(1, (r.completed_at - r.discovered_at) / 1000)
      : (recent.b ?? 0) / window;
  const remaining = (agg.bytes ?? 0) - (agg.done_bytes ?? 0);
  let state: RunState;
  if (r.phase === 'complete') state = 'complete';
  else if ((agg.failing ?? 0) > 0 || r.step_attempts >= l.failAfter) state = 'failed';
  else if (!r.marker && now - r.started_at > l.stallAfterMs) state = 'stalled';
  else if ((agg.done ?? 0) > 0 || r.phase === 'finishing') state = 'uploading';
  else state = 'waiting';
  return {
    name: r.name,
    dir: r.dir,
    run_id: r.run_id,
    profile: r.profile,
    state,
    files: { done: agg.done ?? 0, total: agg.total, failing: agg.failing ?? 0 },
    bytes: { done: agg.done_bytes ?? 0, total: agg.bytes ?? 0 },
    rate: Math.round(rate),
    eta_seconds: state === 'complete' ? 0 : rate > 0 ? Math.round(remaining / rate) : null,
    age_seconds: Math.round((now - r.started_at) / 1000),
    marker: r.marker,
    sentinel: r.sentinel_id,
    job: r.job_id,
    last_error: r.last_error ?? agg.file_error,
    discovered_at: new Date(r.discovered_at).toISOString(),
    completed_at: r.completed_at ? new Date(r.completed_at).toISOString() : null,
  };
}

/**
 * What `ua daemon status`, /api/status and the metrics show: every run's state, files done/total,
 * bytes, rate, ETA and last error, computed from the database alone, so a status command run beside
 * the daemon (or after it died) tells the same as the daemon itself.
 */
import type { Sql } from '../state/sql.js';
import type { HostRow, RunRow } from '../state/store.js';

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

export interface HostStatus {
  id: string;
  /** running: heartbeat recent; stopped: it said so; lost: no heartbeat for a lease (killed, or cut off from the queue). */
  state: 'running' | 'stopped' | 'lost';
  uploaded: number;
  bytes: number;
  last_seen: string;
  pid: number | null;
  version: string | null;
}

export interface DaemonStatus {
  /** The most recently seen host (the only one without --queue). */
  daemon: {
    running: boolean;
    pid: number | null;
    heartbeat_at: string | null;
    project: string | null;
    version: string | null;
  };
  runs: RunStatus[];
  hosts: HostStatus[];
}

interface Limits {
  stallAfterMs: number;
  failAfter: number;
}

async function meta(q: Sql, key: string): Promise<string | undefined> {
  return (await q.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value;
}

function hostStatus(h: HostRow, staleMs: number, now: number): HostStatus {
  const state = h.state === 'stopped' ? 'stopped' : now - h.last_seen < staleMs ? 'running' : 'lost';
  return {
    id: h.id,
    state,
    uploaded: h.uploaded,
    bytes: h.bytes,
    last_seen: new Date(h.last_seen).toISOString(),
    pid: h.pid,
    version: h.version,
  };
}

export async function readStatus(q: Sql, now = Date.now()): Promise<DaemonStatus> {
  const limits: Limits = {
    stallAfterMs: Number((await meta(q, 'stall_after_ms')) ?? 86_400_000),
    failAfter: Number((await meta(q, 'fail_after')) ?? 5),
  };
  const interval = Number((await meta(q, 'scan_interval_ms')) ?? 10_000);
  const lease = Number((await meta(q, 'lease_ms')) ?? 60_000);
  const staleMs = Math.max(3 * interval, lease);
  const hostRows = await q.all<HostRow>('SELECT * FROM hosts ORDER BY last_seen DESC, id');
  // What each host uploaded: the files whose current object it made (counted from the files, not
  // kept in the host row, which every result would otherwise have to lock).
  const by = new Map(
    (
      await q.all<{ id: string; n: number; b: number }>(
        `SELECT claimed_by AS id, COUNT(*) AS n, SUM(size) AS b FROM files WHERE state = 'uploaded' GROUP BY claimed_by`,
      )
    ).map((r) => [r.id, r]),
  );
  for (const h of hostRows) {
    h.uploaded = by.get(h.id)?.n ?? 0;
    h.bytes = by.get(h.id)?.b ?? 0;
  }
  const hosts = hostRows.map((h) => hostStatus(h, staleMs, now));
  const runs: RunStatus[] = [];
  for (const r of await q.all<RunRow>('SELECT * FROM runs ORDER BY discovered_at DESC, id DESC'))
    runs.push(await runStatus(q, r, limits, now));
  // Stalled and failed first (what needs a person), then newest first.
  const rank: Record<RunState, number> = { failed: 0, stalled: 1, uploading: 2, waiting: 3, complete: 4 };
  runs.sort((a, b) => rank[a.state] - rank[b.state]);
  const last = hostRows[0];
  return {
    daemon: {
      running: hosts.some((h) => h.state === 'running'),
      pid: last?.pid ?? null,
      heartbeat_at: last && last.state !== 'stopped' ? new Date(last.last_seen).toISOString() : null,
      project: (await meta(q, 'project')) ?? null,
      version: last?.version ?? null,
    },
    runs,
    hosts: hosts.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

async function runStatus(q: Sql, r: RunRow, l: Limits, now: number): Promise<RunStatus> {
  const agg = (await q.get<{
    total: number;
    done: number | null;
    done_bytes: number | null;
    bytes: number | null;
    failing: number | null;
    file_error: string | null;
  }>(
    `SELECT COUNT(*) AS total,
       SUM(CASE WHEN state = 'uploaded' THEN 1 ELSE 0 END) AS done,
       SUM(CASE WHEN state = 'uploaded' THEN size ELSE 0 END) AS done_bytes,
       SUM(size) AS bytes,
       SUM(CASE WHEN state != 'uploaded' AND attempts >= ? THEN 1 ELSE 0 END) AS failing,
       MAX(CASE WHEN state != 'uploaded' THEN last_error END) AS file_error
     FROM files WHERE run = ? AND state != 'gone'`,
    [l.failAfter, r.id],
  ))!;
  const recent = (await q.get<{ b: number | null }>(
    'SELECT SUM(bytes) AS b FROM throughput WHERE run = ? AND minute >= ?',
    [r.id, Math.floor(now / 60_000) - 4],
  ))!;
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

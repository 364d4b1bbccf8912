/**
 * The daemon's settings, as the command line and the config file give them (cli/daemon-args.ts
 * parses both), and the small grammars they use: durations (`30s`, `10m`, `24h`, `2d`) and the
 * `--bwlimit` timetable (`"08:00,50M 19:00,off"`, rclone's form).
 */
import { DaemonError } from '../errors.js';
import { parseSize } from '../config/options.js';
import type { ProfileName } from './discover/profiles.js';

export interface DaemonOptions {
  watch: string[];
  /** Project name or ID, resolved once at start. */
  project: string;
  /** Remote folder the runs go under. */
  folder: string;
  stateDir: string;
  /** Fleet mode: `postgres://…`, the queue and all run/file state shared by every host. */
  queue?: string;
  /** This daemon's name in the queue (the host name by default; unique per host in a fleet). */
  hostId: string;
  /** A claim's life without a heartbeat: after it another host takes over the work. */
  leaseMs: number;
  settleMs: number;
  scanIntervalMs: number;
  stallAfterMs: number;
  profile: ProfileName;
  /** generic profile: a file whose presence completes the run. */
  completeMarker?: string;
  /** generic profile without a marker: complete after this long without a change. */
  completeAfterMs: number;
  webhook?: string;
  onComplete?: string;
  runWorkflow?: string;
  /** Bytes per second, always (undefined: unthrottled); --bwlimit overrides it by time of day. */
  throttle?: number;
  bwlimit?: BwSlot[];
  /** `--http HOST:PORT` (alias --metrics): status page, API, metrics, health. */
  metrics?: string;
  /** Needed when --http is not loopback. */
  httpToken?: string;
  layout: 'files' | 'tar';
  /** --layout tar: cut a batch once this many bytes of settled files wait. */
  tarSize: number;
  /** --layout tar: …or once the oldest of them has waited this long. */
  tarWaitMs: number;
  exclude: string[];
  /** Upload attempts of a file before it is reported failed (it is still retried, with backoff). */
  failAfter: number;
  /** First retry delay of a failed file or step; doubles up to 1 h. */
  retryBaseMs: number;
  uploadThreads: number;
  compressThreads: number;
  /** gzip files on the way (off by default: run folders keep their names and CBCLs are compressed). */
  compress: boolean;
  /**
   * Exit once nothing is left to do (nothing settling, due or in flight, no run finishing, no
   * webhook waiting): cron's mode, and the benchmark's. Runs without a marker resume next time.
   */
  once?: boolean;
  /** SIGTERM: how long in-flight files may take to finish before they are aborted (resumed later). */
  drainTimeoutMs: number;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `10m`, `24h`, `2d`, `500ms` → milliseconds. */
export function parseDuration(s: string | number, flag: string): number {
  if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return s * 1000;
  const m = DURATION.exec(String(s).trim());
  if (!m)
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `--${flag} ${JSON.stringify(s)} is not a duration: use a number with s, m, h or d (e.g. 30s, 10m, 24h, 2d)`,
    );
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** From `at` (minutes after local midnight) on, `rate` bytes per second (undefined: unlimited). */
export interface BwSlot {
  at: number;
  rate?: number;
}

/** `"08:00,50M 19:00,off"` → slots sorted by time; each holds until the next (wrapping at midnight). */
export function parseBwlimit(s: string): BwSlot[] {
  const slots: BwSlot[] = [];
  for (const item of s.trim().split(/\s+/)) {
    const m = /^(\d{1,2}):(\d{2}),(.+)$/.exec(item);
    const bad = () =>
      new DaemonError(
        'UA_ERR_DAEMON_CONFIG',
        `--bwlimit item ${JSON.stringify(item)} is not HH:MM,RATE: write e.g. "08:00,50M 19:00,off" (RATE is bytes/s with K, M, G, or off)`,
      );
    if (!m) throw bad();
    const [h, min] = [Number(m[1]), Number(m[2])];
    if (h > 23 || min > 59) throw bad();
    let rate: number | undefined;
    if (m[3] !== 'off') {
      try {
        rate = parseSize(m[3]);
      } catch {
        throw bad();
      }
      if (!(rate > 0)) throw bad();
    }
    slots.push({ at: h * 60 + min, rate });
  }
  return slots.sort((a, b) => a.at - b.at);
}

/** The rate in force at `date` (local time), undefined when unlimited. */
export function bwRateAt(slots: readonly BwSlot[], date: Date): number | undefined {
  if (slots.length === 0) return undefined;
  const minute = date.getHours() * 60 + date.getMinutes();
  let current = slots[slots.length - 1]; // before the first slot: the last one, from yesterday
  for (const s of slots) if (s.at <= minute) current = s;
  return current.rate;
}

/** `host:port` (IPv6 as `[::1]:9464`) → its parts; the default host is loopback. */
export function parseListen(s: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port < 65536))
    throw new DaemonError(
      'UA_ERR_DAEMON_CONFIG',
      `--${flag} ${JSON.stringify(s)} is not HOST:PORT (e.g. 127.0.0.1:9464)`,
    );
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

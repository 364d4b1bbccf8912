/**
 * Human units. Everything is binary (1 MiB = 2^20 bytes), like the classic agent, and labelled as such
 * (KiB, MiB, GiB, MiB/s). The one exception is the classic-compatible plain progress line, which keeps
 * the classic literal "MB/sec" for log parsers; its numbers are 2^20-based too.
 */
import type { PartUnverifiedEvent, SummaryEvent } from './events.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 0 B, 999 B, 1.50 KiB, 12.3 MiB, 118 GiB: three significant digits. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(Number.isFinite(n) ? n : 0))} B`;
  let u = 0;
  let v = n;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  // 1023.9 KiB rounds to "1024 KiB": acceptable, and clearer than a unit jump mid-number.
  return `${v.toFixed(digits)} ${UNITS[u]}`;
}

/** MiB per second with one decimal: `118.9 MiB/s`. */
export function formatRate(bytesPerSec: number): string {
  return `${(Math.max(0, bytesPerSec) / 2 ** 20).toFixed(1)} MiB/s`;
}

/** Elapsed time: `850ms`, `12.3s`, `1m23s`, `2h05m07s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${pad2(m)}m${pad2(s)}s` : `${m}m${pad2(s)}s`;
}

/** Time to go: `0:07`, `12:34`, `1:02:03`; `--:--` when unknown. */
export function formatEta(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '--:--';
  const total = Math.ceil(Math.max(0, sec));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The final summary for stderr, e.g.
 * `Uploaded 12 files (3 resumed, 1 already complete), 1 failed; 9.87 GiB in 1m23s, 118.9 MiB/s`.
 * Bytes are the raw bytes sent in this run; when compression changed the size, the bytes on the wire
 * follow in parentheses. The rate is sent bytes per second (the classic "average").
 */
export function formatSummary(s: SummaryEvent): string {
  const details: string[] = [];
  if (s.resumed > 0) details.push(`${s.resumed} resumed`);
  if (s.skipped > 0) details.push(`${s.skipped} already complete`);
  let line = `Uploaded ${plural(s.ok, 'file')}`;
  if (details.length > 0) line += ` (${details.join(', ')})`;
  if (s.failed > 0) line += `, ${s.failed} failed`;
  let bytes = formatBytes(s.rawBytes);
  if (s.sentBytes !== s.rawBytes) bytes += ` (${formatBytes(s.sentBytes)} sent)`;
  line += `; ${bytes} in ${formatDuration(s.elapsedMs)}, ${s.mbPerSec.toFixed(1)} MiB/s`;
  if (s.retries > 0) line += `; ${plural(s.retries, 'retry').replace(/retrys$/, 'retries')}`;
  return line;
}

/** The line every renderer shows for a part-unverified event (a warning: the part is sent again). */
export function unverifiedText(e: PartUnverifiedEvent): string {
  const how = e.compressed ? ' as this run or the classic agent compresses it' : '';
  return `part ${e.index} of "${e.localPath}" on the destination is not this file's content${how} (${e.size} bytes, md5 ${e.md5}); sending it again`;
}

/**
 * Local time in ISO 8601 with its UTC offset, to the second: `2026-12-02T07:08:09+01:00` (the
 * timestamps of plain progress lines and of the log file: unambiguous in a log read in another zone).
 * `millis` adds `.123` for the log file, where events come closer than a second.
 */
export function isoLocal(ms: number, millis = false): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const frac = millis ? `.${String(d.getMilliseconds()).padStart(3, '0')}` : '';
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}` +
    `T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${frac}` +
    `${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`
  );
}

/**
 * Transfer statistics: counters and rates built from engine events. No I/O and no timers; the time of
 * each event is read from the injected clock when it is recorded, and rates are asked for at a time.
 *
 * Three byte counts are kept apart:
 * - raw done: file bytes of finished parts (plus parts an earlier run finished), the classic "percent";
 * - sent: bytes of finished parts as sent (after compression), the summary's throughput;
 * - wire: every byte handed to a socket, including part-progress of unfinished or retried parts, which
 *   drives the average and instantaneous rates (the classic agent counts curl's progress the same way).
 */
import type { EventSink, FileOutcome, SummaryEvent, UaEvent } from './events.js';
import { type Clock, RateWindow, systemClock } from './rate-window.js';

export const MIB = 1024 * 1024;

export interface FileProgress {
  readonly order: number;
  readonly localPath: string;
  remoteName?: string;
  fileId: string | null;
  size: number;
  /** Raw bytes finished by an earlier run. */
  resumedBytes: number;
  /** Raw bytes of finished parts, including `resumedBytes`. */
  doneBytes: number;
  /** Sent bytes of parts still in flight (from part-progress), by part index. */
  readonly inFlight: Map<number, number>;
  partsDone: number;
  /** Undefined while the file is active. */
  outcome?: FileOutcome;
  error?: string;
  startedMs: number;
  endedMs?: number;
  /** Raw progress of this run (done parts + in-flight bytes) over time: the per-file rate and ETA. */
  readonly window: RateWindow;
  /** This run's progress counter fed to `window`. */
  progressed: number;
}

export interface OverallProgress {
  files: number;
  filesDone: number;
  /** Of filesDone, the failed ones. */
  filesFailed: number;
  filesActive: number;
  totalBytes: number;
  /** Raw bytes done (resumed, already closed and finished parts) plus in-flight bytes. */
  doneBytes: number;
  /** doneBytes / (totalBytes − bytes of failed files left unsent); 1 when there is nothing to send. */
  fraction: number;
  /** Wire bytes per second over the last window. */
  rate: number;
  /** Wire bytes per second since the run started. */
  average: number;
  /** Seconds to go at the current raw progress rate; undefined when nothing is moving. */
  etaSec?: number;
  sentBytes: number;
  wireBytes: number;
}

export interface TransferStatsOptions {
  clock?: Clock;
  /** The instantaneous-rate window; default 5 s. */
  windowMs?: number;
}

export class TransferStats {
  private readonly clock: Clock;
  private readonly windowMs: number;
  private startMs: number;
  private runFiles = 0;
  private totalBytes = 0;
  private readonly files = new Map<number, FileProgress>();
  private doneRaw = 0;
  private abandoned = 0;
  private rawSent = 0;
  private sent = 0;
  private wire = 0;
  private progressed = 0;
  private retries = 0;
  private wireWindow: RateWindow;
  private progressWindow: RateWindow;
  /** Bound `record`, to pass to `fanOut` ahead of the renderers. */
  readonly sink: EventSink = (e) => this.record(e);

  constructor(o: TransferStatsOptions = {}) {
    this.clock = o.clock ?? systemClock;
    this.windowMs = o.windowMs ?? 5000;
    this.startMs = this.clock.now();
    this.wireWindow = new RateWindow(this.startMs, this.windowMs);
    this.progressWindow = new RateWindow(this.startMs, this.windowMs);
  }

  record(e: UaEvent): void {
    const now = this.clock.now();
    switch (e.type) {
      case 'run-start':
        // Rates count from here: setup time (resume searches, /file/new) is not transfer time.
        this.startMs = now;
        this.wireWindow = new RateWindow(now, this.windowMs);
        this.progressWindow = new RateWindow(now, this.windowMs);
        this.runFiles = e.files;
        this.totalBytes = e.totalBytes;
        return;
      case 'file-start': {
        const f = this.fileRecord(e.order, e.localPath, now);
        f.remoteName = e.remoteName;
        f.fileId = e.fileId;
        f.size = e.size;
        f.resumedBytes = e.doneBytes;
        f.doneBytes += e.doneBytes;
        this.doneRaw += e.doneBytes;
        return;
      }
      case 'part-progress': {
        const f = this.files.get(e.order);
        if (f === undefined || f.outcome !== undefined) return;
        f.inFlight.set(e.index, (f.inFlight.get(e.index) ?? 0) + e.sentBytes);
        this.addWire(now, e.sentBytes);
        this.addProgress(f, now, e.sentBytes);
        return;
      }
      case 'part-done': {
        const f = this.files.get(e.order) ?? this.fileRecord(e.order, '', now);
        const seen = f.inFlight.get(e.index) ?? 0;
        f.inFlight.delete(e.index);
        // A resent part's raw bytes were counted as done at file-start.
        const fresh = e.resent ? 0 : e.rawBytes;
        f.doneBytes += fresh;
        f.partsDone++;
        this.doneRaw += fresh;
        this.rawSent += e.rawBytes;
        this.sent += e.sentBytes;
        this.addWire(now, Math.max(0, e.sentBytes - seen));
        this.addProgress(f, now, e.resent ? 0 : e.rawBytes - seen);
        return;
      }
      case 'part-retry': {
        const f = this.files.get(e.order);
        this.retries++;
        if (f === undefined) return;
        // Bytes of the failed attempt stay in `wire` (they were sent) but leave the file's progress.
        f.inFlight.delete(e.index);
        return;
      }
      case 'api-retry':
        this.retries++;
        return;
      case 'file-done': {
        const started = this.files.has(e.order);
        const f = this.fileRecord(e.order, e.localPath, now);
        if (f.outcome !== undefined) return; // a second file-done for one file is ignored
        f.inFlight.clear();
        f.outcome = e.outcome;
        f.error = e.error;
        f.fileId = e.fileId ?? f.fileId;
        // file-start's size is authoritative; `bytes` only sizes files that failed before starting.
        if (!started) f.size = e.bytes;
        f.endedMs = now;
        if (e.outcome === 'failed') {
          this.abandoned += Math.max(0, f.size - f.doneBytes);
        } else if (f.doneBytes < f.size) {
          // Already closed (or parts we did not hear about): the whole file counts as done.
          this.doneRaw += f.size - f.doneBytes;
          f.doneBytes = f.size;
        }
        return;
      }
      case 'summary':
      case 'warning':
        return;
    }
  }

  file(order: number): FileProgress | undefined {
    return this.files.get(order);
  }

  /** Files started and not yet done, in input order. */
  activeFiles(): FileProgress[] {
    return [...this.files.values()].filter((f) => f.outcome === undefined).sort((a, b) => a.order - b.order);
  }

  /**
   * The classic percentage as a fraction: raw bytes of finished parts / size. An empty file is 0 until
   * its part is done; a file found already closed is 1.
   */
  fileFraction(order: number): number {
    const f = this.files.get(order);
    if (f === undefined) return 0;
    if (f.size === 0) return f.partsDone > 0 || (f.outcome !== undefined && f.outcome !== 'failed') ? 1 : 0;
    return Math.min(1, f.doneBytes / f.size);
  }

  /** Like fileFraction but counting in-flight bytes too (smooth bars); below 1 until the file is done. */
  fileLiveFraction(order: number): number {
    const f = this.files.get(order);
    if (f === undefined) return 0;
    if (f.outcome !== undefined || f.size === 0) return this.fileFraction(order);
    const live = f.doneBytes + sum(f.inFlight.values());
    return Math.min(live / f.size, f.doneBytes >= f.size ? 1 : 0.999);
  }

  /** The file's raw progress rate over the window, bytes/s. */
  fileRate(order: number, now = this.clock.now()): number {
    return this.files.get(order)?.window.rate(now) ?? 0;
  }

  /** Seconds left for the file at its current rate; undefined when it is not moving. */
  fileEtaSec(order: number, now = this.clock.now()): number | undefined {
    const f = this.files.get(order);
    if (f === undefined) return undefined;
    if (f.outcome !== undefined) return 0;
    const rate = f.window.rate(now);
    const left = Math.max(0, f.size - f.doneBytes - sum(f.inFlight.values()));
    return rate > 0 ? left / rate : undefined;
  }

  /** Wire bytes per second over the last window. */
  instantaneousRate(now = this.clock.now()): number {
    return this.wireWindow.rate(now);
  }

  /** Wire bytes per second since run-start. */
  averageRate(now = this.clock.now()): number {
    const ms = now - this.startMs;
    return ms > 0 ? (this.wire * 1000) / ms : 0;
  }

  overall(now = this.clock.now()): OverallProgress {
    let filesDone = 0;
    let filesFailed = 0;
    let filesActive = 0;
    let inFlight = 0;
    for (const f of this.files.values()) {
      if (f.outcome !== undefined) {
        filesDone++;
        if (f.outcome === 'failed') filesFailed++;
      } else {
        filesActive++;
        inFlight += sum(f.inFlight.values());
      }
    }
    const doneBytes = this.doneRaw + inFlight;
    const target = this.totalBytes - this.abandoned;
    const fraction = target > 0 ? Math.min(1, doneBytes / target) : 1;
    const progressRate = this.progressWindow.rate(now);
    const left = Math.max(0, target - doneBytes);
    return {
      files: Math.max(this.runFiles, this.files.size),
      filesDone,
      filesFailed,
      filesActive,
      totalBytes: this.totalBytes,
      doneBytes,
      fraction,
      rate: this.wireWindow.rate(now),
      average: this.averageRate(now),
      etaSec: left === 0 ? 0 : progressRate > 0 ? left / progressRate : undefined,
      sentBytes: this.sent,
      wireBytes: this.wire,
    };
  }

  /**
   * End-of-run figures. Files that never got a file-done (an aborted run) count as failed, as their
   * stdout line says `failed`.
   */
  summary(now = this.clock.now()): SummaryEvent {
    let ok = 0;
    let failed = 0;
    let resumed = 0;
    let skipped = 0;
    for (const f of this.files.values()) {
      if (f.outcome === undefined || f.outcome === 'failed') failed++;
      else {
        ok++;
        if (f.outcome === 'resumed') resumed++;
        if (f.outcome === 'already-closed') skipped++;
      }
    }
    failed += Math.max(0, this.runFiles - this.files.size);
    const elapsedMs = Math.max(0, now - this.startMs);
    return {
      type: 'summary',
      ok,
      failed,
      resumed,
      skipped,
      rawBytes: this.rawSent,
      sentBytes: this.sent,
      retries: this.retries,
      elapsedMs,
      mbPerSec: elapsedMs > 0 ? this.sent / MIB / (elapsedMs / 1000) : 0,
    };
  }

  private fileRecord(order: number, localPath: string, now: number): FileProgress {
    let f = this.files.get(order);
    if (f === undefined) {
      f = {
        order,
        localPath,
        fileId: null,
        size: 0,
        resumedBytes: 0,
        doneBytes: 0,
        inFlight: new Map(),
        partsDone: 0,
        startedMs: now,
        window: new RateWindow(now, this.windowMs),
        progressed: 0,
      };
      this.files.set(order, f);
    }
    return f;
  }

  private addWire(now: number, bytes: number): void {
    if (bytes <= 0) return;
    this.wire += bytes;
    this.wireWindow.add(now, this.wire);
  }

  /**
   * Progress rate counters only grow: bytes of a failed attempt stay counted (the rate says how fast
   * bytes move, not how much is left), and a part whose compressed size exceeds its raw size adds none.
   */
  private addProgress(f: FileProgress, now: number, delta: number): void {
    if (delta <= 0) return;
    f.progressed += delta;
    f.window.add(now, f.progressed);
    this.progressed += delta;
    this.progressWindow.add(now, this.progressed);
  }
}

function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

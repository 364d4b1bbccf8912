/** Time source for accounting; injectable so rates and the throttle are testable without real time. */
export interface Clock {
  /** Milliseconds (epoch or monotonic: only differences are used, except for printed timestamps). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

interface Sample {
  t: number;
  total: number;
}

/**
 * Moving-window rate of a growing byte counter: (C(now) − C(now − window)) / window, where C is the
 * counter as sampled, read linearly between samples. Samples closer than `resolutionMs` are merged, so memory
 * stays at about window / resolution samples whatever the event rate.
 */
export class RateWindow {
  private samples: Sample[];

  /**
   * @param originMs when counting started (the counter is 0 there)
   * @param windowMs the "instantaneous" window (the classic agent uses about 5 s)
   * @param minSpanMs a young window is divided by at least this much, so the first event does not
   *   read as an absurd burst
   */
  constructor(
    originMs: number,
    private readonly windowMs = 5000,
    private readonly resolutionMs = 100,
    private readonly minSpanMs = 500,
  ) {
    this.samples = [{ t: originMs, total: 0 }];
  }

  /** The counter's value now; must not go down. */
  add(t: number, total: number): void {
    const last = this.samples[this.samples.length - 1];
    const prev = this.samples[this.samples.length - 2];
    // Merge into the last sample when it is itself recent: the step moves by < resolution, never more.
    // Same instant as the last sample: one step, not a vertical segment the reading would split.
    if (prev !== undefined && (t - prev.t < this.resolutionMs || t <= last.t)) {
      last.t = t;
      last.total = total;
    } else {
      this.samples.push({ t, total });
    }
    this.prune(t);
  }

  /** Bytes per second over the last window (0 when nothing moved in it). */
  rate(now: number): number {
    this.prune(now);
    const latest = this.samples[this.samples.length - 1].total;
    // After prune, samples[0] is the newest sample at or before now − window, or the origin when
    // counting began less than a window ago. The counter at the window's start is read off the line
    // from it to the next sample: merged samples (and part-done steps without part-progress) hide
    // when bytes moved in between, and taking the older value counted bytes from before the window,
    // showing up to resolution/window too much, or a whole part too much without part-progress.
    const base = this.samples[0];
    const cut = now - this.windowMs;
    let baseTotal = base.total;
    const next = this.samples[1];
    if (next !== undefined && base.t < cut && next.t > base.t)
      baseTotal += ((next.total - base.total) * (cut - base.t)) / (next.t - base.t);
    const span = Math.max(Math.min(now - base.t, this.windowMs), this.minSpanMs);
    const bytes = latest - baseTotal;
    return bytes > 0 ? (bytes * 1000) / span : 0;
  }

  /** Drops samples older than the newest one at or before now − window (that one is the base). */
  private prune(now: number): void {
    const cut = now - this.windowMs;
    let keepFrom = 0;
    for (let i = 1; i < this.samples.length && this.samples[i].t <= cut; i++) keepFrom = i;
    if (keepFrom > 0) this.samples.splice(0, keepFrom);
  }
}

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
 * counter as last sampled (a step function). Samples closer than `resolutionMs` are merged, so memory
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
    if (prev !== undefined && t - prev.t < this.resolutionMs) {
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
    // After prune, samples[0] is the newest sample at or before now − window (C at the window start),
    // or the origin when counting began less than a window ago.
    const base = this.samples[0];
    const span = Math.max(Math.min(now - base.t, this.windowMs), this.minSpanMs);
    const bytes = latest - base.total;
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

import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, ApiCallError, ConnectionError, PartPutError } from '../errors.js';

/**
 * How often and how patiently to retry. Delays grow exponentially with full jitter
 * (delay = random in [minDelay·factor^(n-1) / 2, minDelay·factor^(n-1)], capped at maxDelay), so that many
 * parts failing together do not come back in lockstep.
 */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before the first retry, ms. Default 1000. */
  minDelayMs: number;
  /** Cap on one delay, ms. Default 30 000. */
  maxDelayMs: number;
  /** Growth per attempt. Default 2. */
  factor: number;
  /**
   * Cap on the total time spent waiting on `Retry-After` (throttling waits do not use up attempts,
   * as the platform's own clients do; this keeps a server that answers 503 forever from hanging us).
   * Default 30 minutes.
   */
  maxThrottleWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  minDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 2,
  maxThrottleWaitMs: 30 * 60_000,
};

/** What to do with a failure. */
export interface RetryVerdict {
  retry: boolean;
  /** Server-requested wait (Retry-After); such retries do not count against `attempts`. */
  throttleMs?: number;
}

/**
 * The shared classification: connection errors, 5xx and 429 are transient; 503/429 carry Retry-After;
 * every other 4xx is final (it would fail the same way again).
 * `idempotent` = safe to resend after a failure that may have reached the server.
 */
export function classify(err: unknown, idempotent: boolean): RetryVerdict {
  if (err instanceof ConnectionError) return { retry: idempotent || err.neverConnected };
  if (err instanceof ApiCallError || err instanceof PartPutError) {
    const s = err.status;
    if ((s === 503 || s === 429) && err.retryAfterMs !== undefined)
      return { retry: true, throttleMs: err.retryAfterMs };
    if (s >= 500 || s === 429) return { retry: true };
    // S3 answers 400 RequestTimeout to a slow PUT body; the platform's clients retry a PUT's 400 too.
    if (err instanceof PartPutError && s === 400 && /RequestTimeout/.test(err.body)) return { retry: true };
    return { retry: false };
  }
  if ((err as Error)?.name === 'JsonParseError') return { retry: true };
  return { retry: false };
}

export function backoffDelay(
  policy: RetryPolicy,
  retryNumber: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (retryNumber - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryHooks {
  /** Called before each wait: the error, the attempt that failed (1-based), and the wait. */
  onRetry?(err: unknown, attempt: number, delayMs: number, throttled: boolean): void;
  signal?: AbortSignal;
}

/** Runs `fn` until it succeeds, the verdict says stop, or attempts run out; rethrows the last error. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  verdict: (err: unknown) => RetryVerdict,
  hooks: RetryHooks = {},
): Promise<T> {
  let counted = 0;
  let throttledMs = 0;
  for (let attempt = 1; ; attempt++) {
    if (hooks.signal?.aborted) throw new AbortedError();
    try {
      return await fn(attempt);
    } catch (err) {
      if (hooks.signal?.aborted) throw new AbortedError();
      const v = verdict(err);
      if (!v.retry) throw err;
      let delay: number;
      if (v.throttleMs !== undefined && throttledMs + v.throttleMs <= policy.maxThrottleWaitMs) {
        delay = v.throttleMs;
        throttledMs += delay;
      } else {
        counted++;
        if (counted >= policy.attempts) throw err;
        delay = backoffDelay(policy, counted);
      }
      hooks.onRetry?.(err, attempt, delay, v.throttleMs !== undefined);
      try {
        await sleep(delay, undefined, { signal: hooks.signal });
      } catch {
        throw new AbortedError();
      }
    }
  }
}

/** Parses Retry-After: integer seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

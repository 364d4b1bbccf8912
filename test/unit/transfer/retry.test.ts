import { describe, expect, it } from 'vitest';
import { ApiCallError, ConnectionError, PartPutError } from '../../../src/errors.js';
import {
  backoffDelay,
  classify,
  DEFAULT_RETRY,
  parseRetryAfter,
  withRetry,
} from '../../../src/transfer/retry.js';

const fast = { ...DEFAULT_RETRY, minDelayMs: 1, maxDelayMs: 4 };
const api = (status: number, retryAfterMs?: number) =>
  new ApiCallError({ route: 'file/new', status, type: 'X', message: 'm', retryAfterMs });

describe('classify', () => {
  it('retries 5xx and 429, never other 4xx', () => {
    expect(classify(api(500), false).retry).toBe(true);
    expect(classify(api(429), false).retry).toBe(true);
    expect(classify(api(422), true).retry).toBe(false);
    expect(classify(api(401), true).retry).toBe(false);
    expect(classify(api(404), true).retry).toBe(false);
  });
  it('turns Retry-After on 503/429 into an uncounted wait', () => {
    expect(classify(api(503, 2000), true)).toEqual({ retry: true, throttleMs: 2000 });
    expect(classify(new PartPutError(503, '', 1000), true)).toEqual({ retry: true, throttleMs: 1000 });
  });
  it('retries connection errors when idempotent or never connected', () => {
    const reset = new ConnectionError(
      'http://127.0.0.1:1/x',
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    );
    const refused = new ConnectionError(
      'http://127.0.0.1:1/x',
      Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
    );
    expect(classify(reset, false).retry).toBe(false);
    expect(classify(reset, true).retry).toBe(true);
    expect(classify(refused, false).retry).toBe(true);
  });
  it('retries an S3-style RequestTimeout 400 on a PUT, not other 400s', () => {
    expect(classify(new PartPutError(400, '<Code>RequestTimeout</Code>'), true).retry).toBe(true);
    expect(classify(new PartPutError(400, '<Code>BadDigest</Code>'), true).retry).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter in [ceiling/2, ceiling] and is capped', () => {
    const p = { ...DEFAULT_RETRY, minDelayMs: 1000, maxDelayMs: 8000 };
    expect(backoffDelay(p, 1, () => 0)).toBe(500);
    expect(backoffDelay(p, 1, () => 1)).toBe(1000);
    expect(backoffDelay(p, 3, () => 1)).toBe(4000);
    expect(backoffDelay(p, 10, () => 1)).toBe(8000);
  });
});

describe('withRetry', () => {
  it('stops after `attempts` counted failures and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw api(500);
        },
        { ...fast, attempts: 3 },
        (e) => classify(e, true),
      ),
    ).rejects.toBeInstanceOf(ApiCallError);
    expect(calls).toBe(3);
  });
  it('does not count throttled attempts', async () => {
    let calls = 0;
    const r = await withRetry(
      async () => {
        calls++;
        if (calls <= 4) throw api(503, 1);
        return 'ok';
      },
      { ...fast, attempts: 2 },
      (e) => classify(e, true),
    );
    expect(r).toBe('ok');
    expect(calls).toBe(5);
  });
  it('counts throttled waits once their total exceeds the cap', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw api(503, 5);
        },
        { ...fast, attempts: 2, maxThrottleWaitMs: 10 },
        (e) => classify(e, true),
      ),
    ).rejects.toBeInstanceOf(ApiCallError);
    expect(calls).toBe(4); // two uncounted waits (10 ms), then two counted attempts
  });
  it('does not retry a final error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw api(422);
        },
        fast,
        (e) => classify(e, true),
      ),
    ).rejects.toThrow();
    expect(calls).toBe(1);
  });
  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const p = withRetry(
      async () => {
        throw api(503, 60_000);
      },
      fast,
      (e) => classify(e, true),
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toMatchObject({ code: 'UA_ERR_ABORTED' });
  });
});

describe('parseRetryAfter', () => {
  it('reads integer seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

/**
 * Telling people: webhook deliveries from the durable outbox, and the `--on-complete` command.
 *
 * Webhooks are delivered at least once: a row stays until the receiver answers 2xx, retried with
 * backoff (a receiver down for a day gets its events when it is back). Each body carries `id`, the
 * same on every retry, so a receiver drops duplicates. Bodies never hold a token.
 */
import { spawn } from 'node:child_process';
import { request, type Dispatcher } from 'undici';
import type { DaemonStore } from '../state/store.js';
import { backoff } from '../steps/uploads.js';

export interface WebhookEvent {
  event: 'run-complete' | 'run-stalled' | 'run-failed' | 'file-failed';
  run: string;
  [key: string]: unknown;
}

/** Queues an event; `key` makes it once per occurrence (a repeated step queues nothing new). */
export async function queueWebhook(
  store: DaemonStore,
  key: string,
  e: WebhookEvent,
  now: number,
): Promise<void> {
  await store.enqueue(key, { id: key, at: new Date(now).toISOString(), ...e }, now);
}

/** Posts what is due; returns how many were delivered. */
export async function deliverWebhooks(
  store: DaemonStore,
  url: string,
  now: () => number,
  retryBaseMs: number,
  signal: AbortSignal,
  /** The daemon's pool for webhooks (behind HTTPS_PROXY / NO_PROXY like every other request). */
  dispatcher?: Dispatcher,
): Promise<number> {
  let delivered = 0;
  for (const row of await store.claimOutbox(now(), 32)) {
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ua-daemon' },
        body: row.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
        ...(dispatcher ? { dispatcher } : {}),
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
      await store.delivered(row.id, now());
      delivered++;
    } catch (err) {
      if (signal.aborted) return delivered;
      await store.deliveryFailed(
        row.id,
        (err as Error).message,
        now() + backoff(retryBaseMs, row.attempts + 1),
      );
    }
  }
  return delivered;
}

/**
 * Runs `--on-complete CMD` through /bin/sh with the run in its environment; resolves to its exit
 * code. Output goes to the daemon's own stdout/stderr (and so to its log).
 */
export function runHook(cmd: string, env: Record<string, string>, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', cmd], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
      signal,
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

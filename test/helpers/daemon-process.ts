/**
 * A real `ua daemon` process for tests that kill it: the platform's DX_* variables come only from
 * `env` (never the test runner's own), and `started` resolves once it has opened (its first JSON
 * log line), so a kill lands in its work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isProxyVar, UA_BIN } from './run-ua.js';

/** A daemon process; `started` resolves once it has opened (its first log line), so a kill lands in its work. */
export function startDaemon(
  args: string[],
  env: Record<string, string>,
  log: string[],
): { child: ChildProcess; started: Promise<void> } {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('DX_') && !isProxyVar(k)) clean[k] = v;
  const child = spawn(process.execPath, [UA_BIN, 'daemon', ...args], {
    env: { ...clean, HOME: '/nonexistent-home-for-tests', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = new Promise<void>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      log.push(d);
      if (d.includes('"resumed_uploads"')) resolve();
    });
    child.once('exit', () => resolve());
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d));
  return { child, started };
}

export const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

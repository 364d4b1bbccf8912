import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UA_BIN = fileURLToPath(new URL('../../bin/ua.js', import.meta.url));

export interface UaRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunUaOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: Buffer | string;
  /** Called with each stderr chunk; may kill the child (for kill -9 tests). */
  onStderr?(chunk: string, child: ChildProcess): void;
  /** Called once the child is running (e.g. to kill it when the server has seen enough). */
  onSpawn?(child: ChildProcess): void;
  timeoutMs?: number;
}

let stateDir: string | undefined;
/** One resume-journal dir per test process (as one machine's ~/.cache/ua), removed when it exits. */
function testStateDir(): string {
  if (!stateDir) {
    const dir = mkdtempSync(join(tmpdir(), 'ua-state-'));
    stateDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return stateDir;
}

/**
 * Proxy variables (any case): a developer's HTTP_PROXY would send the tests' 127.0.0.1 traffic to their
 * proxy (ua, like curl, does not exempt loopback), so children never inherit them; a test about
 * proxies passes them in `env`.
 */
export const isProxyVar = (k: string): boolean => /^(https?|no|all)_proxy$/i.test(k);

/**
 * Runs the built `ua` as a real child process. The environment is cleared of DX_* and proxy variables, HOME
 * points at an empty dir and the resume journal at this test process's own dir unless given, so a
 * developer's own config never leaks into a test and no test writes outside its temp dirs.
 */
export function runUa(args: string[], o: RunUaOptions = {}): Promise<UaRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('DX_') && !isProxyVar(k)) env[k] = v;
  Object.assign(
    env,
    { HOME: '/nonexistent-home-for-tests', NO_COLOR: '1', UA_STATE_DIR: testStateDir() },
    o.env ?? {},
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [UA_BIN, ...args], {
      env,
      cwd: o.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      o.onStderr?.(d, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    o.onSpawn?.(child);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    if (o.stdin !== undefined) child.stdin.end(o.stdin);
    else child.stdin.end();
  });
}

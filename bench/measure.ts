/**
 * Measuring instruments for child processes: wall time, user+sys CPU and peak RSS of a command run to
 * completion, and CPU / peak RSS of a long-running server process read from /proc (so the client's
 * and the server's costs are separable).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProcUsage {
  wallS: number;
  userS: number;
  sysS: number;
  /** Peak resident set size of the child, MiB. */
  peakRssMiB: number;
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const GNU_TIME = '/usr/bin/time';
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout?.trim()) || 100;
})();

/**
 * Runs `cmd args` to completion. With GNU time installed, CPU and peak RSS come from the kernel's
 * rusage of the child (all its threads); otherwise /proc/<pid> is polled every 50 ms (CPU then
 * misses at most the last 50 ms).
 */
export async function runMeasured(cmd: string, args: string[], o: RunOptions = {}): Promise<ProcUsage> {
  const useTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), 'ua-bench-time-'));
  const timeFile = join(dir, 'time.txt');
  const argv = useTime ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const t0 = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), {
    env: o.env ?? process.env,
    cwd: o.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d.length > 1e6 ? '' : d));
  let polled = { cpuS: 0, userS: 0, sysS: 0, peakRssMiB: 0 };
  const poll = useTime
    ? undefined
    : setInterval(() => {
        const u = procUsage(child.pid!);
        if (u) polled = u;
      }, 50);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (poll) clearInterval(poll);
  try {
    if (useTime) {
      // GNU time writes "Command exited with non-zero status N" before the format line on failure.
      const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      const [u, s, m] = line.split(' ').map(Number);
      return { wallS, userS: u, sysS: s, peakRssMiB: m / 1024, code, stdout, stderr };
    }
    return {
      wallS,
      userS: polled.userS,
      sysS: polled.sysS,
      peakRssMiB: polled.peakRssMiB,
      code,
      stdout,
      stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ProcSnapshot {
  userS: number;
  sysS: number;
  cpuS: number;
  /** VmHWM: the process's peak RSS so far, MiB. */
  peakRssMiB: number;
}

/** CPU so far (all threads) and peak RSS of a live process, from /proc; undefined once it is gone. */
export function procUsage(pid: number): ProcSnapshot | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const userS = Number(f[11]) / CLK_TCK;
    const sysS = Number(f[12]) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return { userS, sysS, cpuS: userS + sysS, peakRssMiB: hwm ? Number(hwm[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

export interface ServerProcess {
  pid: number;
  /** The first match of `ready` in the server's stdout (e.g. its URL). */
  ready: RegExpExecArray;
  usage(): ProcSnapshot;
  stop(): Promise<void>;
}

/** A free loopback TCP port (for servers that cannot report the port they bound). */
export async function freePort(): Promise<number> {
  const s = createNetServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    }).on('error', () => resolve(false));
  });
}

/**
 * Starts a server as a child process and waits until its stdout matches `ready`, or, given a port,
 * until that port accepts connections.
 */
export async function startServer(
  cmd: string,
  args: string[],
  ready: RegExp | number,
  o: RunOptions = {},
): Promise<ServerProcess> {
  const child = spawn(cmd, args, {
    env: o.env ?? process.env,
    cwd: o.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${cmd} ${args.join(' ')}: not ready after 60 s\n${out}${err}`)),
      60_000,
    );
    if (typeof ready === 'number') {
      const tick = async () => {
        if (child.exitCode !== null) return;
        if (await portOpen(ready)) {
          clearTimeout(timer);
          resolve(Object.assign([String(ready)], { index: 0, input: '' }) as RegExpExecArray);
        } else setTimeout(() => void tick(), 100);
      };
      void tick();
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-4000);
      if (typeof ready === 'number') return;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited ${code} before it was ready\n${out}${err}`));
    });
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  const pid = child.pid!;
  return {
    pid,
    ready: match,
    usage: () => procUsage(pid) ?? { userS: 0, sysS: 0, cpuS: 0, peakRssMiB: 0 },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

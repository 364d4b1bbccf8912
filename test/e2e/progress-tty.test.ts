/**
 * `--progress` on a real pseudo-terminal (util-linux `script`), through a throttled upload to
 * ua-platform, with the terminal narrowed mid-run (`stty -F <pty> cols 50`: the kernel sends SIGWINCH
 * to the run). Checks what the terminal was sent: no line of the block reaches the last column before
 * or after the resize, the rate shown stays within the throttle's bounds, and the bytes stored are the
 * source's.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, waitClosed } from '../helpers/remote.js';
import { isProxyVar, UA_BIN } from '../helpers/run-ua.js';

const ctx = usePlatformAndTempDir();
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface PtyRun {
  code: number | null;
  out: string;
  /** Offset in `out` when the terminal was narrowed. */
  resizedAt: number;
}

/** Runs ua under `script` at 100×30; narrows the pty to 50 columns once the first frame is out. */
function runOnPty(args: string[], env: Record<string, string>): Promise<PtyRun> {
  const inner = `stty cols 100 rows 30; tty; exec ${[process.execPath, UA_BIN, ...args].map(quote).join(' ')}`;
  const childEnv: Record<string, string> = {
    SHELL: '/bin/sh',
    HOME: '/nonexistent-home-for-tests',
    TERM: 'xterm',
  };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('DX_') && !isProxyVar(k) && k === 'PATH') childEnv[k] = v;
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', inner, '/dev/null'], {
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let resizedAt = -1;
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const pty = /\/dev\/pts\/\d+/.exec(out)?.[0];
      if (resizedAt < 0 && pty && /\d+\/\d+ files/.test(out)) {
        resizedAt = out.length;
        execFileSync('stty', ['-F', pty, 'cols', '50', 'rows', '30']);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, resizedAt });
    });
    child.stdin.end();
  });
}

/**
 * Frames (each ends with erase-below) → the block's lines (text after the last carriage return).
 * Messages printed above the block in the same write (a retry line) are not the block's: they may
 * be longer than the width and wrap, as any log line.
 */
function frames(text: string): string[][] {
  return text
    .split('\x1b[J')
    .slice(0, -1)
    .map((f) =>
      f
        .split('\n')
        .map((seg) => {
          // eslint-disable-next-line no-control-regex
          const pieces = seg.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\r');
          return pieces.filter((p) => p !== '').at(-1) ?? '';
        })
        .filter((l) => /\d\.\d%/.test(l) || /^\+\d+ more$/.test(l)),
    );
}

// Skipped only off CI: under CI=true a missing `script` (util-linux's bsdutils) fails the test.
describe.skipIf(!hasScript && !process.env.CI)('--progress on a real terminal (issue 14.1)', () => {
  it('fits every line to the width, redraws on a resize, shows the throttled rate, stores the bytes', async () => {
    const { tp, tmp } = ctx;
    const paths = [0, 1, 2].map((i) => join(tmp.dir, `tty-sample_${i}_R1_001.fastq.bin`));
    const data = paths.map((p) => writeRandomFile(p, 3 * 1024 * 1024));
    const throttle = 1024 * 1024;
    tp.platform.faults.add({ target: 'put', action: 'status', status: 500 }); // one retry, shown above the block
    const r = await runOnPty(
      [
        '--progress',
        '--throttle',
        '1M',
        '--do-not-compress',
        '--chunk-size',
        '5M',
        '-u',
        '2',
        '--project',
        tp.project,
        '--folder',
        '/tty',
        ...paths,
      ],
      { ...tp.env, UA_STATE_DIR: join(tmp.dir, 'state'), UA_RETRY_MIN_DELAY_MS: '10' },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.resizedAt).toBeGreaterThan(0);
    const before = frames(r.out.slice(0, r.resizedAt));
    const after = frames(r.out.slice(r.resizedAt));
    expect(before.length).toBeGreaterThan(0);
    for (const f of before) for (const l of f) expect(l.length, l).toBeLessThan(100);
    // At 100 columns the overall line has everything, and file lines are drawn for the 2 in flight.
    const full = before.flat().find((l) => l.startsWith('Total'));
    expect(full).toMatch(
      /^Total +\[[=-]+\] +[\d.]+% +[\d.]+ [KM]?i?B\/9\.00 MiB +[\d.]+ MiB\/s +ETA [\d:-]+ +\d\/3 files$/,
    );
    // Frames drawn before the run saw SIGWINCH may follow the mark; from the first narrow one on, all fit.
    const first = after.findIndex((f) => f.every((l) => l.length < 50));
    expect(first).toBeGreaterThanOrEqual(0);
    const narrow = after.slice(first);
    expect(narrow.length).toBeGreaterThan(3);
    for (const f of narrow) for (const l of f) expect(l.length, l).toBeLessThan(50);
    // The resize frame went up over the rows the previous frame's lines take once re-wrapped at 50.
    const resizeFrame = r.out.slice(r.resizedAt).split('\x1b[J')[first];
    // eslint-disable-next-line no-control-regex
    const up = Number(/\x1b\[(\d+)A/.exec(resizeFrame)?.[1] ?? 0);
    const previous = first > 0 ? after[first - 1] : before.at(-1)!;
    expect(up).toBe(previous.reduce((n, l) => n + Math.ceil(l.length / 50), 0));
    expect(up).toBeGreaterThan(previous.length);
    // The shown rate stays within what the token bucket lets through (its burst is 0.1 s of the rate):
    // at most (0.5 + 0.1) / 0.5 = 1.2 times it in the window's first half second, less afterwards.
    const rates = [...before, ...after]
      .flat()
      .map((l) => /^(?:Total.*?|\s*[\d.]+%.*?)\s([\d.]+) MiB\/s\s+ETA/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number);
    expect(rates.length).toBeGreaterThan(3);
    for (const rate of rates) expect(rate).toBeLessThanOrEqual((throttle / 2 ** 20) * 1.25);
    // stdout's IDs, in input order, after the block; the stored bytes are the source's.
    const ids = [...r.out.matchAll(/^(file-[0-9A-Za-z]{24})\r?$/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(3);
    for (const [i, id] of ids.entries()) {
      await waitClosed(tp, id);
      expect((await downloadFile(tp, id)).equals(data[i])).toBe(true);
      expect(data[i].equals(readFileSync(paths[i]))).toBe(true);
    }
    expect(r.out).toMatch(/Uploaded 3 files; 9\.00 MiB in .*; 1 retry/);
    // The retry is one short line above the block; the server's XML body only with -v.
    const retryLine =
      // eslint-disable-next-line no-control-regex
      /\rRetrying part 1 of ".*tty-sample_0_R1_001\.fastq\.bin" in [\d.]+s: HTTP 500 InternalError \(attempt 1 failed\)\x1b\[K\r?\n/;
    expect(r.out).toMatch(retryLine);
    expect(r.out).not.toContain('<Error>');
  });
});

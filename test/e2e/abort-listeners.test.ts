/**
 * No MaxListenersExceededWarning on the run's signal: throttled, stalled and many-file runs each
 * hold many waits at once, but every part listens on a child signal of its own (abort-scope.ts).
 */
import { join } from 'node:path';
import { describe as suite, expect, it } from 'vitest';
import { AbortScope } from '../../src/common/abort-scope.js';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const e2e = usePlatformAndTempDir();

suite('abort listeners', () => {
  it('a throttled, stalled upload of one big and 40 small files prints no listener warning and ends byte-exact', async () => {
    const big = join(e2e.tmp.dir, 'big.bin');
    const bigData = writeRandomFile(big, 40 * MiB);
    const small = Array.from({ length: 40 }, (_, i) => {
      const p = join(e2e.tmp.dir, 'small', `s${i}.bin`);
      return { p, data: writeRandomFile(p, 1000 + i) };
    });
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 200, count: 10_000 });
    e2e.tp.platform.faults.add({
      target: 'api',
      route: 'system/findDataObjects',
      action: 'delay',
      delayMs: 100,
      count: 10_000,
    });
    const r = await runUa(
      [
        '--project',
        e2e.tp.project,
        '--do-not-compress',
        '--chunk-size',
        '5M',
        '--upload-threads',
        '16',
        '--throttle',
        '60M',
        '--wait-on-close',
        big,
        ...small.map((s) => s.p),
      ],
      { env: { ...e2e.tp.env, NODE_OPTIONS: '--trace-warnings' } },
    );
    e2e.tp.platform.faults.clear();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/MaxListenersExceeded|memory leak/);
    const ids = r.stdout.trim().split('\n');
    expect(md5(await downloadFile(e2e.tp, ids[0]))).toBe(md5(bigData));
    for (const [i, s] of small.entries())
      expect(md5(await downloadFile(e2e.tp, ids[i + 1]))).toBe(md5(s.data));
  });
});

suite('AbortScope', () => {
  it('holds one listener on the parent, aborts live children with its reason, and releases finished ones', async () => {
    const parent = new AbortController();
    const scope = new AbortScope(parent.signal);
    const seen: AbortSignal[] = [];
    await Promise.all(Array.from({ length: 50 }, () => scope.run(async (s) => void seen.push(s))));
    expect(scope.size).toBe(0);
    let release!: () => void;
    const held = scope.run(
      (s) =>
        new Promise<string>((resolve) => {
          release = () => resolve('done');
          s.addEventListener('abort', () => resolve(`aborted: ${String(s.reason)}`));
        }),
    );
    expect(scope.size).toBe(1);
    parent.abort('stop');
    expect(await held).toBe('aborted: stop');
    expect(seen.every((s) => !s.aborted)).toBe(true); // finished children are not touched
    expect(await scope.run(async (s) => s.aborted)).toBe(true); // a child made after abort starts aborted
    release();
    scope.close();
  });
});

import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { runUa, type RunUaOptions } from '../helpers/run-ua.js';

/** The undici in node_modules: the one ua sends with. */
const UNDICI = (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp?.stop();
});

/** Closes the reading end of the child's stdout before it writes anything, as `| head -0` would. */
const closedStdout: RunUaOptions['onSpawn'] = (child) => child.stdout!.destroy();

suite('--version and --test', () => {
  it('--version names the undici ua uses, not the one bundled in Node', async () => {
    const r = await runUa(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`\n  undici version: ${UNDICI}\n`);
    expect(r.stdout).toContain(`\n  node version: ${process.versions.node}\n`);
    if (process.versions.undici && process.versions.undici !== UNDICI)
      expect(r.stdout).not.toContain(process.versions.undici);
  });

  it('--test prints the same version block', async () => {
    const r = await runUa(['--test', '--project', tp.project], { env: tp.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`\n  undici version: ${UNDICI}\n`);
    expect(r.stdout).toContain(`${tp.project}: upload allowed`);
  });
});

suite('a closed stdout', () => {
  // Node ignores SIGPIPE, so the write fails with EPIPE; it used to be an unhandled 'error' (stack trace).
  for (const [label, args, env] of [
    ['--test', ['--test', '--project'], true],
    ['--version', ['--version'], false],
  ] as const) {
    it(`ends ${label} quietly with 141 (128 + SIGPIPE), as a shell reports a program cut off by its reader`, async () => {
      const r = await runUa(env ? [...args, tp.project] : [...args], {
        env: env ? tp.env : {},
        onSpawn: closedStdout,
      });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(141);
      expect(r.stderr).toBe('');
    });
  }
});

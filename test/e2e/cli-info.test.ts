import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { runUa } from '../helpers/run-ua.js';

/** The undici in node_modules: the one ua sends with. */
const UNDICI = (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp?.stop();
});

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

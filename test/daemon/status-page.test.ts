/// <reference lib="dom" />
/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core, kept off the
 * network): a simulated run progressing live without a reload, a stalled run and a failed file
 * flagged, names from disk escaped, keyboard navigation, and axe-core's accessibility rules.
 * Screenshots go to test-artifacts/ (UA_TEST_ARTIFACTS overrides).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startOpsServer, type OpsServer } from '../../src/daemon/ops/http.js';
import { simulateRun } from '../../src/sim/sequencer.js';
import { tempDir, writeRandomFile } from '../helpers/files.js';
import { openTestDaemon, waitFor } from '../helpers/daemon.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS =
  process.env.UA_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

if (!CHROMIUM && process.env.CI)
  throw new Error('chromium is not installed: .ci/run installs the Debian package chromium for this test');

describe.skipIf(!CHROMIUM)('the daemon status page in chromium', () => {
  const ctx = usePlatformAndTempDir();
  let browser: Browser;
  let daemon: Daemon;
  let ops: OpsServer;
  let state: ReturnType<typeof tempDir>;
  let sim: Promise<unknown>;
  let root: string;

  beforeAll(async () => {
    const { tp, tmp } = ctx;
    mkdirSync(ARTIFACTS, { recursive: true });
    root = join(tmp.dir, 'instrument');
    const mk = (name: string) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'RunInfo.xml'), `<RunInfo><Run Id="X" Number="1"></Run></RunInfo>`);
      return dir;
    };
    // A run whose files fail (500s for every try = one failed attempt = reported with --fail-after 1;
    // the next attempt is 10 minutes away).
    tp.platform.faults.add({ target: 'put', action: 'status', status: 500, count: 1000 });
    writeRandomFile(join(mk('RUN_FAILING'), 'broken.bin'), 10_000);
    state = tempDir();
    const applet = await tp.call('applet/new', { project: tp.project, name: 'demux', runSpec: {} });
    ({ daemon } = await openTestDaemon(tp, {
      runWorkflow: applet.body.id,
      watch: [root],
      stateDir: state.dir,
      failAfter: 1,
      retryBaseMs: 600_000,
      stallAfterMs: 1500,
    }));
    await waitFor(
      'failure reported',
      async () => (await daemon.status()).runs.find((r) => r.name === 'RUN_FAILING')?.files.failing === 2,
    );
    tp.platform.faults.clear();
    mk('RUN_QUIET'); // no marker, nothing more: stalled after 1.5 s
    mk('RUN_<img src=x onerror=alert(1)>'); // a name from disk that is HTML (no slash: it is one folder)
    sim = simulateRun({
      root,
      profile: 'novaseq',
      runName: 'RUN_LIVE',
      cycles: 8,
      lanes: 1,
      tiles: 1,
      cbclBytes: 64 * 1024,
      cycleMs: 600,
      seed: 3,
    });
    ops = await startOpsServer(
      { host: '127.0.0.1', port: 0, pollMs: 200 },
      {
        status: () => daemon.status(),
        detail: (n, q) => daemon.detail(n, q),
        executionState: (id) => daemon.executionState(id),
      },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-default-apps',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sim?.catch(() => {});
    await ops?.close();
    await daemon?.close();
    state?.cleanup();
  });

  it('lists runs with failed and stalled first, flagged by word and icon, names escaped', async () => {
    await waitFor(
      'stalled',
      async () => (await daemon.status()).runs.find((r) => r.name === 'RUN_QUIET')?.state === 'stalled',
    );
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${ops.url}/`);
    await expect.poll(() => page.textContent('#live')).toBe('live');
    const states = await page.$$eval('table.runs tbody tr', (rows) =>
      rows.map((r) => r.querySelector('td')!.textContent!.trim()),
    );
    expect(states[0]).toBe('✗ failed');
    expect(states[1]).toBe('⚠ stalled');
    const names = await page.$$eval('table.runs tbody th', (c) => c.map((x) => x.textContent));
    expect(names).toContain('RUN_<img src=x onerror=alert(1)>');
    expect(await page.$$('table.runs img')).toHaveLength(0);
    expect(await page.textContent('table.runs')).toMatch(/500/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-runs.png'), fullPage: true });
    expect(errors).toEqual([]); // the CSP blocks nothing the page itself needs
    await page.close();
  });

  it('updates live without reloading while the simulated run is written', async () => {
    const page = await browser.newPage();
    await page.goto(`${ops.url}/`);
    await page.evaluate(() => ((window as unknown as { loadedOnce: number }).loadedOnce = 1));
    const files = () =>
      page.$eval('table.runs tbody tr:has(a[href="/runs/RUN_LIVE"]) td:nth-of-type(2)', (c) => c.textContent);
    await expect.poll(files, { timeout: 20_000 }).toMatch(/^[1-9]\d* \//);
    const first = await files();
    await expect.poll(files, { timeout: 20_000 }).not.toBe(first);
    await sim;
    await expect
      .poll(() => page.$eval('table.runs tbody tr:has(a[href="/runs/RUN_LIVE"]) td', (c) => c.textContent), {
        timeout: 30_000,
      })
      .toMatch(/complete/);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: number }).loadedOnce)).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'status-live-complete.png'), fullPage: true });
    await page.close();
  });

  it("a run page shows its files, the failed file's error, the sentinel and the chart; keyboard reaches it", async () => {
    const page = await browser.newPage();
    await page.goto(`${ops.url}/`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    const link = page.locator('a[href="/runs/RUN_FAILING"]');
    // Focus and Enter in one locator action, tried again if a live update swapped the list (and the
    // focused link with it) in between, as it can on a loaded machine.
    for (let i = 0; ; i++) {
      await link.press('Enter');
      try {
        await page.waitForURL(/\/runs\/RUN_FAILING$/, { timeout: 5000 });
        break;
      } catch (err) {
        if (i === 2) throw err;
      }
    }
    expect(await page.textContent('h1')).toBe('RUN_FAILING');
    const row = await page.textContent('table.files tbody tr:has(th:text-is("broken.bin"))');
    expect(row).toMatch(/ready.*1.*500/s);
    await page.screenshot({ path: join(ARTIFACTS, 'status-run-failing.png'), fullPage: true });
    await page.goto(`${ops.url}/runs/RUN_LIVE`);
    expect(await page.textContent('dl.facts')).toMatch(/Sentinel record\s*record-\w+ \(closed\)/);
    expect(await page.textContent('dl.facts')).toMatch(/Analysis\s*job-\w+ \(done\)/);
    expect(await page.$('svg.chart')).not.toBeNull();
    await page.close();
  });

  it('passes axe-core (WCAG 2 A/AA) on both pages; works with JavaScript off', async () => {
    const context = await browser.newContext({ bypassCSP: true }); // only to inject axe itself
    const page = await context.newPage();
    for (const path of ['/', '/runs/RUN_LIVE']) {
      await page.goto(`${ops.url}${path}`);
      await page.addScriptTag({ path: AXE });
      const result = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run(
                o: object,
              ): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }>;
            };
          }
        ).axe;
        return axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
      });
      expect(result.violations.map((v) => `${path}: ${v.id} (${v.impact}, ${v.nodes.length})`)).toEqual([]);
    }
    await context.close();
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const p = await noJs.newPage();
    await p.goto(`${ops.url}/`);
    expect(await p.textContent('h1')).toBe('Runs');
    // With scripting off, <noscript> in <head> is parsed as markup: the page refreshes itself.
    expect(await p.getAttribute('meta[http-equiv="refresh"]', 'content')).toBe('10');
    await noJs.close();
  });
});

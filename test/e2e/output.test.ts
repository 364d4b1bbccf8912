import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe as suite, expect, it } from 'vitest';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const e2e = usePlatformAndTempDir();

const ua = (args: string[]) =>
  runUa(['--project', e2e.tp.project, '--do-not-compress', ...args], { env: e2e.tp.env });

suite('output', () => {
  it('--json prints one parseable event per line, ending with a summary, and no plain ID lines', async () => {
    const a = writeRandomFile(join(e2e.tmp.dir, 'j1.bin'), 6 * 1024 * 1024);
    writeRandomFile(join(e2e.tmp.dir, 'j2.bin'), 10);
    const r = await ua([
      '--json',
      '--chunk-size',
      '5M',
      join(e2e.tmp.dir, 'j1.bin'),
      join(e2e.tmp.dir, 'j2.bin'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const done = events.filter((e) => e.type === 'file-done');
    expect(done.map((e) => e.outcome)).toEqual(['uploaded', 'uploaded']);
    expect(events.filter((e) => e.type === 'part-done' && e.order === 0)).toHaveLength(2);
    const summary = events.at(-1);
    expect(summary).toMatchObject({ type: 'summary', ok: 2, failed: 0 });
    const id = done.find((e) => e.localPath.endsWith('j1.bin')).fileId;
    await waitClosed(e2e.tp, id);
    expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(a));
  });

  it('--progress off a terminal prints plain periodic lines and a summary on stderr; stdout stays IDs only', async () => {
    writeRandomFile(join(e2e.tmp.dir, 'p.bin'), 1000);
    const r = await ua(['--progress', join(e2e.tmp.dir, 'p.bin')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^file-[0-9A-Za-z]{24}$/);
    // Cron-friendly (issue 14.6): local ISO time with offset, a start and a done line, a short summary.
    const iso = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d';
    expect(r.stderr).toMatch(new RegExp(`^${iso} start .*p\\.bin \\(1000 B\\)$`, 'm'));
    expect(r.stderr).toMatch(new RegExp(`^${iso} done .*p\\.bin file-\\w+ \\(1000 B in [\\d.]+m?s\\)$`, 'm'));
    expect(r.stderr).toMatch(new RegExp(`^${iso} 1/1 files, 1000 B/1000 B \\(100\\.0%\\), .*ETA 0:00$`, 'm'));
    for (const line of r.stderr.split('\n').filter((l) => / files, /.test(l)))
      expect(line.length).toBeLessThanOrEqual(120);
    const id = r.stdout.trim();
    await waitClosed(e2e.tp, id);
    expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(readFileSync(join(e2e.tmp.dir, 'p.bin'))));
    expect(r.stderr).toMatch(/^Uploaded 1 file/m);
  });

  it('--verify re-describes after close and passes when the platform holds what was sent', async () => {
    const data = writeRandomFile(join(e2e.tmp.dir, 'v.bin'), 11 * 1024 * 1024);
    const r = await ua(['--verify', '--wait-on-close', '--chunk-size', '5M', join(e2e.tmp.dir, 'v.bin')]);
    expect(r.code, r.stderr).toBe(0);
    expect(md5(await downloadFile(e2e.tp, r.stdout.trim()))).toBe(md5(data));
  });
});

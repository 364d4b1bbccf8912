import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { beforeEach, describe as suite, expect, it } from 'vitest';
import { md5, writeTextFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { describe, downloadFile, downloadPlain, listFiles, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();
beforeEach(() => {
  e2e.tp.platform.faults.clear();
  e2e.tp.platform.stats.reset();
});

const ua = (args: string[], stdin: Buffer) =>
  runUa(['--project', e2e.tp.project, '--chunk-size', '5M', ...args], {
    stdin,
    timeoutMs: 120_000,
    env: { ...e2e.tp.env, UA_RETRY_MIN_DELAY_MS: '20' },
  });

/** Every PUT attempt the server saw for `fileId`, as `index:ok|fail`, in arrival order. */
const attempts = (fileId: string) =>
  e2e.tp.platform.stats.partPuts
    .filter((p) => p.fileId === fileId)
    .map((p) => `${p.index}:${p.ok ? 'ok' : 'fail'}`);

suite('stdin with failing part PUTs', () => {
  it('-i: two 500s on part 2 are retried from the kept buffer; the stored bytes are the input', async () => {
    const input = randomBytes(3 * CHUNK + 4321);
    const f = e2e.tp.platform.faults;
    f.add({ target: 'put', action: 'delay', delayMs: 0 }); // part 1 passes
    f.add({ target: 'put', action: 'status', status: 500, count: 2 }); // part 2 fails twice
    const r = await ua(
      ['--do-not-compress', '--upload-threads', '1', '--wait-on-close', '-i', 'piped.bin'],
      input,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(f.pending).toBe(0);
    const id = r.stdout.trim();
    expect(attempts(id)).toEqual(['1:ok', '2:fail', '2:fail', '2:ok', '3:ok', '4:ok']);
    expect(r.stderr).toMatch(/Retrying part 2 of "piped\.bin"/);
    const d = await waitClosed(e2e.tp, id);
    expect(d.name).toBe('piped.bin');
    expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(input));
    expect((await listFiles(e2e.tp)).filter((x) => x.describe.name === 'piped.bin')).toHaveLength(1);
  }, 120_000);

  it('--read-from-stdin, compressed, parallel parts: two 500s, then the object gunzips to the input', async () => {
    const input = writeTextFile(join(e2e.tmp.dir, 'reads.fastq'), 4 * CHUNK + 777);
    e2e.tp.platform.faults.add({ target: 'put', action: 'status', status: 500, count: 2 });
    const r = await ua(['--wait-on-close', '--read-from-stdin', 'reads.fastq'], input);
    expect(r.code, r.stderr).toBe(0);
    expect(e2e.tp.platform.faults.pending).toBe(0);
    const id = r.stdout.trim();
    const index = (a: string) => Number(a.split(':')[0]);
    const failed = attempts(id)
      .filter((a) => a.endsWith(':fail'))
      .map(index);
    const stored = attempts(id)
      .filter((a) => a.endsWith(':ok'))
      .map(index)
      .sort((a, b) => a - b);
    expect(failed).toHaveLength(2);
    expect(new Set(stored).size).toBe(stored.length); // each part stored once
    for (const i of failed) expect(stored).toContain(i); // and a failed one was sent again
    const d = await waitClosed(e2e.tp, id);
    expect(d.name).toBe('reads.fastq.gz');
    const { parts } = await describe(e2e.tp, id, { parts: true });
    expect(
      Object.keys(parts)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(stored);
    expect(md5(await downloadPlain(e2e.tp, id))).toBe(md5(input));
  }, 180_000);
});

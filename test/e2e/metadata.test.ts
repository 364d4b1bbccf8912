import { join } from 'node:path';
import { describe as suite, expect, it } from 'vitest';
import { md5, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { describe, downloadFile, downloadPlain, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const e2e = usePlatformAndTempDir();

const ua = (args: string[]) =>
  runUa(['--project', e2e.tp.project, ...args], { env: e2e.tp.env, timeoutMs: 120_000 });
const ids = (stdout: string) => stdout.trim().split('\n');

suite('file metadata flags, end to end', () => {
  it('--property, --tag, --type, --details and --visibility hidden land on the file', async () => {
    const path = join(e2e.tmp.dir, 'meta.bin');
    const data = writeRandomFile(path, 6 * MiB + 17);
    const details = { sample: 'S1', lanes: [1, 2], qc: { passed: true } };
    const r = await ua([
      '--do-not-compress',
      '--chunk-size',
      '5M',
      '--wait-on-close',
      '--property',
      'run=42',
      '--property',
      'lane=L001',
      '--property',
      'url=https://x.example/?a=b',
      '--tag',
      'raw',
      '--tag',
      'batch 7',
      '--type',
      'Reads',
      '--type',
      'FASTQ',
      '--details',
      JSON.stringify(details),
      '--visibility',
      'hidden',
      path,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [id] = ids(r.stdout);
    await waitClosed(e2e.tp, id);
    const d = await describe(e2e.tp, id, { properties: true, details: true });
    expect(d.properties).toMatchObject({ run: '42', lane: 'L001', url: 'https://x.example/?a=b' });
    expect(d.properties['.system-fileSignature']).toMatch(/^6291473 \d+ 0 5242880 \/.*meta\.bin$/);
    expect([...d.tags].sort()).toEqual(['batch 7', 'raw']);
    expect([...d.types].sort()).toEqual(['FASTQ', 'Reads']);
    expect(d.details).toEqual(details);
    expect(d.hidden).toBe(true);
    expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(data));

    // Without the flags: no user properties, tags, types or details, and visible.
    const plain = join(e2e.tmp.dir, 'plain.bin');
    writeRandomFile(plain, 100);
    const p = await ua(['--do-not-compress', '--wait-on-close', plain]);
    expect(p.code, p.stderr).toBe(0);
    const dp = await describe(e2e.tp, ids(p.stdout)[0], { properties: true, details: true });
    expect(Object.keys(dp.properties)).toEqual(['.system-fileSignature']);
    expect(dp.tags).toEqual([]);
    expect(dp.types).toEqual([]);
    expect(dp.hidden).toBe(false);
  });

  it('--throttle still gives byte-exact files (compressed and not, several parts, two files in one run)', async () => {
    const bin = join(e2e.tmp.dir, 'throttled.bin');
    const text = join(e2e.tmp.dir, 'throttled.fastq');
    const binData = writeRandomFile(bin, 11 * MiB + 3);
    const textData = writeTextFile(text, 2 * MiB + 5);
    const r = await ua(['--throttle', '8M', '--chunk-size', '5M', '--wait-on-close', bin, text]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Uploads are throttled to ${8 * MiB} bytes/sec.`);
    const [binId, textId] = ids(r.stdout);
    const db = await waitClosed(e2e.tp, binId);
    expect(db.name).toBe('throttled.bin.gz');
    expect(Object.keys((await describe(e2e.tp, binId, { parts: true })).parts)).toHaveLength(3);
    expect(md5(await downloadPlain(e2e.tp, binId))).toBe(md5(binData));
    expect(md5(await downloadPlain(e2e.tp, textId))).toBe(md5(textData));

    const raw = await ua(['--throttle', '1M', '--do-not-compress', '--wait-on-close', text]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(md5(await downloadFile(e2e.tp, ids(raw.stdout)[0]))).toBe(md5(textData));
  }, 120_000);
});

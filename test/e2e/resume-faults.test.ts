import { join } from 'node:path';
import { beforeEach, describe as suite, expect, it } from 'vitest';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import {
  classicSignature,
  describe,
  downloadFile,
  listFiles,
  putPart,
  waitClosed,
} from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();
beforeEach(() => {
  e2e.tp.platform.faults.clear();
  e2e.tp.platform.stats.reset();
});

const env = () => ({ ...e2e.tp.env, UA_RETRY_MIN_DELAY_MS: '20' });
const ua = (args: string[], o: Parameters<typeof runUa>[1] = {}) =>
  runUa(['--project', e2e.tp.project, '--do-not-compress', '--chunk-size', '5M', ...args], {
    ...o,
    env: { ...env(), ...o.env },
  });
const firstId = (stdout: string) => stdout.trim().split('\n')[0];
const indexes = (fileId: string) =>
  e2e.tp.platform.stats
    .okPuts(fileId)
    .map((p) => p.index)
    .sort((a, b) => a - b);

suite('resume', () => {
  it('after kill -9 mid-upload, a rerun sends only the missing parts and ends byte-exact', async () => {
    const path = join(e2e.tmp.dir, 'big.bin');
    const data = writeRandomFile(path, 24 * CHUNK + 100);
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 100, count: 10_000 });
    const killed = await ua(['--upload-threads', '2', path], {
      onSpawn: (child) => {
        const t = setInterval(() => {
          if (e2e.tp.platform.stats.okPuts().length >= 6) {
            clearInterval(t);
            child.kill('SIGKILL');
          }
        }, 10);
        child.on('close', () => clearInterval(t));
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const [partial] = (await listFiles(e2e.tp)).filter((f) => f.describe.name === 'big.bin');
    expect(partial.describe.state).toBe('open');
    const before = new Set(
      Object.keys((await describe(e2e.tp, partial.id, { parts: true })).parts).map(Number),
    );
    expect(before.size).toBeGreaterThanOrEqual(6);
    expect(before.size).toBeLessThan(25);

    e2e.tp.platform.faults.clear();
    e2e.tp.platform.stats.reset();
    const rerun = await ua(['--wait-on-close', path]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(firstId(rerun.stdout)).toBe(partial.id);
    const sent = indexes(partial.id);
    expect(sent.filter((i) => before.has(i))).toEqual([]);
    expect(sent.length + before.size).toBe(25);
    await waitClosed(e2e.tp, partial.id);
    expect(md5(await downloadFile(e2e.tp, partial.id))).toBe(md5(data));
    expect((await listFiles(e2e.tp)).filter((f) => f.describe.name === 'big.bin')).toHaveLength(1);
  });

  it('finishes a file half-uploaded under the classic signature, then treats a rerun as done', async () => {
    const path = join(e2e.tmp.dir, 'classic.bin');
    const data = writeRandomFile(path, 4 * CHUNK + 10);
    const created = await e2e.tp.call('file/new', {
      project: e2e.tp.project,
      folder: '/',
      name: 'classic.bin',
      parents: true,
      media: '',
      properties: { '.system-fileSignature': classicSignature(path, CHUNK) },
    });
    const fileId = created.body.id as string;
    await putPart(e2e.tp, fileId, 1, data.subarray(0, CHUNK));
    await putPart(e2e.tp, fileId, 3, data.subarray(2 * CHUNK, 3 * CHUNK));
    e2e.tp.platform.stats.reset();

    const r = await ua(['--wait-on-close', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(firstId(r.stdout)).toBe(fileId);
    expect(indexes(fileId)).toEqual([2, 4, 5]);
    expect(md5(await downloadFile(e2e.tp, fileId))).toBe(md5(data));

    e2e.tp.platform.stats.reset();
    const again = await ua([path]);
    expect(again.code, again.stderr).toBe(0);
    expect(firstId(again.stdout)).toBe(fileId);
    expect(e2e.tp.platform.stats.okPuts()).toHaveLength(0);
  });

  it('several resume candidates fail that file with a clear message; others still upload', async () => {
    const path = join(e2e.tmp.dir, 'twice.bin');
    writeRandomFile(path, 1000);
    const other = join(e2e.tmp.dir, 'other.bin');
    const otherData = writeRandomFile(other, 2000);
    for (let i = 0; i < 2; i++) {
      await e2e.tp.call('file/new', {
        project: e2e.tp.project,
        folder: '/',
        name: `twice-${i}.bin`,
        parents: true,
        properties: { '.system-fileSignature': classicSignature(path, CHUNK) },
      });
    }
    const r = await ua([path, other]);
    expect(r.code).toBe(1);
    const [l1, l2] = r.stdout.trim().split('\n');
    expect(l1).toBe('failed');
    expect(r.stderr).toContain('More than one resumable targets');
    expect(r.stderr).toContain('--do-not-resume');
    expect(md5(await downloadFile(e2e.tp, (await waitClosed(e2e.tp, l2)).id))).toBe(md5(otherData));
  });

  it('--do-not-resume always creates a new object', async () => {
    const path = join(e2e.tmp.dir, 'fresh.bin');
    writeRandomFile(path, 500);
    const a = await ua(['--do-not-resume', path]);
    const b = await ua(['--do-not-resume', path]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(firstId(a.stdout)).not.toBe(firstId(b.stdout));
  });
});

suite('faults', () => {
  it('survives 500s, a dropped PUT, 503 + Retry-After on /upload and a lost /file/new response, byte-exact, no duplicates', async () => {
    const path = join(e2e.tmp.dir, 'faulty.bin');
    const data = writeRandomFile(path, 6 * CHUNK + 3);
    const f = e2e.tp.platform.faults;
    f.add({ target: 'api', route: 'file/new', action: 'drop-response' });
    f.add({ target: 'api', route: 'file-*/upload', action: 'status', status: 503, retryAfter: 1 });
    f.add({ target: 'put', action: 'status', status: 500, count: 2 });
    f.add({ target: 'put', action: 'drop' });
    const r = await ua(['--wait-on-close', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(f.pending).toBe(0);
    const id = firstId(r.stdout);
    expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(data));
    expect((await listFiles(e2e.tp)).filter((x) => x.describe.name === 'faulty.bin')).toHaveLength(1);
    expect((await describe(e2e.tp, id)).state).toBe('closed');
  });

  it('a part that keeps failing fails its file (left open to resume) and exits 1', async () => {
    const path = join(e2e.tmp.dir, 'doomed.bin');
    writeRandomFile(path, 2 * CHUNK);
    e2e.tp.platform.faults.add({ target: 'put', action: 'status', status: 500, count: 1000 });
    const r = await ua(['--tries', '2', path]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toBe('failed');
    expect(r.stderr).toContain('could not be uploaded');
    const [obj] = (await listFiles(e2e.tp)).filter((x) => x.describe.name === 'doomed.bin');
    expect(obj.describe.state).toBe('open');
  });
});

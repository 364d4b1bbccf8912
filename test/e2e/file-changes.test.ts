/**
 * Correct to the byte when a file changes under ua: a file replaced or rewritten during the upload
 * (same size and mtime: `rsync -t`, `cp -p` + `mv`, `touch -r`) is never closed as a mix of two
 * versions, and a resume re-reads every part it would skip and re-sends those that differ.
 */
import { closeSync, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeEach, describe as suite, expect, it } from 'vitest';
import { md5, tempDir, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, listFiles, waitClosed } from '../helpers/remote.js';
import { runUa, type RunUaOptions } from '../helpers/run-ua.js';
import { Journal } from '../../src/state/journal.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();
beforeEach(() => {
  e2e.tp.platform.faults.clear();
  e2e.tp.platform.stats.reset();
});

const ua = (args: string[], o: RunUaOptions = {}) =>
  runUa(['--project', e2e.tp.project, '--chunk-size', '5M', '--upload-threads', '1', ...args], {
    ...o,
    env: { ...e2e.tp.env, UA_RETRY_MIN_DELAY_MS: '20', ...o.env },
  });
const okIndexes = (fileId: string) =>
  [...new Set(e2e.tp.platform.stats.okPuts(fileId).map((p) => p.index))].sort((a, b) => a - b);
const named = async (name: string) => (await listFiles(e2e.tp)).filter((f) => f.describe.name === name);

/** Calls `act` once the server has stored `n` parts, from the test process, while ua runs. */
function whenStored(n: number, act: (child: import('node:child_process').ChildProcess) => void) {
  return {
    onSpawn: (child: import('node:child_process').ChildProcess) => {
      const t = setInterval(() => {
        if (e2e.tp.platform.stats.okPuts().length >= n) {
          clearInterval(t);
          act(child);
        }
      }, 5);
      child.on('close', () => clearInterval(t));
    },
  };
}

/** `touch -r from to`: copies the times to the nanosecond (Node's utimes rounds them). */
const touchRef = (from: string, to: string) => execFileSync('touch', ['-r', from, to]);

/** Writes `fresh` (same size) over `path` in place and restores its times exactly. */
function rewriteInPlace(path: string, fresh = randomBytes(statSync(path).size)): Buffer {
  const before = statSync(path);
  touchRef(path, `${path}.ref`);
  const fd = openSync(path, 'r+');
  writeSync(fd, fresh, 0, fresh.length, 0);
  closeSync(fd);
  touchRef(`${path}.ref`, path);
  const after = statSync(path);
  expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  return fresh;
}

/** `head -c N /dev/urandom > f.tmp; touch -r f f.tmp; mv f.tmp f`. */
function replaceByRename(path: string): Buffer {
  const before = statSync(path);
  const fresh = randomBytes(before.size);
  writeFileSync(`${path}.tmp`, fresh);
  touchRef(path, `${path}.tmp`);
  renameSync(`${path}.tmp`, path);
  expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
  return fresh;
}

suite('a file that changes while it is uploaded', () => {
  for (const [how, change] of [
    ['replaced by a rename', replaceByRename],
    ['rewritten in place', rewriteInPlace],
  ] as const) {
    it(`${how} with the same size and mtime: that file fails, nothing is closed, a rerun uploads the new content`, async () => {
      const path = join(e2e.tmp.dir, `changed-${how.split(' ')[0]}.bin`);
      const name = path.slice(path.lastIndexOf('/') + 1);
      writeRandomFile(path, 8 * CHUNK + 7);
      const other = join(e2e.tmp.dir, `steady-${how.split(' ')[0]}.bin`);
      const steady = writeRandomFile(other, 3 * CHUNK);
      e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 150, count: 10_000 });
      let fresh: Buffer | undefined;
      const run = await ua(
        ['--do-not-compress', '--wait-on-close', path, other],
        whenStored(1, () => (fresh = change(path))),
      );
      expect(fresh).toBeDefined();
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout.trim().split('\n')[0]).toBe('failed');
      expect(run.stderr).toContain(`${path} changed while it was uploaded (`);
      expect(run.stderr).toContain('nothing was closed — rerun to upload the new content');
      // The other file is unaffected and byte-exact.
      const steadyId = run.stdout.trim().split('\n')[1];
      expect(md5(await downloadFile(e2e.tp, (await waitClosed(e2e.tp, steadyId)).id))).toBe(md5(steady));
      const [left] = await named(name);
      expect(left.describe.state).toBe('open');

      e2e.tp.platform.faults.clear();
      const rerun = await ua(['--do-not-compress', '--wait-on-close', path]);
      expect(rerun.code, rerun.stderr).toBe(0);
      const id = rerun.stdout.trim();
      expect(id).toBe(left.id); // same signature: resumed, the stale parts re-sent
      expect(rerun.stderr).toMatch(/on the destination is not this file's content/);
      expect(md5(await downloadFile(e2e.tp, id))).toBe(md5(fresh!));
      expect(await named(name)).toHaveLength(1);
    });
  }

  it('a file that stays the same is unaffected by the checks (many files, byte-exact)', async () => {
    const files = Array.from({ length: 6 }, (_, i) => {
      const p = join(e2e.tmp.dir, `same-${i}.bin`);
      return { p, data: writeRandomFile(p, i * 300_000 + 1) };
    });
    const run = await ua(['--do-not-compress', '--wait-on-close', ...files.map((f) => f.p)]);
    expect(run.code, run.stderr).toBe(0);
    const ids = run.stdout.trim().split('\n');
    for (const [i, f] of files.entries()) expect(md5(await downloadFile(e2e.tp, ids[i]))).toBe(md5(f.data));
  });
});

suite('resume verifies before it trusts', () => {
  it('kill -9, the file rewritten in place with the same size and mtime: the stale parts are re-sent', async () => {
    const path = join(e2e.tmp.dir, 'inplace.bin');
    writeRandomFile(path, 10 * CHUNK + 3);
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 80, count: 10_000 });
    const killed = await ua(
      ['--do-not-compress', path],
      whenStored(4, (c) => c.kill('SIGKILL')),
    );
    expect(killed.signal).toBe('SIGKILL');
    const [partial] = await named('inplace.bin');
    const before = okIndexes(partial.id);
    expect(before.length).toBeGreaterThanOrEqual(4);
    const fresh = rewriteInPlace(path);

    e2e.tp.platform.faults.clear();
    e2e.tp.platform.stats.reset();
    const rerun = await ua(['--do-not-compress', '--wait-on-close', path]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout.trim()).toBe(partial.id);
    // Every part is sent again: the earlier ones because they differ, the rest because they were missing.
    expect(okIndexes(partial.id)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(md5(await downloadFile(e2e.tp, partial.id))).toBe(md5(fresh));
  });

  it('kill -9 and an unchanged file: the parts already there are checked and not sent again', async () => {
    const path = join(e2e.tmp.dir, 'unchanged.bin');
    const data = writeRandomFile(path, 10 * CHUNK + 3);
    e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 80, count: 10_000 });
    const killed = await ua(
      ['--do-not-compress', path],
      whenStored(4, (c) => c.kill('SIGKILL')),
    );
    expect(killed.signal).toBe('SIGKILL');
    const [partial] = await named('unchanged.bin');
    const before = okIndexes(partial.id);
    e2e.tp.platform.faults.clear();
    e2e.tp.platform.stats.reset();
    const rerun = await ua(['--do-not-compress', '--wait-on-close', path]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const sent = okIndexes(partial.id);
    expect(sent.filter((i) => before.includes(i))).toEqual([]);
    expect(sent.length + before.length).toBe(11);
    expect(rerun.stderr).not.toMatch(/not this file's content/);
    expect(md5(await downloadFile(e2e.tp, partial.id))).toBe(md5(data));
  });

  for (const records of ['with', 'without'] as const) {
    it(`compressed, ${records} this machine's record of the parts sent: unchanged parts are skipped, rewritten ones re-sent`, async () => {
      const path = join(e2e.tmp.dir, `reads-${records}.fastq`);
      const data = writeTextFile(path, 5 * CHUNK + 999, 3);
      const state = tempDir('ua-state-');
      const env = { UA_STATE_DIR: state.dir };
      try {
        e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 80, count: 10_000 });
        const killed = await ua([path], { env, ...whenStored(3, (c) => c.kill('SIGKILL')) });
        expect(killed.signal).toBe('SIGKILL');
        const [partial] = await named(`reads-${records}.fastq.gz`);
        const before = okIndexes(partial.id);
        expect(before.length).toBeGreaterThanOrEqual(3);
        e2e.tp.platform.faults.clear();
        e2e.tp.platform.stats.reset();
        const rerunEnv = records === 'with' ? env : { UA_STATE_DIR: join(state.dir, 'elsewhere') };

        // Unchanged: only the missing parts go.
        const resumed = await ua(['--wait-on-close', path], {
          env: rerunEnv,
          ...whenStored(1, (c) => c.kill('SIGKILL')),
        });
        expect(resumed.signal).toBe('SIGKILL');
        const resentEarly = okIndexes(partial.id).filter((i) => before.includes(i));
        expect(resentEarly).toEqual([]);

        // Rewritten in place, same size and mtime: every part the platform holds is stale.
        const fresh = rewriteInPlace(path, Buffer.from(data.toString('latin1').replace(/A/g, 'T'), 'latin1'));
        e2e.tp.platform.stats.reset();
        const rerun = await ua(['--wait-on-close', path], { env: rerunEnv });
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(rerun.stdout.trim()).toBe(partial.id);
        expect(okIndexes(partial.id)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(gunzipSync(await downloadFile(e2e.tp, partial.id)).equals(fresh)).toBe(true);
      } finally {
        state.cleanup();
      }
    });
  }

  it("compressed: a part is checked against this machine's record of its source MD5 when there is one", async () => {
    const path = join(e2e.tmp.dir, 'recorded.fastq');
    const data = writeTextFile(path, 4 * CHUNK + 5, 9);
    const state = tempDir('ua-state-');
    try {
      e2e.tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 80, count: 10_000 });
      const killed = await ua([path], {
        env: { UA_STATE_DIR: state.dir },
        ...whenStored(2, (c) => c.kill('SIGKILL')),
      });
      expect(killed.signal).toBe('SIGKILL');
      const [partial] = await named('recorded.fastq.gz');
      const before = okIndexes(partial.id);
      // A record that says part 1 came from other source bytes: it must be sent again, though
      // compressing the local bytes again would give the platform's part.
      const j = new Journal(state.dir);
      const rec = j.sentPart(partial.id, 1);
      expect(rec).toBeDefined();
      j.recordSentPart(partial.id, 1, { ...rec!, rawMd5: '0'.repeat(32) });
      j.close();
      e2e.tp.platform.faults.clear();
      e2e.tp.platform.stats.reset();
      const rerun = await ua(['--wait-on-close', path], { env: { UA_STATE_DIR: state.dir } });
      expect(rerun.code, rerun.stderr).toBe(0);
      const sent = okIndexes(partial.id);
      expect(sent).toContain(1);
      expect(sent.filter((i) => before.includes(i))).toEqual([1]);
      expect(gunzipSync(await downloadFile(e2e.tp, partial.id)).equals(data)).toBe(true);
      // Closed: its records are gone.
      const after = new Journal(state.dir);
      expect(after.sentPart(partial.id, 2)).toBeUndefined();
      after.close();
    } finally {
      state.cleanup();
    }
  });
});

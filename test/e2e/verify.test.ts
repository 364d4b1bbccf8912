import { join } from 'node:path';
import { beforeEach, describe as suite, expect, it } from 'vitest';
import { md5, writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { classicSignature, downloadFile, putPart, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const MiB = 1024 * 1024;
const CHUNK = 5 * MiB;
const e2e = usePlatformAndTempDir();
beforeEach(() => e2e.tp.platform.stats.reset());

const ua = (args: string[]) =>
  runUa(['--project', e2e.tp.project, '--do-not-compress', '--chunk-size', '5M', ...args], {
    env: e2e.tp.env,
  });

/** An open file under the classic signature of `path`, as an earlier run (classic or ua) leaves it. */
async function halfDone(path: string, name: string): Promise<string> {
  const r = await e2e.tp.call('file/new', {
    project: e2e.tp.project,
    folder: '/',
    name,
    parents: true,
    media: '',
    properties: { '.system-fileSignature': classicSignature(path, CHUNK) },
  });
  expect(r.status).toBe(200);
  return r.body.id as string;
}

suite('--verify', () => {
  // The earlier run stored a part 1 that is not the source's part 1 (the file was rewritten in place
  // with the same size and mtime, so the signature still matches). The resume re-hashes part 1 from
  // the local file before it skips it, finds it differs and sends it again; --verify then passes.
  const cases: Array<[string, (part1: Buffer) => Buffer]> = [
    ['another MD5', (p) => Buffer.from(p.map((b) => b ^ 0xff))],
    ['another size', (p) => Buffer.concat([p, Buffer.from('x')])],
  ];
  for (const [label, corrupt] of cases) {
    it(`re-sends a resumed file's stored part 1 that has ${label}, and verifies the whole`, async () => {
      const name = `bad-${label.replace(/ /g, '-')}.bin`;
      const path = join(e2e.tmp.dir, name);
      const data = writeRandomFile(path, 2 * CHUNK + 1234);
      const fileId = await halfDone(path, name);
      const wrong = corrupt(data.subarray(0, CHUNK));
      await putPart(e2e.tp, fileId, 1, wrong);
      e2e.tp.platform.stats.reset();

      const r = await ua(['--verify', '--wait-on-close', path]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${fileId}\n`);
      expect(
        e2e.tp.platform.stats
          .okPuts(fileId)
          .map((p) => p.index)
          .sort(),
      ).toEqual([1, 2, 3]);
      expect(r.stderr).toContain(
        `part 1 of "${path}" on the destination is not this file's content (${wrong.length} bytes, md5 ${md5(wrong)}); sending it again`,
      );
      expect(r.stderr).not.toContain('verification failed');
      await waitClosed(e2e.tp, fileId);
      expect(md5(await downloadFile(e2e.tp, fileId))).toBe(md5(data));
    });
  }

  it('passes a resumed file whose earlier parts are the source', async () => {
    const path = join(e2e.tmp.dir, 'good.bin');
    const data = writeRandomFile(path, 3 * CHUNK + 5);
    const fileId = await halfDone(path, 'good.bin');
    await putPart(e2e.tp, fileId, 2, data.subarray(CHUNK, 2 * CHUNK));
    e2e.tp.platform.stats.reset();

    const r = await ua(['--verify', '--wait-on-close', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(fileId);
    expect(
      e2e.tp.platform.stats
        .okPuts(fileId)
        .map((p) => p.index)
        .sort(),
    ).toEqual([1, 3, 4]);
    expect(md5(await downloadFile(e2e.tp, fileId))).toBe(md5(data));
  });
});

/**
 * The unchanged `ua` binary uploading into auto-symlink projects through the platform: /upload hands
 * out URLs into s3rver / azurite, the agent PUTs with the returned headers, bytes land in the container.
 * UA_DIRECT=0 keeps the agent off its direct mode, so this is the platform-mediated path only.
 */
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { md5, tempDir, writeRandomFile, writeTextFile } from '../helpers/files.js';
import { describe, downloadFile, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';
import { startSymlinkEnv, type CloudName, type SymlinkEnv } from '../platform/symlink-harness.js';

const MiB = 1024 * 1024;

for (const cloud of ['aws', 'azure'] as CloudName[]) {
  suite(`ua into an auto-symlink project (${cloud})`, () => {
    let env: SymlinkEnv;
    let tmp: ReturnType<typeof tempDir>;
    beforeAll(async () => {
      env = await startSymlinkEnv(cloud);
      tmp = tempDir();
    });
    afterAll(async () => {
      await env?.stop();
      tmp?.cleanup();
    });
    const ua = (args: string[]) =>
      runUa(['--project', env.project, '--wait-on-close', ...args], {
        env: { ...env.tp.env, UA_DIRECT: '0' },
      });

    it('a multi-part file lands byte-exact in the container and is described as a symlink', async () => {
      const path = join(tmp.dir, 'sample.bin');
      const data = writeRandomFile(path, 2 * 5 * MiB + 4321);
      const r = await ua(['--do-not-compress', '--chunk-size', '5M', '--folder', '/e2e', path]);
      expect(r.stderr).not.toContain('ERROR');
      expect(r.code).toBe(0);
      const id = r.stdout.trim();
      const d = await waitClosed(env.tp, id);
      expect(d).toMatchObject({ drive: env.drive, md5: md5(data), size: data.length });
      expect(d.symlinkPath).toEqual({ container: env.container, object: 'incoming/e2e/sample.bin' });
      expect(Object.keys((await describe(env.tp, id, { parts: true })).parts)).toHaveLength(3);
      expect((await env.readObject('incoming/e2e/sample.bin')).equals(data)).toBe(true);
      expect((await downloadFile(env.tp, id)).equals(data)).toBe(true);
    });

    it('a compressed upload stores the gzip object; it gunzips to the source', async () => {
      const path = join(tmp.dir, 'reads.fastq');
      const data = writeTextFile(path, 6 * MiB);
      const r = await ua(['--chunk-size', '5M', path]);
      expect(r.code).toBe(0);
      const d = await waitClosed(env.tp, r.stdout.trim());
      expect(d.name).toBe('reads.fastq.gz');
      const stored = await env.readObject('incoming/reads.fastq.gz');
      expect(md5(stored)).toBe(d.md5);
      expect(gunzipSync(stored).equals(data)).toBe(true);
    });
  });
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const ctx = usePlatformAndTempDir();

describe('ua on SIGINT and SIGTERM', () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${sig}: aborts, exits ${code} with one line saying how to resume; the rerun resumes byte-exact`, async () => {
      const { tp, tmp } = ctx;
      const path = join(tmp.dir, `${sig}.bin`);
      writeRandomFile(path, 12 * 1024 * 1024);
      const args = (...more: string[]) => [
        '--project',
        tp.project,
        '--folder',
        `/${sig}`,
        '--do-not-compress',
        '--chunk-size',
        '5M',
        ...more,
        path,
      ];
      let sent = false;
      const first = await runUa(args('--throttle', '6M', '--json'), {
        env: tp.env,
        onSpawn: (child) =>
          child.stdout!.on('data', (d: Buffer) => {
            // After the first part is stored: a file is open with parts on the server.
            if (!sent && d.toString().includes('"part-done"')) {
              sent = true;
              child.kill(sig);
            }
          }),
      });
      expect(sent).toBe(true);
      expect(first.code).toBe(code);
      expect(first.stderr).toMatch(/interrupted: 1 file left open; rerun the same command to resume\n$/);
      const again = await runUa(args('--json'), { env: tp.env });
      expect(again.code).toBe(0);
      const events = again.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; resumed?: boolean; fileId?: string });
      const start = events.find((e) => e.type === 'file-start')!;
      expect(start.resumed).toBe(true);
      const id = start.fileId!;
      const d = await tp.call(`${id}/describe`, {});
      expect(d.body.state === 'closing' || d.body.state === 'closed').toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect((await downloadFile(tp, id)).equals(readFileSync(path))).toBe(true);
    });
  }
});

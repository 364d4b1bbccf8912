import { renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileChangedError } from '../../../src/errors.js';
import { identityOf } from '../../../src/plan/inputs.js';
import { LocalSource } from '../../../src/read/source.js';
import { tempDir } from '../../helpers/files.js';

const tmp = tempDir('ua-source-');
afterAll(() => tmp.cleanup());

/** An entry as expandInputs plans it: the stat taken when it was listed. */
function planned(name: string, content: string) {
  const absPath = join(tmp.dir, name);
  writeFileSync(absPath, content);
  return { absPath, localPath: absPath, ...identityOf(statSync(absPath)) };
}

const changed = (f: () => void): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FileChangedError);
    return (err as Error).message;
  }
  throw new Error('no FileChangedError');
};

describe('LocalSource', () => {
  it('passes check() while the file is the planned version', () => {
    const e = planned('same.txt', 'hello');
    const s = LocalSource.open(e);
    s.check();
    s.check();
    s.close();
    s.close();
  });

  it('sees a rewrite in place that restores size and mtime (ctime moves)', async () => {
    const e = planned('inplace.txt', 'aaaa');
    const s = LocalSource.open(e);
    await new Promise((r) => setTimeout(r, 20)); // past the kernel's coarse timestamp tick
    execFileSync('touch', ['-r', e.absPath, `${e.absPath}.ref`]);
    writeFileSync(e.absPath, 'bbbb');
    execFileSync('touch', ['-r', `${e.absPath}.ref`, e.absPath]); // nanosecond-exact, as `touch -r` is
    expect(statSync(e.absPath).mtimeMs).toBe(e.mtimeMs);
    expect(changed(() => s.check())).toMatch(/rewritten at .* with the same size and modification time/);
    s.close();
  });

  it('sees a replacement by rename, though the descriptor still reads the old version', () => {
    const e = planned('renamed.txt', 'old!');
    const s = LocalSource.open(e);
    writeFileSync(`${e.absPath}.tmp`, 'new!');
    execFileSync('touch', ['-r', e.absPath, `${e.absPath}.tmp`]);
    expect(statSync(`${e.absPath}.tmp`).mtimeMs).toBe(e.mtimeMs);
    renameSync(`${e.absPath}.tmp`, e.absPath);
    expect(changed(() => s.check())).toContain('it was replaced by another file');
    s.close();
  });

  it('sees truncation, deletion, and a file that changed between planning and open', () => {
    const a = planned('trunc.txt', '123456');
    const s = LocalSource.open(a);
    truncateSync(a.absPath, 3);
    expect(changed(() => s.check())).toContain('size was 6 bytes, now 3');
    s.close();
    const b = planned('gone.txt', 'x');
    const t = LocalSource.open(b);
    unlinkSync(b.absPath);
    expect(changed(() => t.check())).toContain('it is gone (ENOENT)');
    t.close();
    const c = planned('early.txt', 'abc');
    writeFileSync(c.absPath, 'abcd');
    const msg = changed(() => LocalSource.open(c));
    expect(msg).toContain(`${c.absPath} changed while it was uploaded (size was 3 bytes, now 4)`);
    expect(msg).toContain('nothing was closed — rerun to upload the new content');
  });
});

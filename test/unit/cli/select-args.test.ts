import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/args.js';
import { helpText } from '../../../src/cli/help.js';
import { UsageError } from '../../../src/errors.js';

describe('file-selection options and --dry-run', () => {
  it('parse as repeatable lists, in command-line order, and a flag', () => {
    const p = parseArgs([
      ...['--include', '*.fq', '--exclude-from', 'a.txt', '--include', '/sub/**'],
      ...['--exclude-from', 'b.txt', '--files-from', 'l1', '--files-from', 'l2', '--dry-run', 'dir'],
    ]);
    expect(p.options).toMatchObject({
      include: ['*.fq', '/sub/**'],
      excludeFrom: ['a.txt', 'b.txt'],
      filesFrom: ['l1', 'l2'],
      dryRun: true,
    });
    expect(p.positionals).toEqual(['dir']);
    expect(parseArgs(['x']).options).toMatchObject({
      include: [],
      excludeFrom: [],
      filesFrom: [],
      dryRun: false,
    });
  });

  it('--files-from without a directory says so in one line instead of printing the help', () => {
    let err: unknown;
    try {
      parseArgs(['--files-from', 'picked.txt']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).showHelp).toBe(false);
    expect((err as Error).message).toBe(
      '--files-from needs the directory its paths are relative to: ua --files-from picked.txt DIR',
    );
  });

  it('are listed in --help', () => {
    const h = helpText();
    for (const o of ['--include arg', '--exclude-from arg', '--files-from arg', '--dry-run'])
      expect(h).toContain(o);
  });
});

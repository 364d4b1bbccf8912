import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { listFiles } from '../helpers/remote.js';
import { runUa, UA_BIN, type RunUaOptions } from '../helpers/run-ua.js';

/** The undici in node_modules: the one ua sends with. */
const UNDICI = (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp?.stop();
});

/** Closes the reading end of the child's stdout before it writes anything, as `| head -0` would. */
const closedStdout: RunUaOptions['onSpawn'] = (child) => child.stdout!.destroy();

suite('--version and --test', () => {
  it('--version names the undici ua uses, not the one bundled in Node', async () => {
    const r = await runUa(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`\n  undici version: ${UNDICI}\n`);
    expect(r.stdout).toContain(`\n  node version: ${process.versions.node}\n`);
    if (process.versions.undici && process.versions.undici !== UNDICI)
      expect(r.stdout).not.toContain(process.versions.undici);
  });

  it('--test prints the same version block', async () => {
    const r = await runUa(['--test', '--project', tp.project], { env: tp.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`\n  undici version: ${UNDICI}\n`);
    expect(r.stdout).toContain(`${tp.project}: upload allowed`);
  });
});

suite('a closed stdout', () => {
  // Node ignores SIGPIPE, so the write fails with EPIPE; it used to be an unhandled 'error' (stack trace).
  for (const [label, args, env] of [
    ['--test', ['--test', '--project'], true],
    ['--version', ['--version'], false],
  ] as const) {
    it(`ends ${label} quietly with 141 (128 + SIGPIPE), as a shell reports a program cut off by its reader`, async () => {
      const r = await runUa(env ? [...args, tp.project] : [...args], {
        env: env ? tp.env : {},
        onSpawn: closedStdout,
      });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(141);
      expect(r.stderr).toBe('');
    });
  }
});

suite('legacy import flags (README: differences table)', () => {
  it('are checked as the classic agent does, then refused: one line, exit 1, no API call, nothing created', async () => {
    const tmp = tempDir();
    try {
      const reads = join(tmp.dir, 'r1.fq');
      writeFileSync(reads, '@r\nACGT\n+\nFFFF\n');
      tp.platform.stats.reset();
      for (const flags of [['--reads'], ['--variants', '--ref-genome', 'hg19']]) {
        const r = await runUa([...flags, '--project', tp.project, reads], { env: tp.env });
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(
          `ERROR: ${flags[0]} is not supported: this upload agent does not run the legacy import apps; upload the files, then run the import app on them.\n`,
        );
      }
      // The classic checks still come first, with the classic messages.
      const odd = await runUa(['--paired-reads', '--project', tp.project, reads], { env: tp.env });
      expect(odd.code).toBe(1);
      expect(odd.stderr).toBe(
        'ERROR: Even number of files (pairs of left, and right reads) must be provided if --paired-reads flag is present\n',
      );
      expect(tp.platform.stats.apiCalls.size).toBe(0);
      expect(await listFiles(tp)).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });
});

suite('--help and shell completion', () => {
  it('--help prints the grouped options and the examples on stderr, exit 0', async () => {
    const r = await runUa(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    for (const g of [
      'Destination',
      'Metadata',
      'Transfer',
      'Compression',
      'Selecting files',
      'Output',
      'Advanced',
    ])
      expect(r.stderr).toContain(`\n${g}:\n`);
    expect(r.stderr).toContain('\nExamples:\n');
  });

  it('`ua completion bash`, sourced in bash, completes `ua --comp<TAB>` from the option table', () => {
    const tmp = tempDir();
    try {
      // The script calls `ua` from PATH, as an installed one would be.
      symlinkSync(UA_BIN, join(tmp.dir, 'ua'));
      const script = [
        'source <(ua completion bash)',
        'COMP_WORDS=(ua --comp); COMP_CWORD=1; COMP_LINE="ua --comp"; COMP_POINT=${#COMP_LINE}',
        '_ua_yargs_completions',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
      const r = spawnSync('bash', ['-c', script], {
        encoding: 'utf8',
        env: { PATH: `${tmp.dir}:${process.env.PATH}`, HOME: tmp.dir },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([
        '--compress-level',
        '--compress-threads',
        '--compressor',
      ]);
    } finally {
      tmp.cleanup();
    }
  });

  it('`ua completion zsh` prints a compdef script; another shell is one line and exit 1', async () => {
    const zsh = await runUa(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.startsWith('#compdef ua\n')).toBe(true);
    expect(zsh.stdout).toContain('ua --get-yargs-completions');
    const fish = await runUa(['completion', 'fish']);
    expect(fish.code).toBe(1);
    expect(fish.stdout).toBe('');
    expect(fish.stderr).toBe(
      "ERROR: ua completion takes one shell, bash or zsh (got 'fish'); e.g. ua completion bash\n",
    );
  });
});

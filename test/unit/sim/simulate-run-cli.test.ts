import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedRun } from '../../../src/sim/sequencer.js';
import { tempDir } from '../../helpers/files.js';

/** Runs the built `ua-platform` (npm run build first; `npm test` does), as test/platform/cli.test.ts does. */
const BIN = fileURLToPath(new URL('../../../bin/ua-platform.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../../../dist/src/sim/sequencer.js', import.meta.url));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ua-platform simulate-run', () => {
  const tmp = tempDir('ua-sim-cli-');
  afterAll(() => tmp.cleanup());

  it('writes the run a flag set describes, one line per cycle, then the folder and its markers', () => {
    expect(existsSync(BUILT), 'run `npm run build` first').toBe(true);
    const r = cli([
      'simulate-run',
      tmp.dir,
      '--profile',
      'novaseq',
      '--cycles',
      '3',
      '--lanes',
      '1',
      '--tiles',
      '1',
      '--cbcl-size',
      '1K',
      '--speed',
      '10ms',
      '--seed',
      '5',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = expectedRun({
      root: tmp.dir,
      profile: 'novaseq',
      cycles: 3,
      lanes: 1,
      tiles: 1,
      cbclBytes: 1024,
      seed: 5,
    });
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(5);
    // RunInfo, RunParameters, InterOp × 2, then one CBCL per cycle (1 lane × 1 tile).
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^cycle 1\/3 {2}5 files {2}\d+\.\d KiB$/),
      expect.stringMatching(/^cycle 2\/3 {2}6 files {2}\d+\.\d KiB$/),
      expect.stringMatching(/^cycle 3\/3 {2}7 files {2}\d+\.\d KiB$/),
    ]);
    const kib = (want.bytes / 1024).toFixed(1);
    expect(lines.slice(3)).toEqual([
      `run ${want.dir} complete (9 files, ${kib} KiB): RTAComplete.txt, CopyComplete.txt`,
      '',
    ]);
    for (const e of want.entries) expect(statSync(join(want.dir, e.path)).size).toBe(e.size);
    expect(readFileSync(join(want.dir, 'Data/Intensities/BaseCalls/L001/C3.1/L001_1.cbcl')).length).toBe(
      1024,
    );
  });

  it('--stall stops without markers and says so', () => {
    const r = cli([
      'simulate-run',
      tmp.dir,
      '--profile',
      'ont',
      '--cycles',
      '4',
      '--speed',
      '0ms',
      '--stall',
    ]);
    expect(r.code).toBe(0);
    const want = expectedRun({ root: tmp.dir, profile: 'ont', cycles: 4, complete: false });
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^run ${want.dir} stalled after batch 2 \\(\\d+ files, [\\d.]+ [KM]iB\\): no completion markers$`,
      ),
    );
    expect(existsSync(join(want.dir, want.files[0]))).toBe(true);
  });

  it.each([
    [['--profile', 'hiseq'], '--profile must be novaseq, nextseq2000, miseq, ont (got "hiseq")'],
    [['--profile', 'miseq', '--speed', '200'], 'invalid --speed "200"'],
    [['--profile', 'miseq', '--cbcl-size', 'big'], 'invalid --cbcl-size "big"'],
    [['--profile', 'miseq', '--cycles', '0'], '--cycles must be an integer from 1'],
    [
      ['--profile', 'novaseq', '--cycles', '3', '--lanes', '1', '--tiles', '1', '--seed', '5'],
      'run folder already exists',
    ],
    [[], 'Missing required argument: profile'],
  ])('fails %j with one line on stderr and exit 1', (args, message) => {
    const r = cli([
      'simulate-run',
      tmp.dir,
      ...args,
      ...(args.includes('--speed') ? [] : ['--speed', '0ms']),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDaemonArgs } from '../../../src/cli/daemon-args.js';
import { completionMarker, runIdOf, runProfileOf } from '../../../src/daemon/discover/profiles.js';
import { bwRateAt, parseBwlimit, parseDuration, parseListen } from '../../../src/daemon/options.js';
import { tempDir } from '../../helpers/files.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('daemon option grammars', () => {
  it('durations take ms, s, m, h, d and nothing else', () => {
    expect(parseDuration('30s', 'settle')).toBe(30_000);
    expect(parseDuration('10m', 'x')).toBe(600_000);
    expect(parseDuration('24h', 'x')).toBe(86_400_000);
    expect(parseDuration('2d', 'x')).toBe(172_800_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(() => parseDuration('30', 'settle')).toThrow(/--settle "30" is not a duration/);
    expect(() => parseDuration('3x', 'settle')).toThrow(/s, m, h or d/);
  });

  it('--bwlimit is a timetable that wraps at midnight', () => {
    const slots = parseBwlimit('08:00,50M 19:00,off 23:30,1M');
    expect(slots).toEqual([
      { at: 480, rate: 50 * 1024 * 1024 },
      { at: 1140, rate: undefined },
      { at: 1410, rate: 1024 * 1024 },
    ]);
    const at = (h: number, m: number) => bwRateAt(slots, new Date(2026, 11, 2, h, m));
    expect(at(9, 0)).toBe(50 * 1024 * 1024);
    expect(at(20, 0)).toBeUndefined();
    expect(at(23, 45)).toBe(1024 * 1024);
    expect(at(3, 0)).toBe(1024 * 1024); // before 08:00: yesterday's last slot
    expect(() => parseBwlimit('8h,50M')).toThrow(/HH:MM,RATE/);
    expect(() => parseBwlimit('25:00,1M')).toThrow(/HH:MM,RATE/);
    expect(() => parseBwlimit('08:00,fast')).toThrow(/HH:MM,RATE/);
  });

  it('--metrics is HOST:PORT, loopback when only a port is given', () => {
    expect(parseListen('127.0.0.1:9464', 'metrics')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:9464', 'metrics')).toEqual({ host: '::1', port: 9464 });
    expect(parseListen('9464', 'metrics')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(() => parseListen('host:99999', 'metrics')).toThrow(/HOST:PORT/);
  });
});

describe('ua daemon arguments and config file', () => {
  it('a YAML config file sets any option; the command line wins', async () => {
    const file = join(tmp.dir, 'daemon.yaml');
    writeFileSync(
      file,
      'watch: [/data/runs, /data/more]\nproject: seq-core\nsettle: 2m\nstall-after: 2d\nbwlimit: "08:00,10M 18:00,off"\nexclude: ["Thumbnail_Images/**"]\n',
    );
    const c = await parseDaemonArgs(['--config', file, '--settle', '45s'], {});
    expect(c.action).toBe('run');
    if (c.action !== 'run') return;
    expect(c.options.watch).toEqual(['/data/runs', '/data/more']);
    expect(c.options.project).toBe('seq-core');
    expect(c.options.settleMs).toBe(45_000);
    expect(c.options.stallAfterMs).toBe(2 * 86_400_000);
    expect(c.options.bwlimit).toHaveLength(2);
    expect(c.options.exclude).toEqual(['Thumbnail_Images/**']);
    expect(c.options.folder).toBe('/runs');
  });

  it('a JSON config file works too; a broken one is named', async () => {
    const file = join(tmp.dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ watch: ['/w'], project: 'p', profile: 'ont' }));
    const c = await parseDaemonArgs(['--config', file], {});
    expect(c.action === 'run' && c.options.profile).toBe('ont');
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'watch: [unclosed\n');
    await expect(parseDaemonArgs(['--config', bad], {})).rejects.toThrow(/bad.yaml is not valid YAML/);
  });

  it('refuses a token on the command line, and says what is missing', async () => {
    await expect(
      parseDaemonArgs(['--watch', '/w', '--project', 'p', '--auth-token', 'T'], {}),
    ).rejects.toThrow(/DX_SECURITY_CONTEXT/);
    await expect(parseDaemonArgs(['--project', 'p'], {})).rejects.toThrow(/needs --watch DIR/);
    await expect(parseDaemonArgs(['--watch', '/w'], {})).rejects.toThrow(/needs --project P/);
    await expect(
      parseDaemonArgs(['--watch', '/w', '--project', 'p', '--run-workflow', 'job-1'], {}),
    ).rejects.toThrow(/not an applet-xxxx/);
    await expect(parseDaemonArgs(['--watch', '/w', '--project', 'p', '--bogus-flag'], {})).rejects.toThrow(
      /bogus-flag/,
    );
  });

  it('status takes --state-dir; the default follows XDG_STATE_HOME', async () => {
    expect(await parseDaemonArgs(['status', '--json'], { XDG_STATE_HOME: '/x/state' })).toEqual({
      action: 'status',
      stateDir: '/x/state/ua',
      json: true,
    });
  });
});

describe('run profiles', () => {
  it('Illumina: RunInfo.xml makes a run; its <Run Id> names it; the instrument decides the marker', () => {
    const dir = join(tmp.dir, 'ILL');
    mkdirSync(dir, { recursive: true });
    expect(runProfileOf(dir, 'auto')).toBeUndefined();
    writeFileSync(
      join(dir, 'RunInfo.xml'),
      '<RunInfo Version="6"><Run Id="250101_A1_0001_BX" Number="1"><Reads><Read Id="9"/></Reads></Run></RunInfo>',
    );
    expect(runProfileOf(dir, 'auto')).toBe('illumina');
    expect(runProfileOf(dir, 'ont')).toBeUndefined();
    expect(runIdOf(dir, 'illumina', 'ILL')).toBe('250101_A1_0001_BX');
    writeFileSync(
      join(dir, 'RunParameters.xml'),
      '<RunParameters><InstrumentType>NovaSeq6000</InstrumentType></RunParameters>',
    );
    writeFileSync(join(dir, 'RTAComplete.txt'), '');
    expect(completionMarker(dir, 'illumina', {})).toBeUndefined();
    writeFileSync(join(dir, 'CopyComplete.txt'), '');
    expect(completionMarker(dir, 'illumina', {})).toBe('CopyComplete.txt');
  });

  it('ONT: a MinKNOW layout makes a run; final_summary completes it', () => {
    const dir = join(tmp.dir, 'ONT');
    mkdirSync(join(dir, 'pod5_pass'), { recursive: true });
    expect(runProfileOf(dir, 'auto')).toBe('ont');
    expect(completionMarker(dir, 'ont', {})).toBeUndefined();
    writeFileSync(join(dir, 'final_summary_FAX_1234.txt'), 'instrument=x\n');
    expect(completionMarker(dir, 'ont', {})).toBe('final_summary_FAX_1234.txt');
  });
});

describe('one-line errors', () => {
  it("a part PUT's XML error body becomes its code and message", async () => {
    const { oneLine } = await import('../../../src/daemon/ops/log.js');
    const raw = `Request failed with HTTP status code 500, server Response: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>Injected fault: HTTP 500</Message><RequestId>953C</RequestId></Error>'`;
    expect(oneLine(raw)).toBe(
      'Request failed with HTTP status code 500, InternalError: Injected fault: HTTP 500',
    );
    expect(oneLine('a\n  b')).toBe('a b');
    expect(oneLine('x'.repeat(300))).toHaveLength(240);
  });
});

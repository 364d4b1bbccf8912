import { UsageError } from '../../../src/errors.js';
import { describe, expect, it } from 'vitest';
import { helpText, parseArgs } from '../../../src/cli/args.js';

const MiB = 1024 * 1024;
function parseFailure(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).showHelp).toBe(true);
    return err as UsageError;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('gives the classic defaults for a bare file', () => {
    const r = parseArgs(['reads.fq']);
    expect(r.action).toBe('upload');
    expect(r.positionals).toEqual(['reads.fq']);
    expect(r.options).toMatchObject({
      projects: [],
      folders: ['/'],
      names: [],
      chunkSize: 75 * MiB,
      tries: 3,
      readThreads: 2,
      visibility: 'visible',
      doNotCompress: false,
    });
  });

  it('knows every classic short flag', () => {
    const r = parseArgs([
      '-a',
      'TOKEN',
      '-p',
      'P',
      '-f',
      '/F',
      '-n',
      'N',
      '-m',
      '-g',
      '-v',
      '-r',
      '5',
      '-u',
      '4',
      '-c',
      '3',
      '-s',
      '10M',
      '-i',
      'x',
    ]);
    expect(r.options).toMatchObject({
      authToken: 'TOKEN',
      projects: ['P'],
      folders: ['/F'],
      names: ['N'],
      manifest: true,
      progress: true,
      verbose: true,
      tries: 5,
      uploadThreads: 4,
      compressThreads: 3,
      chunkSize: 10 * MiB,
      readFromStdin: true,
    });
    expect(parseArgs(['-e']).action).toBe('env');
    expect(parseArgs(['-h', 'x']).action).toBe('help');
    expect(parseArgs(['-gv', 'x']).options).toMatchObject({ progress: true, verbose: true });
  });

  it('collects repeated flags in order, accepts --opt=value, and keeps --file with the positionals', () => {
    const r = parseArgs([
      '--project=A',
      '-p',
      'B',
      '--folder',
      '/x',
      '--folder=/y',
      '--tag',
      't1',
      '--tag',
      't2',
      '--type',
      'T',
      'a',
      'b',
      '--file',
      'c',
      '--',
      '-d',
    ]);
    expect(r.options.projects).toEqual(['A', 'B']);
    expect(r.options.folders).toEqual(['/x', '/y']);
    expect(r.options.tags).toEqual(['t1', 't2']);
    expect(r.options.types).toEqual(['T']);
    expect(r.positionals).toEqual(['c', 'a', 'b', '-d']);
  });

  it('parses sizes, properties, details, visibility and our options', () => {
    const r = parseArgs([
      '-s',
      '5g',
      '--throttle',
      '2M',
      '--property',
      'k=v=w',
      '--property',
      'run=7',
      '--details',
      '{"a":1}',
      '--visibility',
      'hidden',
      '--compress-level',
      '1',
      '--compressor',
      'zlib',
      '--exclude',
      '*.tmp',
      '--exclude',
      'logs/**',
      '--json',
      '--verify',
      '--recursive',
      '--do-not-compress',
      '--do-not-resume',
      '--wait-on-close',
      '--read-threads',
      '6',
      'x',
    ]);
    expect(r.options).toMatchObject({
      chunkSize: 5 * 1024 * MiB,
      throttle: 2 * MiB,
      uploadThreads: 2, // capped by the throttle while parsing, as classic
      properties: { k: 'v=w', run: '7' },
      details: { a: 1 },
      visibility: 'hidden',
      compressLevel: 1,
      compressor: 'zlib',
      exclude: ['*.tmp', 'logs/**'],
      json: true,
      verify: true,
      recursive: true,
      doNotCompress: true,
      doNotResume: true,
      waitOnClose: true,
      readThreads: 6,
    });
  });

  it('accepts the hidden options', () => {
    const r = parseArgs([
      '--apiserver-protocol',
      'http',
      '--apiserver-host',
      '127.0.0.1',
      '--apiserver-port',
      '8124',
      '--certificate-file',
      'NOVERIFY',
      '--override-file-limit',
      '--reads',
      '--ref-genome',
      'g',
      'x',
    ]);
    expect(r.options).toMatchObject({
      apiserverProtocol: 'http',
      apiserverHost: '127.0.0.1',
      apiserverPort: 8124,
      certificateFile: 'NOVERIFY',
      overrideFileLimit: true,
      reads: true,
      refGenome: 'g',
    });
    expect(parseArgs(['--apiserver-port', '-1', 'x']).options.apiserverPort).toBeUndefined();
  });

  it('passes negative and zero counts through to validate()', () => {
    expect(parseArgs(['-u', '-3', 'x']).options.uploadThreads).toBe(-3);
    expect(parseArgs(['-r', '0', 'x']).options.tries).toBe(0);
  });

  it('dispatches env, version, test, help in the classic order', () => {
    expect(parseArgs(['--version', '--env', '--test', '-h']).action).toBe('env');
    expect(parseArgs(['--version', '--test', '-h']).action).toBe('version');
    expect(parseArgs(['--test', '-h']).action).toBe('test');
    expect(parseArgs(['-h', 'file']).helpExitCode).toBe(0);
    const none = parseArgs(['-p', 'P']);
    expect(none.action).toBe('help');
    expect(none.helpExitCode).toBe(1);
  });

  it('reports parse errors in the classic wording, with help', () => {
    expect(parseFailure(['--foo', 'x']).message).toBe("unrecognised option '--foo'");
    expect(parseFailure(['--foo', 'x']).displayLine).toBe(
      "Error processing arguments: unrecognised option '--foo'",
    );
    expect(parseFailure(['--foo=1', 'x']).message).toBe("unrecognised option '--foo'");
    expect(parseFailure(['-x', 'f']).message).toBe("unrecognised option '-x'");
    expect(parseFailure(['--authToken', 't', 'f']).message).toBe("unrecognised option '--authToken'");
    expect(parseFailure(['-u', 'abc', 'x']).message).toBe(
      "the argument ('abc') for option '--upload-threads' is invalid",
    );
    expect(parseFailure(['-s', '1.5M', 'x']).message).toBe(
      "Invalid size argument: '1.5M'; provide an integer optionally followed by units (B, K, M, or G)",
    );
    expect(parseFailure(['--project']).message).toBe(
      "the required argument for option '--project' is missing",
    );
    expect(parseFailure(['-s', '5M', '-s', '6M', 'x']).message).toBe(
      "option '--chunk-size' cannot be specified more than once",
    );
    expect(parseFailure(['--property', 'novalue', 'x']).message).toBe(
      'Invalid property argument; provide properties in key=value format',
    );
    expect(parseFailure(['--details', '"str"', 'x']).message).toBe(
      'JSON Data must be a JSON object or JSON array',
    );
  });
});

describe('helpText', () => {
  it('has the classic header and lists visible options only', () => {
    const h = helpText();
    expect(h.startsWith('Usage: ua [options] <file> [...]\n\nAvailable options:\n')).toBe(true);
    for (const visible of [
      '-a [ --auth-token ] arg',
      '-r [ --tries ] arg',
      '--recursive',
      '-i [ --read-from-stdin ]',
      '--exclude arg',
      '--compress-level arg',
      '--compressor arg',
    ]) {
      expect(h).toContain(visible);
    }
    for (const hidden of [
      '--file arg', // not '--file' alone: --files-from is listed
      '--apiserver-host',
      '--certificate-file',
      '--override-file-limit',
      '--ref-genome',
      '--paired-reads',
    ]) {
      expect(h).not.toContain(hidden);
    }
    expect(h).toMatch(/--tries.*Attempts per chunk in all/);
  });
});

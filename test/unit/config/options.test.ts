import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  capUploadThreads,
  DEFAULTS,
  defaultCompressThreads,
  defaultOptions,
  parseDetails,
  parseProperties,
  parseSize,
  validate,
  type UaOptions,
} from '../../../src/config/options.js';

const MiB = 1024 * 1024;
const opts = (o: Partial<UaOptions> = {}): UaOptions => ({ ...defaultOptions(), projects: ['P'], ...o });
function validationError(o: Partial<UaOptions>, positionals: string[] = ['a'], ctx?: string): UsageError {
  try {
    validate(opts(o), positionals, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).showHelp).toBe(false);
    expect((err as UsageError).exitCode).toBe(1);
    return err as UsageError;
  }
  throw new Error('validate() accepted the options');
}

describe('parseSize', () => {
  it('reads digits with optional units, upper or lower case, powers of 1024', () => {
    expect(parseSize('0')).toBe(0);
    expect(parseSize('123')).toBe(123);
    expect(parseSize('7B')).toBe(7);
    expect(parseSize('7b')).toBe(7);
    expect(parseSize('4K')).toBe(4096);
    expect(parseSize('4k')).toBe(4096);
    expect(parseSize('75M')).toBe(78_643_200);
    expect(parseSize('75m')).toBe(78_643_200);
    expect(parseSize('2g')).toBe(2 * 1024 * MiB);
    expect(parseSize('1T')).toBe(1024 ** 4);
    expect(parseSize('1t')).toBe(1024 ** 4);
  });

  it('has none of the classic 32-bit overflow bugs: 4G, 5G, 6G are what they say', () => {
    expect(parseSize('4G')).toBe(4 * 1024 ** 3);
    expect(parseSize('5G')).toBe(5_368_709_120);
    expect(parseSize('6G')).toBe(6 * 1024 ** 3);
  });

  it('rejects anything else with the classic text, as a parse error (help shown)', () => {
    for (const bad of [
      '',
      'M',
      '1.5M',
      '-1',
      '10 M',
      '10MB',
      '10KiB',
      ' 10',
      '0x10',
      '8192P',
      '9007199254740992',
      '9000000000000G',
    ]) {
      let err: unknown;
      try {
        parseSize(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UsageError);
      expect((err as UsageError).showHelp).toBe(true);
      expect((err as UsageError).message).toBe(
        `Invalid size argument: '${bad}'; provide an integer optionally followed by units (B, K, M, or G)`,
      );
    }
  });

  it('is exact up to 2^53 − 1', () => {
    expect(parseSize('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseSize('8191T')).toBe(8191 * 1024 ** 4);
  });
});

describe('parseProperties / parseDetails', () => {
  it('splits on the first "=" so a value may contain "="; the last repeated key wins', () => {
    expect(parseProperties(['a=1', 'b=x=y', 'a=2'])).toEqual({ a: '2', b: 'x=y' });
  });
  it('rejects a missing key or value with the classic text', () => {
    for (const bad of ['novalue', '=v', 'k=', '=']) {
      expect(() => parseProperties([bad]), bad).toThrow(
        'Invalid property argument; provide properties in key=value format',
      );
    }
  });
  it('accepts a JSON object or array; empty ones are not sent', () => {
    expect(parseDetails('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(parseDetails('[1]')).toEqual([1]);
    expect(parseDetails('{}')).toBeUndefined();
    expect(parseDetails('[]')).toBeUndefined();
    expect(parseDetails(undefined)).toBeUndefined();
  });
  it('rejects bad JSON and JSON scalars with the classic texts', () => {
    expect(() => parseDetails('{bad')).toThrow(/^Error formating Json Data: /);
    for (const scalar of ['1', '"s"', 'null', 'true']) {
      expect(() => parseDetails(scalar)).toThrow('JSON Data must be a JSON object or JSON array');
    }
  });
});

describe('defaults', () => {
  it('are the classic ones plus ours', () => {
    expect(DEFAULTS.folders).toEqual(['/']);
    expect(DEFAULTS.visibility).toBe('visible');
    expect(DEFAULTS.readThreads).toBe(2);
    expect(DEFAULTS.uploadThreads).toBe(8);
    expect(DEFAULTS.chunkSize).toBe(75 * MiB);
    expect(DEFAULTS.tries).toBe(3);
    expect(DEFAULTS.throttle).toBeUndefined();
    expect(DEFAULTS.compressLevel).toBe(6);
    expect(DEFAULTS.compressor).toBe('libdeflate');
    expect(DEFAULTS.exclude).toEqual([]);
    expect(DEFAULTS.json).toBe(false);
    expect(DEFAULTS.verify).toBe(false);
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });
  it('compress threads = min(8, cores), at least 1', () => {
    expect(defaultCompressThreads(0)).toBe(1);
    expect(defaultCompressThreads(1)).toBe(1);
    expect(defaultCompressThreads(2)).toBe(2);
    expect(defaultCompressThreads(4)).toBe(4);
    expect(defaultCompressThreads(64)).toBe(8);
  });
});

describe('validate', () => {
  it('accepts a plain upload and says nothing', () => {
    expect(validate(opts(), ['a', 'b'])).toEqual([]);
  });

  it('matches names by count (same wording when there are too many)', () => {
    expect(validationError({ names: ['x'] }, ['a', 'b']).message).toBe(
      'Must specify a name for each file; there are 2 files, but only 1 names were provided.',
    );
    expect(validationError({ names: ['x', 'y', 'z'] }, ['a', 'b']).message).toBe(
      'Must specify a name for each file; there are 2 files, but only 3 names were provided.',
    );
    expect(validate(opts({ names: ['x', 'y'] }), ['a', 'b'])).toEqual([]);
  });

  it('needs a project from -p or the config; one applies to all, more must match', () => {
    expect(validationError({ projects: [] }).message).toBe(
      'A project must be specified (or present in environment variables/config file). You may use --project to specify project id/name on command line',
    );
    expect(validate(opts({ projects: [] }), ['a'], 'project-ctx')).toEqual([]);
    expect(validate(opts({ projects: ['one'] }), ['a', 'b', 'c'])).toEqual([]);
    expect(validationError({ projects: ['p1', 'p2'] }, ['a', 'b', 'c']).message).toBe(
      'Must specify a project for each file; there are 3 files, but only 2 projects were provided.',
    );
  });

  it('takes one folder for all or one per file', () => {
    expect(validate(opts({ folders: ['/x'] }), ['a', 'b'])).toEqual([]);
    expect(validate(opts({ folders: ['/x', '/y'] }), ['a', 'b'])).toEqual([]);
    expect(validationError({ folders: ['/x', '/y'] }, ['a', 'b', 'c']).message).toBe(
      'Must specify a folder for each file; there are 3 files, but only 2 folders were provided.',
    );
  });

  it('checks thread counts, chunk size and tries with the classic texts', () => {
    expect(validationError({ readThreads: 0 }).message).toBe('Number of read threads must be positive: 0');
    expect(validationError({ readThreads: 0 }).displayLine).toBe(
      'ERROR: Number of read threads must be positive: 0',
    );
    expect(validationError({ compressThreads: -2 }).message).toBe(
      'Number of compression threads must be positive: -2',
    );
    expect(validationError({ uploadThreads: 0 }).message).toBe(
      'Number of upload threads must be positive: 0',
    );
    expect(validationError({ chunkSize: 5 * MiB - 1 }).message).toBe(
      'Minimum chunk size is 5242880 (5 MB): 5242879',
    );
    expect(validate(opts({ chunkSize: 5 * MiB }), ['a'])).toEqual([]);
    expect(validate(opts({ chunkSize: 5 * 1024 * MiB }), ['a'])).toEqual([]);
    expect(validationError({ chunkSize: 5 * 1024 * MiB + 1 }).message).toBe(
      'Maximum chunk size is 5368709120 (5 GB): 5368709121',
    );
    expect(validationError({ tries: 0 }).message).toBe('Number of tries per chunk must be positive: 0');
    expect(validationError({ compressLevel: 10 }).message).toBe(
      'Compression level must be an integer from 1 to 9: 10',
    );
    expect(validationError({ compressLevel: 0 }).message).toBe(
      'Compression level must be an integer from 1 to 9: 0',
    );
  });

  it('accepts the compressors libdeflate|zlib only, saying which in one line', () => {
    for (const compressor of ['libdeflate', 'zlib'] as const)
      expect(validate(opts({ compressor }), ['a'])).toEqual([]);
    for (const bad of ['gzip', 'ZLIB', '', 'libdeflate '])
      expect(validationError({ compressor: bad as never }).message).toBe(
        `Invalid compressor '${bad}'; use 'libdeflate' or 'zlib'`,
      );
  });

  it('accepts visible|hidden only', () => {
    expect(validate(opts({ visibility: 'hidden' }), ['a'])).toEqual([]);
    expect(validationError({ visibility: 'Hidden' }).message).toBe(
      "Invalid visibility 'Hidden'; use 'visible' or 'hidden'",
    );
  });

  it('rejects details that are not an object or array (programmatic options)', () => {
    expect(validationError({ details: 'text' }).message).toBe(
      'JSON Data must be a JSON object or JSON array',
    );
  });

  it('limits positionals to 1000 unless --override-file-limit', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `f${i}`);
    expect(validationError({}, many).message).toBe(
      'The number of files to upload is limited to 1000; add --override-file-limit to upload more in one run',
    );
    expect(validate(opts({ overrideFileLimit: true }), many)).toEqual([]);
    expect(validate(opts(), many.slice(0, 1000))).toEqual([]);
  });

  it('throttle: error under 4 KiB/s, warning under 256 KiB/s, notice otherwise', () => {
    expect(validationError({ throttle: 4095 }).message).toBe(
      'Uploads are throttled to 4095 bytes/sec, which is less than 4 Kbytes/sec. Choose a larger value.',
    );
    expect(validate(opts({ throttle: 4096 }), ['a'])).toEqual([
      'WARNING: Uploads are throttled to 4096 bytes/sec, which is less than 256 KBytes/sec. We recommend allowing higher speeds for better performance.',
    ]);
    expect(validate(opts({ throttle: 262144 }), ['a'])).toEqual([
      'Uploads are throttled to 262144 bytes/sec.',
    ]);
  });

  it('caps upload threads at one per started MiB/s, without the classic epsilon', () => {
    expect(capUploadThreads(8, undefined)).toBe(8);
    expect(capUploadThreads(8, 512 * 1024)).toBe(1);
    expect(capUploadThreads(8, MiB)).toBe(1); // classic: 2
    expect(capUploadThreads(8, MiB + 1)).toBe(2);
    expect(capUploadThreads(8, 3 * MiB)).toBe(3);
    expect(capUploadThreads(8, 10 * MiB)).toBe(8);
    expect(capUploadThreads(0, 10 * MiB)).toBe(0); // still rejected by validate()
    expect(capUploadThreads(8, 4096)).toBe(1);
  });

  it('stdin: exactly one positional, and no manifest', () => {
    expect(validationError({ readFromStdin: true }, ['a', 'b']).message).toBe(
      'Only one filename can be specified when reading from stdin.',
    );
    expect(validationError({ readFromStdin: true, manifest: true }, ['a']).message).toBe(
      '--manifest cannot be used with --read-from-stdin.',
    );
    expect(validate(opts({ readFromStdin: true }), ['name.txt'])).toEqual([]);
  });

  it('import flags: the classic rules first, then a clear refusal', () => {
    expect(validationError({ reads: true, variants: true, refGenome: 'g' }).message).toBe(
      'Only one of these flags can be used in a single call: --reads, --paired-reads, --mappings, and --variants.',
    );
    expect(validationError({ mappings: true }).message).toBe(
      'Reference Genome must be specified (using --ref-genome flag) if --mappings, or --variants is present.',
    );
    expect(validationError({ refGenome: 'g' }).message).toBe(
      'Reference Genome (--ref-genome) can only be specified if --mappings, or --variants is present.',
    );
    expect(validationError({ pairedReads: true }, ['l', 'r', 'x']).message).toBe(
      'Even number of files (pairs of left, and right reads) must be provided if --paired-reads flag is present',
    );
    expect(validationError({ pairedReads: true }, ['l', 'r']).message).toMatch(
      /^--paired-reads is not supported: /,
    );
    expect(validationError({ variants: true, refGenome: 'g' }).message).toMatch(
      /^--variants is not supported: /,
    );
  });
});

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UaEvent } from '../../../src/accounting/events.js';
import { openLogFile } from '../../../src/accounting/log-file.js';
import { retryDetail } from '../../../src/accounting/retry-detail.js';
import { verboseLog, type Level } from '../../../src/accounting/verbose-log.js';
import { parseArgs } from '../../../src/cli/args.js';
import { ApiCallError, ConnectionError, PartPutError, RunError } from '../../../src/errors.js';
import { FakeClock } from './fakes.js';

const MIB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'ua-vlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collect(level: number, all = false) {
  const lines: string[] = [];
  const sink = verboseLog({ level, all, write: (l: Level, line) => lines.push(`${l} ${line}`) });
  return { lines, sink };
}

const resumed: UaEvent = {
  type: 'file-start',
  order: 0,
  localPath: 'run/reads.fq',
  remoteName: 'reads.fq.gz',
  project: 'project-p',
  fileId: 'file-F',
  size: 160 * MIB,
  resumed: true,
  doneBytes: 68 * MIB,
  plan: { parts: 16, partsDone: 9, chunkSize: 10 * MIB, compress: true, media: 'application/x-gzip' },
};

describe('verbose lines (issue 14.5)', () => {
  it('-v: the plan and the resume point per file; -vv adds parts and API timings', () => {
    const v = collect(1);
    const events: UaEvent[] = [
      { type: 'run-start', files: 1, totalBytes: 160 * MIB },
      resumed,
      { type: 'part-done', order: 0, fileId: 'file-F', index: 10, rawBytes: 10 * MIB, sentBytes: 3 * MIB },
      { type: 'api-call', route: 'file-F/upload', status: 200, ms: 12.4, attempt: 1 },
      {
        type: 'file-done',
        order: 0,
        localPath: 'run/reads.fq',
        fileId: 'file-F',
        outcome: 'resumed',
        bytes: 1,
      },
    ];
    for (const e of events) v.sink(e);
    expect(v.lines).toEqual([
      'INFO run: 1 file, 160 MiB',
      'INFO plan "run/reads.fq" -> "reads.fq.gz" (file-F) in project-p: 160 MiB, 16 parts of 10.0 MiB, gzip level 6',
      'INFO resuming file-F at 42%, 9 of 16 parts on the server',
      'INFO resumed "run/reads.fq" as file-F',
    ]);
    const vv = collect(2);
    for (const e of events) vv.sink(e);
    expect(vv.lines).toContain('DEBUG part 10 of "run/reads.fq" (file-F) stored: 10.0 MiB (3.00 MiB sent)');
    expect(vv.lines).toContain('DEBUG api /file-F/upload 200 in 12 ms');
  });

  it('a part on the server that cannot be verified: in the log file as a warning, not again at -v', () => {
    const e: UaEvent = {
      type: 'part-unverified',
      order: 0,
      fileId: 'file-F',
      index: 3,
      localPath: 'run/reads.fq',
      compressed: true,
      size: 5 * MIB,
      md5: '0123456789abcdef0123456789abcdef',
    };
    // The terminal shows it at every level (cli/output.ts userMessages): -v adds nothing.
    const v = collect(1);
    v.sink(resumed);
    const before = v.lines.length;
    v.sink(e);
    expect(v.lines.length).toBe(before);
    const file = collect(2, true);
    file.sink(e);
    expect(file.lines).toEqual([
      `INFO warning: part 3 of "run/reads.fq" on the destination is not this file's content as this run or the classic agent compresses it (${5 * MIB} bytes, md5 0123456789abcdef0123456789abcdef); sending it again`,
    ]);
  });

  it('says why a file is not compressed', () => {
    const v = collect(1);
    const plain = { ...resumed, resumed: false, doneBytes: 0, remoteName: 'x.bam' };
    v.sink({
      ...plain,
      plan: { ...resumed.plan!, compress: false, media: 'application/x-bam', partsDone: 0 },
    });
    expect(v.lines[0]).toMatch(/, not compressed \(already compressed: application\/x-bam\)$/);
  });

  it('the log file form has retries with the body, failures and the summary, never a token', () => {
    const v = collect(2, true);
    v.sink(resumed);
    v.sink({
      type: 'part-retry',
      order: 0,
      fileId: 'file-F',
      index: 11,
      attempt: 1,
      delayMs: 1200,
      reason: 'x',
      status: 503,
      code: 'SlowDown',
      body: '<Error><Code>SlowDown</Code><Message>Authorization: Bearer tok-SECRET</Message></Error>',
    });
    v.sink({
      type: 'file-done',
      order: 0,
      localPath: 'run/reads.fq',
      fileId: null,
      outcome: 'failed',
      error: 'token=tok-SECRET2 bad',
      bytes: 1,
    });
    expect(v.lines).toContain(
      'INFO retry part 11 of "run/reads.fq" (file-F): HTTP 503 SlowDown; attempt 1 failed, next in 1.2s',
    );
    expect(v.lines.join('\n')).toContain('server said: <Error><Code>SlowDown</Code>');
    expect(v.lines.join('\n')).not.toMatch(/SECRET/);
  });
});

describe('retryDetail', () => {
  it('takes status, code and body from each kind of failure', () => {
    const xml =
      '<?xml version="1.0"?>\n<Error>\n  <Code>SlowDown</Code>\n  <Message>Reduce your rate</Message>\n</Error>';
    expect(retryDetail(new PartPutError(503, xml))).toEqual({
      status: 503,
      code: 'SlowDown',
      body: '<?xml version="1.0"?> <Error> <Code>SlowDown</Code> <Message>Reduce your rate</Message> </Error>',
    });
    const api = new ApiCallError({ route: 'file/new', status: 500, type: 'InternalError', message: 'oops' });
    expect(retryDetail(api)).toEqual({ status: 500, code: 'InternalError', body: 'oops' });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(retryDetail(new ConnectionError('http://127.0.0.1:1/x', reset))).toEqual({ code: 'ECONNRESET' });
  });
});

describe('--log-file', () => {
  it('appends ISO-timestamped lines to a 0600 file, tightening an existing file', () => {
    const path = join(dir, 'ua.log');
    writeFileSync(path, 'earlier run\n');
    chmodSync(path, 0o644);
    const clock = new FakeClock(Date.UTC(2026, 11, 2, 6, 7, 8, 9));
    const log = openLogFile(path, clock);
    log.write('INFO', 'hello');
    log.close();
    log.write('INFO', 'after close: dropped');
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe('earlier run');
    expect(lines[1]).toMatch(
      /^2026-12-0\dT\d\d:\d\d:08\.009[+-]\d\d:\d\d INFO {2}ua .* started \(pid \d+\)$/,
    );
    expect(lines[2]).toMatch(/ INFO {2}hello$/);
    expect(lines).toHaveLength(4);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('a missing directory or a directory as the path is one clear error', () => {
    const missing = () => openLogFile(join(dir, 'no-such-dir', 'ua.log'));
    expect(missing).toThrow(RunError);
    expect(missing).toThrow(
      /^cannot write the log file ".*no-such-dir\/ua\.log": the directory .*no-such-dir does not exist; give --log-file a file in a directory that exists/,
    );
    expect(() => openLogFile(dir)).toThrow(/: it is a directory;/);
  });
});

describe('-v, -vv and --log-file on the command line', () => {
  it('counts -v (also in groups and repeated) up to 2 and takes one --log-file', () => {
    const v = (...a: string[]) => parseArgs([...a, 'f']).options;
    expect(v().verbosity).toBe(0);
    expect(v('-v').verbosity).toBe(1);
    expect(v('-v').verbose).toBe(true);
    expect(v('-vv').verbosity).toBe(2);
    expect(v('-gv', '--verbose').verbosity).toBe(2);
    expect(v('-vvv').verbosity).toBe(2);
    expect(v('--log-file', '/tmp/x.log').logFile).toBe('/tmp/x.log');
    expect(() => parseArgs(['f', '--log-file'])).toThrow(
      /the required argument for option '--log-file' is missing/,
    );
    expect(() => v('--log-file', 'a', '--log-file', 'b')).toThrow(/cannot be specified more than once/);
  });
});

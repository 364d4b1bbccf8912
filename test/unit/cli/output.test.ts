import { describe, expect, it } from 'vitest';
import { fanOut, type UaEvent } from '../../../src/accounting/events.js';
import { ResultLines, errorLine, userInfo, userMessages } from '../../../src/cli/output.js';
import { CaptureStream } from '../accounting/fakes.js';

function done(order: number, outcome: 'uploaded' | 'resumed' | 'already-closed' | 'failed'): UaEvent {
  return {
    type: 'file-done',
    order,
    localPath: `in${order}`,
    fileId: outcome === 'failed' ? null : `file-${String(order).padStart(24, '0')}`,
    outcome,
    error: outcome === 'failed' ? 'boom' : undefined,
    bytes: 1,
  };
}

describe('ResultLines', () => {
  it('prints one line per input in input order, whatever the completion order, at flush only', () => {
    const out = new CaptureStream();
    const r = new ResultLines({ stream: out });
    r.sink({ type: 'run-start', files: 5, totalBytes: 5 });
    for (const e of [
      done(3, 'uploaded'),
      done(0, 'resumed'),
      done(4, 'failed'),
      done(1, 'already-closed'),
      done(2, 'uploaded'),
    ])
      r.sink(e);
    expect(out.text).toBe('');
    r.flush();
    expect(out.text).toBe(
      [
        'file-000000000000000000000000',
        'file-000000000000000000000001',
        'file-000000000000000000000002',
        'file-000000000000000000000003',
        'failed',
      ].join('\n') + '\n',
    );
    r.flush(); // once only
    expect(out.lines()).toHaveLength(5);
  });

  it('prints failed for inputs that never finished (a cancelled run), and keeps the first result', () => {
    const out = new CaptureStream();
    const r = new ResultLines({ stream: out, count: 3 });
    r.record(1, 'file-b');
    r.record(1, null);
    r.flush();
    expect(out.lines()).toEqual(['failed', 'file-b', 'failed']);
  });

  it('treats a failed outcome as failed even if an ID was already known', () => {
    const r = new ResultLines({ stream: new CaptureStream() });
    r.sink({ type: 'file-done', order: 0, localPath: 'a', fileId: 'file-x', outcome: 'failed', bytes: 1 });
    expect(r.lines()).toEqual(['failed']);
  });

  it('stays silent in --json mode and with no inputs', () => {
    const out = new CaptureStream();
    const r = new ResultLines({ stream: out, json: true });
    r.sink(done(0, 'uploaded'));
    r.flush();
    const empty = new ResultLines({ stream: out });
    empty.flush();
    expect(out.text).toBe('');
  });
});

describe('stderr helpers', () => {
  it('writes USERINFO and ERROR lines, scrubbing secrets from errors', () => {
    const err = new CaptureStream();
    userInfo('Uploading file a to file object file-1', err);
    errorLine('bad token Bearer abc.def', err, true);
    expect(err.text).toBe('Uploading file a to file object file-1\n\nERROR: bad token Bearer <redacted>\n');
    const lines: string[] = [];
    errorLine('x', (l) => lines.push(l));
    expect(lines).toEqual(['ERROR: x']);
  });

  it('turns failures, warnings, retries and the summary into human lines', () => {
    const err = new CaptureStream();
    const sink = fanOut(userMessages({ out: err }));
    sink({
      type: 'file-start',
      order: 0,
      localPath: 'reads.fq',
      remoteName: 'reads.fq',
      project: 'p',
      fileId: 'file-1',
      size: 9,
      resumed: false,
      doneBytes: 0,
    });
    sink({
      type: 'part-retry',
      order: 0,
      fileId: 'file-1',
      index: 2,
      attempt: 1,
      delayMs: 1500,
      reason: 'HTTP 503',
    });
    sink({ type: 'api-retry', route: 'file-1/close', attempt: 2, delayMs: 250, reason: 'ECONNRESET' });
    sink({ type: 'warning', message: 'metadata not applied to resumed file' });
    sink(done(0, 'failed'));
    sink({
      type: 'summary',
      ok: 0,
      failed: 1,
      resumed: 0,
      skipped: 0,
      rawBytes: 0,
      sentBytes: 0,
      retries: 2,
      elapsedMs: 1200,
      mbPerSec: 0,
    });
    expect(err.lines()).toEqual([
      'Retrying part 2 of "reads.fq" in 1.5s: HTTP 503 (attempt 1 failed)',
      'Retrying /file-1/close in 0.3s: ECONNRESET (attempt 2 failed)',
      'WARNING: metadata not applied to resumed file',
      'File "in0" could not be uploaded. boom',
      'Uploaded 0 files, 1 failed; 0 B in 1.2s, 0.0 MiB/s; 2 retries',
    ]);
    // A server's XML body: one short line, the body (scrubbed) only with -v.
    const xml = {
      type: 'part-retry' as const,
      order: 0,
      fileId: 'file-1',
      index: 3,
      attempt: 2,
      delayMs: 2000,
      reason: "Request failed with HTTP status code 503, server Response: '<?xml …'",
      status: 503,
      code: 'SlowDown',
      body: '<?xml version="1.0"?> <Error><Code>SlowDown</Code><Message>x?X-Amz-Signature=abc123</Message></Error>',
    };
    const terse = new CaptureStream();
    userMessages({ out: terse })(xml);
    expect(terse.lines()).toEqual([
      'Retrying part 3 of "file-1" in 2.0s: HTTP 503 SlowDown (attempt 2 failed)',
    ]);
    const verbose = new CaptureStream();
    userMessages({ out: verbose, verbose: true })(xml);
    expect(verbose.lines()).toEqual([
      'Retrying part 3 of "file-1" in 2.0s: HTTP 503 SlowDown (attempt 2 failed)',
      '  server said: <?xml version="1.0"?> <Error><Code>SlowDown</Code><Message>x?X-Amz-Signature=<redacted></Message></Error>',
    ]);
    const quiet = new CaptureStream();
    userMessages({ out: quiet, retries: false })({
      type: 'api-retry',
      route: 'r',
      attempt: 1,
      delayMs: 1,
      reason: 'x',
    });
    expect(quiet.text).toBe('');
  });
});

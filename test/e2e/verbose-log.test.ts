/**
 * -v and --log-file through real uploads to ua-platform (issue 14.5): a first run fails its last part
 * (an injected 400, not retried) and leaves the file open; the rerun resumes it through an injected
 * 500 (retried). The terminal (-v) and the log file must tell the plan, the resume point and the
 * retry with the server's body; the log file also the API timings; never the token.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRandomFile } from '../helpers/files.js';
import { usePlatformAndTempDir } from '../helpers/platform.js';
import { downloadFile, waitClosed } from '../helpers/remote.js';
import { runUa } from '../helpers/run-ua.js';

const ctx = usePlatformAndTempDir();
const ISO_MS = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d';

describe('-v and --log-file (issue 14.5)', () => {
  it('tells the plan, the resume point and each retry with its body; the log has timings, no token, mode 0600', async () => {
    const { tp, tmp } = ctx;
    const path = join(tmp.dir, 'reads.bin');
    const data = writeRandomFile(path, 12 * 1024 * 1024);
    const log = join(tmp.dir, 'ua.log');
    const run = (...more: string[]) =>
      runUa(
        [
          '--project',
          tp.project,
          '--folder',
          '/vlog',
          '--do-not-compress',
          '--chunk-size',
          '5M',
          '-u',
          '1',
          ...more,
          path,
        ],
        { env: { ...tp.env, UA_RETRY_MIN_DELAY_MS: '10' } },
      );
    // Run 1: parts 1 and 2 are stored, part 3 is refused for good: the file stays open.
    tp.platform.faults.add({ target: 'put', action: 'delay', delayMs: 0, count: 2 });
    tp.platform.faults.add({ target: 'put', action: 'status', status: 400 });
    const first = await run('--log-file', log);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout.trim()).toBe('failed');
    // Run 2, -v: resumes; part 3 fails once with a 500 and is retried.
    tp.platform.faults.add({ target: 'put', action: 'status', status: 500 });
    const second = await run('-v', '--log-file', log);
    expect(second.code, second.stderr).toBe(0);
    const id = second.stdout.trim();
    expect(id).toMatch(/^file-\w{24}$/);
    await waitClosed(tp, id);
    expect((await downloadFile(tp, id)).equals(data)).toBe(true);

    // The terminal at -v.
    const err = second.stderr;
    expect(err).toMatch(
      new RegExp(
        `^INFO: plan ".*reads\\.bin" -> "reads\\.bin" \\(${id}\\) in ${tp.project}: 12\\.0 MiB, 3 parts of 5\\.00 MiB, not compressed \\(--do-not-compress\\)$`,
        'm',
      ),
    );
    expect(err).toContain(`INFO: resuming ${id} at 83%, 2 of 3 parts on the server\n`);
    expect(err).toMatch(
      /^Retrying part 3 of ".*reads\.bin" in [\d.]+s: HTTP 500 InternalError \(attempt 1 failed\)$/m,
    );
    expect(err).toMatch(/^ {2}server said: .*<Code>InternalError<\/Code>.*Injected fault: HTTP 500/m);
    expect(err).not.toMatch(/^DEBUG/m); // -vv detail stays in the log file

    // The log file: both runs appended, -vv detail, ISO timestamps with milliseconds and offset.
    const text = readFileSync(log, 'utf8');
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(new RegExp(`^${ISO_MS} (INFO |DEBUG|ERROR) `));
    expect(lines.filter((l) => / INFO {2}ua .* started \(pid \d+\)$/.test(l))).toHaveLength(2);
    expect(text).toMatch(
      new RegExp(
        ` INFO  plan ".*reads\\.bin" -> "reads\\.bin" \\(${id}\\) in ${tp.project}: 12\\.0 MiB, 3 parts`,
      ),
    );
    expect(text).toContain(` INFO  resuming ${id} at 83%, 2 of 3 parts on the server\n`);
    expect(text).toMatch(
      new RegExp(
        ` INFO  retry part 3 of ".*reads\\.bin" \\(${id}\\): HTTP 500 InternalError; attempt 1 failed, next in [\\d.]+s\\n`,
      ),
    );
    expect(text).toMatch(/ INFO {2}\s{2}server said: .*Injected fault: HTTP 500/);
    expect(text).toMatch(/ INFO {2}failed ".*reads\.bin": Request failed with HTTP status code 400/);
    expect(text).toMatch(new RegExp(` DEBUG api /${id}/upload 200 in \\d+ ms\\n`));
    expect(text).toMatch(/ DEBUG api \/file\/new 200 in \d+ ms\n/);
    expect(text).toMatch(new RegExp(` DEBUG part 1 of ".*reads\\.bin" \\(${id}\\) stored: 5\\.00 MiB\\n`));
    expect(text).toMatch(/ INFO {2}Uploaded 1 file \(1 resumed\); 2\.00 MiB in [\d.]+m?s, .*; 1 retry\n$/);
    expect(text).not.toContain(tp.token);
    expect(second.stderr + first.stderr).not.toContain(tp.token);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('a --log-file in a directory that does not exist is one clear line and exit 1, before any upload', async () => {
    const { tp, tmp } = ctx;
    const path = join(tmp.dir, 'never.bin');
    writeRandomFile(path, 10);
    const r = await runUa(['--project', tp.project, '--log-file', join(tmp.dir, 'nope', 'ua.log'), path], {
      env: tp.env,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^ERROR: cannot write the log file ".*nope\/ua\.log": the directory .*nope does not exist; give --log-file a file in a directory that exists and that you can write to\n$/,
    );
  });
});

/**
 * `--log-file PATH`: the -vv log (verbose-log.ts), whatever the terminal shows, one line per event
 * with the local time in ISO 8601 (milliseconds and offset). The file is appended to (a cron job's
 * runs follow each other in one file, each starting with a `started` line) and is made 0600: it
 * names files, projects and paths. It is written synchronously, so what a crash or a kill -9 leaves
 * behind is complete up to the last event.
 */
import { closeSync, fchmodSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RunError } from '../errors.js';
import { UA_VERSION } from '../version.js';
import { isoLocal } from './format.js';
import type { Level } from './verbose-log.js';
import { type Clock, systemClock } from './rate-window.js';

export interface LogFile {
  readonly path: string;
  write(level: Level, line: string): void;
  close(): void;
}

/** Opens (creates, 0600) the log for appending; a RunError (exit 1) with one clear line otherwise. */
export function openLogFile(path: string, clock: Clock = systemClock): LogFile {
  const abs = resolve(path);
  const fail = (why: string, cause?: unknown): never => {
    throw new RunError(
      'UA_ERR_LOG_FILE',
      `cannot write the log file "${path}": ${why}; give --log-file a file in a directory that exists and that you can write to`,
      1,
      cause,
    );
  };
  let dirOk = false;
  try {
    dirOk = statSync(dirname(abs)).isDirectory();
  } catch {
    // reported below
  }
  if (!dirOk) fail(`the directory ${dirname(abs)} does not exist`);
  let fd: number | undefined;
  try {
    fd = openSync(abs, 'a', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    fail(
      e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message,
      err,
    );
  }
  try {
    // An existing file keeps its mode on open; the log names files and paths, so it is made private.
    // Only a regular file: `--log-file /dev/stderr` must not change the terminal's mode.
    if (fstatSync(fd!).isFile()) fchmodSync(fd!, 0o600);
  } catch {
    // not ours to change (another user's file we may append to): leave its mode alone
  }
  let open = true;
  const log: LogFile = {
    path: abs,
    write(level, line) {
      if (!open) return;
      // A multi-line message (a refusal's diagnosis) gets its prefix on every line: grep finds each.
      const head = `${isoLocal(clock.now(), true)} ${level.padEnd(5)} `;
      writeSync(
        fd!,
        line
          .split('\n')
          .map((l) => `${head}${l}\n`)
          .join(''),
      );
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd!);
    },
  };
  log.write('INFO', `ua ${UA_VERSION} started (pid ${process.pid})`);
  return log;
}

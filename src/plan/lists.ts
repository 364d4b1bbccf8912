/**
 * The list files of `--exclude-from` and `--files-from`, read as rclone reads them: one entry per
 * line, leading and trailing blanks stripped, blank lines and lines starting with `#` or `;` skipped
 * (no inline comments: a `#` later in a line is part of the name). `-` reads standard input.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export function readList(file: string, option: string): string[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : e.code === 'EISDIR'
          ? 'it is a directory'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
    throw new UsageError(
      `${option} "${file}": cannot read it (${why}); give a text file with one entry per line`,
    );
  }
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    out.push(line);
  }
  return out;
}

/** Standard input can be read once: by one list, or by --read-from-stdin. */
export function checkStdinLists(o: {
  excludeFrom?: readonly string[];
  filesFrom?: readonly string[];
  readFromStdin: boolean;
}): void {
  const lists = [
    ...(o.excludeFrom ?? []).filter((f) => f === '-').map(() => '--exclude-from -'),
    ...(o.filesFrom ?? []).filter((f) => f === '-').map(() => '--files-from -'),
  ];
  if (lists.length > 1 || (lists.length === 1 && o.readFromStdin))
    throw new UsageError(
      `${[...lists, ...(o.readFromStdin ? ['--read-from-stdin'] : [])].join(' and ')} would all read standard input; give the lists as files`,
    );
}

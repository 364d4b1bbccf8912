/**
 * `--files-from LIST`: exactly the files named in LIST, each a path relative to the one directory
 * argument (rclone's "source root"), uploaded where a recursive walk of that directory would put
 * it, in the order of the list (a path listed twice once). A leading `/` is dropped, so a list of
 * absolute paths works with `/` as the root, as in rclone.
 *
 * Differences from rclone, on purpose: a listed path that does not exist, is a directory, or leads
 * outside the root is an error before anything is uploaded (rclone skips a missing name silently;
 * ua refuses a missing file argument too), and other filter options are refused rather than ignored.
 */
import { statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { UsageError } from '../errors.js';
import { readList } from './lists.js';

export interface ListedFile {
  path: string;
  /** Directory below the root, '' for its top level. */
  relDir: string;
  st: Stats;
}

export function listedFiles(root: string, lists: readonly string[]): ListedFile[] {
  const seen = new Set<string>();
  const out: ListedFile[] = [];
  for (const list of lists) {
    for (const entry of readList(list, '--files-from')) {
      const where = `"${entry}" (listed in --files-from ${list})`;
      const rel = posix.normalize(entry.replace(/\\/g, '/').replace(/^\/+/, ''));
      if (rel === '.' || rel === '..' || rel.startsWith('../'))
        throw new UsageError(`${where} is not a file below "${root}"; list paths relative to it`);
      if (seen.has(rel)) continue;
      seen.add(rel);
      const path = join(root, rel);
      let st: Stats;
      try {
        st = statSync(path);
      } catch {
        throw new UsageError(`${where} does not exist under "${root}"; fix the list or the directory`);
      }
      if (st.isDirectory())
        throw new UsageError(`${where} is a directory; --files-from lists files, one per line`);
      if (!st.isFile()) throw new UsageError(`${where} is not a regular file`);
      const slash = rel.lastIndexOf('/');
      out.push({ path, relDir: slash < 0 ? '' : rel.slice(0, slash), st });
    }
  }
  return out;
}

/** The combinations --files-from cannot take, as one line each (rclone: "cannot be combined"). */
export function checkFilesFrom(
  o: {
    filesFrom?: readonly string[];
    include?: readonly string[];
    exclude: readonly string[];
    excludeFrom?: readonly string[];
    manifest: boolean;
    readFromStdin: boolean;
  },
  positionals: readonly string[],
): void {
  if (!o.filesFrom?.length) return;
  const other = o.include?.length
    ? '--include'
    : o.exclude.length
      ? '--exclude'
      : o.excludeFrom?.length
        ? '--exclude-from'
        : o.manifest
          ? '--manifest'
          : o.readFromStdin
            ? '--read-from-stdin'
            : undefined;
  if (other)
    throw new UsageError(
      `--files-from cannot be combined with ${other}: the list alone says which files to upload`,
    );
  if (positionals.length !== 1)
    throw new UsageError(
      `--files-from needs exactly one directory argument, the root its paths are relative to (e.g. ua --files-from list.txt /data/run42); got ${positionals.length}`,
    );
  let dir = false;
  try {
    dir = statSync(positionals[0]).isDirectory();
  } catch {
    // reported below
  }
  if (!dir)
    throw new UsageError(
      `--files-from needs a directory argument, the root its paths are relative to; "${positionals[0]}" is not a directory`,
    );
}

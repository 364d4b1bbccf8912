/**
 * Whether a file is still the version that was planned (device, inode, size, mtime, ctime). It lives
 * here, beside the worker, because the part workers check it too: a tar batch's members are opened
 * by the worker that reads them (read/tar-source.ts), and a worker bundle may import only src/work.
 * read/source.ts re-exports it for the main thread.
 */

/** What identifies one version of one file; the optional fields are unknown for hand-made entries. */
export interface PlannedIdentity {
  size: number;
  mtimeMs: number;
  dev?: number;
  ino?: number;
  ctimeMs?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** How `now` differs from `was` (the first difference found, for the user), or undefined when it is the same file. */
export function identityChange(was: PlannedIdentity, now: Required<PlannedIdentity>): string | undefined {
  if ((was.dev !== undefined && was.dev !== now.dev) || (was.ino !== undefined && was.ino !== now.ino))
    return 'it was replaced by another file';
  if (was.size !== now.size) return `size was ${was.size} bytes, now ${now.size}`;
  if (was.mtimeMs !== now.mtimeMs) return `modified at ${iso(now.mtimeMs)}, planned at ${iso(was.mtimeMs)}`;
  if (was.ctimeMs !== undefined && was.ctimeMs !== now.ctimeMs)
    return `rewritten at ${iso(now.ctimeMs)} with the same size and modification time`;
  return undefined;
}

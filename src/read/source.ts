/**
 * One local file as one upload reads it: a single descriptor opened once, and the file's identity
 * (device, inode, size, mtime, ctime) as planned. Every part is read from that descriptor, so a file
 * replaced by a rename (`rsync -t`, `cp -p` + `mv`, an editor's atomic save) cannot feed the upload
 * parts of two versions; `check()` after the last part is read and before close proves that what was
 * read is the version that was planned:
 * - the descriptor's own stat must still be the planned one: ctime changes on every write, and no
 *   user can set it back, so a rewrite in place that restores size and mtime (`touch -r`) is seen;
 * - the path must still name that inode: a replaced file fails too, since the user expects the
 *   path's current content, which was not read.
 * Stdin has no source; it is exempt.
 */
import { closeSync, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { FileChangedError } from '../errors.js';
import { identityOf, type FileIdentity, type UploadEntry } from '../plan/inputs.js';
import { identityChange } from '../work/identity.js';
import type { PartTaskInput } from '../work/part-task.js';
import { TarSource } from './tar-source.js';

export { identityChange } from '../work/identity.js';

/** Where a part job reads its bytes: one descriptor, or segments (a tar batch). */
export type PartRead = Pick<PartTaskInput, 'fd' | 'segments' | 'path'>;

/**
 * An open local source of one upload: what each part reads, and the check before close. LocalSource
 * is one file; TarSource (tar-source.ts) is a tar batch laid out over its members.
 */
export interface PartSource {
  /** As the user (or the daemon) named it, for messages. */
  readonly path: string;
  /** The part job's read fields for bytes [offset, offset + length) of the source. */
  reader(offset: number, length: number): PartRead;
  /** Throws FileChangedError unless everything read is still the planned version. */
  check(): void;
  close(): void;
}

/** Opens the local source of a (non-stdin) entry: its file, or its tar batch's members. */
export function openSource(entry: UploadEntry): PartSource {
  return entry.tar ? TarSource.open(entry.tar, entry.localPath) : LocalSource.open(entry);
}

export class LocalSource implements PartSource {
  /** As the user gave it (for messages). */
  readonly path: string;
  readonly absPath: string;
  readonly fd: number;
  readonly #planned: FileIdentity;
  #closed = false;

  private constructor(path: string, absPath: string, fd: number, planned: FileIdentity) {
    this.path = path;
    this.absPath = absPath;
    this.fd = fd;
    this.#planned = planned;
  }

  /**
   * Opens the entry's file and checks that the descriptor is the file that was planned. Throws
   * FileChangedError when it is not, or a system error (ENOENT, EACCES …) when it cannot be opened.
   */
  static open(
    entry: Pick<UploadEntry, 'absPath' | 'localPath' | 'size' | 'mtimeMs' | 'dev' | 'ino' | 'ctimeMs'>,
  ): LocalSource {
    const fd = openSync(entry.absPath, 'r');
    const source = new LocalSource(entry.localPath, entry.absPath, fd, entry);
    try {
      source.#compare(identityOf(fstatSync(fd)));
    } catch (err) {
      source.close();
      throw err;
    }
    return source;
  }

  reader(): PartRead {
    return { fd: this.fd, path: this.path };
  }

  /** Throws FileChangedError unless the descriptor and the path are still the planned version. */
  check(): void {
    if (this.#closed) throw new Error(`${this.path}: check() after close()`);
    // The path first: a rename over the file or an unlink also moves the old inode's ctime (its link
    // count changed), and "replaced" / "gone" says more than "rewritten".
    let now: Stats;
    try {
      now = statSync(this.absPath);
    } catch (err) {
      throw new FileChangedError(this.path, `it is gone (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    this.#compare(identityOf(now));
    this.#compare(identityOf(fstatSync(this.fd)));
  }

  #compare(now: Required<FileIdentity>): void {
    const change = identityChange(this.#planned, now);
    if (change) throw new FileChangedError(this.path, change);
  }

  /** Closes the descriptor; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.fd);
  }
}

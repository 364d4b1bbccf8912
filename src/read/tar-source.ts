/**
 * A tar batch as one upload reads it: the archive laid out over its member files (tar-layout.ts),
 * each part assembled from in-memory header/padding bytes and ranges of the members, with no copy of
 * the archive on disk.
 *
 * Descriptors: a batch may have thousands of members, so it does not hold one per member as
 * LocalSource does. Each part's worker opens the members that part covers, checks each descriptor is
 * the planned version (device, inode, size, mtime, ctime) before reading it, and closes it when the
 * part is read (work/part-task.ts). So a batch holds no descriptor between parts and at most one per
 * worker thread while reading, however many members it has and however many batches are in flight;
 * and no descriptor is ever closed here while a worker may still read it (an LRU of descriptors shared
 * with the workers would need every part to pin the ones it uses, and a missed pin would read the
 * wrong file into a part silently). Each member is opened once per part it spans, which for files
 * smaller than a part is once in all.
 *
 * The guarantee is LocalSource's: `open()` and `check()` (after the last part, before close) stat
 * every member path, and each open in a worker checks the descriptor. The path must name the planned
 * inode with the planned ctime at the end, and ctime moves on every write and cannot be set back, so
 * the bytes read are one version of each member; a member replaced, rewritten (even with size and
 * mtime restored), truncated or deleted fails the batch with FileChangedError naming it.
 */
import { statSync } from 'node:fs';
import { FileChangedError } from '../errors.js';
import { identityOf, type FileIdentity } from '../plan/inputs.js';
import { identityChange } from '../work/identity.js';
import type { PartSegment } from '../work/part-task.js';
import type { TarLayout } from './tar-layout.js';
import type { PartRead, PartSource } from './source.js';

/** One member's file on disk and its planned identity (size must be the layout's). */
export interface TarSourceFile extends FileIdentity {
  absPath: string;
}

/** A planned tar batch: its layout and, for member i of the layout, files[i]. */
export interface TarBatch {
  layout: TarLayout;
  files: readonly TarSourceFile[];
}

export class TarSource implements PartSource {
  /** The batch as the caller named it (for messages); the members are named by their own paths. */
  readonly path: string;
  readonly #batch: TarBatch;
  #closed = false;

  private constructor(batch: TarBatch, path: string) {
    this.#batch = batch;
    this.path = path;
  }

  /**
   * Checks that every member is still the planned version, so a batch that changed before its upload
   * fails before any part is sent. Throws FileChangedError naming the first member that is not.
   */
  static open(batch: TarBatch, path: string): TarSource {
    const { layout, files } = batch;
    if (files.length !== layout.members.length || files.some((f, i) => f.size !== layout.members[i].size))
      throw new Error(`${path}: the batch's files do not match its layout`);
    const source = new TarSource(batch, path);
    source.#checkMembers();
    return source;
  }

  reader(offset: number, length: number): PartRead {
    const { layout, files } = this.#batch;
    const segments = layout.segments(offset, length).map((s): PartSegment => {
      if (s.kind === 'bytes') return { bytes: s.bytes };
      if (s.kind === 'zeros') return { zeros: s.length };
      const f = files[s.member];
      const identity = { size: f.size, mtimeMs: f.mtimeMs, dev: f.dev, ino: f.ino, ctimeMs: f.ctimeMs };
      return { file: f.absPath, path: f.absPath, identity, offset: s.offset, length: s.length };
    });
    return { segments, path: this.path };
  }

  /** Throws FileChangedError unless every member path still names its planned version. */
  check(): void {
    if (this.#closed) throw new Error(`${this.path}: check() after close()`);
    this.#checkMembers();
  }

  /** Holds no descriptor (the workers open and close the members): only marks the source closed. */
  close(): void {
    this.#closed = true;
  }

  #checkMembers(): void {
    for (const f of this.#batch.files) {
      let now;
      try {
        now = identityOf(statSync(f.absPath));
      } catch (err) {
        throw new FileChangedError(
          f.absPath,
          `it is gone (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      const change = identityChange(f, now);
      if (change) throw new FileChangedError(f.absPath, change);
    }
  }
}

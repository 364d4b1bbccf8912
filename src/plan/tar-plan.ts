/**
 * A tar batch as one scheduled upload: the daemon's `--layout tar` (dx-streaming-upload's
 * `run.<RUNID>.lane.all_NNN.tar`), uploaded straight from the member files (read/tar-source.ts).
 *
 * The plan mirrors planFile's for a single file, with what a tar batch needs instead: never
 * compressed (dx-streaming-upload uploads its tars with `--do-not-compress`), media
 * `application/x-tar`, and a `.system-fileSignature` derived from the batch itself — the remote
 * folder and name, the chunk size and every member's name, size, mtime, mode and inode — so the same
 * batch planned again after a crash finds its open file and resumes it by part (the engine re-reads
 * and compares each stored part's MD5 before it skips it), and a different batch never does. Its
 * shape is the classic one (`<size> <mtime> 0 <chunk> <identity>`), with `ua-tar-v1:<sha256>` where a
 * path would be: it cannot equal a classic signature, whose last field is an absolute path, and a
 * change of the layout's bytes in a later version changes the tag.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { defaultOptions } from '../config/options.js';
import { TarLayout, type TarMember } from '../read/tar-layout.js';
import type { TarSourceFile } from '../read/tar-source.js';
import type { ScheduledFile } from '../transfer/work-item.js';
import { identityOf, type UploadEntry } from './inputs.js';
import { effectiveChunkSize, partsOf } from './parts.js';
import type { FilePlan } from './plan.js';
import { SIGNATURE_PROPERTY } from './signature.js';

export const TAR_MEDIA = 'application/x-tar';
/** Bumped whenever the archive's bytes for the same members would change. */
const SIGNATURE_TAG = 'ua-tar-v1';

/** One member: where it goes in the archive, the file on disk, and the version planned. */
export interface TarBatchMember extends TarMember, TarSourceFile {}

/** Where the batch goes and the metadata it gets. */
export interface TarRemote {
  projectId: string;
  folder: string;
  /** The remote name as is, e.g. `run.<RUNID>.lane.all_001.tar` (nothing is appended). */
  name: string;
  /** User properties; the signature property is added (and wins over one of that name). */
  properties?: Record<string, string>;
  tags?: string[];
  types?: string[];
  details?: unknown;
  hidden?: boolean;
}

export interface TarPlanOptions {
  /** The batch's order in the session (its result's and events' `order`). Default 0. */
  order?: number;
  /** Part size before the 10,000-part raise. Default: ua's (75 MiB; 30 MiB on Windows). */
  chunkSize?: number;
  /** What results and messages call the batch. Default `<folder>/<name>`. */
  localPath?: string;
}

/**
 * A member as its file is now: `name` inside the archive, size and identity from a stat of `absPath`
 * (symlinks followed). For callers without a stat of their own; the daemon passes what it settled.
 */
export function tarMember(absPath: string, name: string, mode?: number): TarBatchMember {
  return { name, absPath, ...identityOf(statSync(absPath)), ...(mode !== undefined ? { mode } : {}) };
}

/**
 * Plans `members`, in order, as one tar archive uploaded to `remote`. Pure: nothing is read until the
 * upload opens the batch (then every member must still be the version given). Throws
 * TarMemberError when a member cannot be laid out (tar-layout.ts).
 */
export function planTar(
  members: readonly TarBatchMember[],
  remote: TarRemote,
  o: TarPlanOptions = {},
): ScheduledFile {
  const layout = TarLayout.of(members);
  const files: TarSourceFile[] = members.map((m) => ({
    absPath: m.absPath,
    size: m.size,
    mtimeMs: m.mtimeMs,
    ...(m.dev !== undefined ? { dev: m.dev } : {}),
    ...(m.ino !== undefined ? { ino: m.ino } : {}),
    ...(m.ctimeMs !== undefined ? { ctimeMs: m.ctimeMs } : {}),
  }));
  const chunkSize = effectiveChunkSize(layout.size, o.chunkSize ?? defaultOptions().chunkSize);
  const signature = tarSignature(layout, files, remote, chunkSize);
  const entry: UploadEntry = {
    order: o.order ?? 0,
    localPath: o.localPath ?? `${remote.folder.replace(/\/+$/, '')}/${remote.name}`,
    absPath: '',
    canonicalPath: '',
    size: layout.size,
    mtimeMs: newestMtime(members),
    projectSpec: remote.projectId,
    folder: remote.folder,
    name: remote.name,
    source: 'tar',
    argIndex: 0,
    tar: { layout, files },
  };
  const plan: FilePlan = {
    entry,
    compress: false,
    remoteName: remote.name,
    media: TAR_MEDIA,
    chunkSize,
    parts: partsOf(layout.size, chunkSize),
    signature,
    properties: { ...remote.properties, [SIGNATURE_PROPERTY]: signature },
    tags: [...(remote.tags ?? [])],
    types: [...(remote.types ?? [])],
    details: remote.details,
    hidden: remote.hidden ?? false,
  };
  return { plan, projectId: remote.projectId };
}

/**
 * `<size> <newest mtime, s> 0 <chunk size> ua-tar-v1:<sha256>`, the hash over the remote folder and
 * name, the chunk size, and each member's name, size, mtime (ms, as given), mode and inode. The
 * device is left out: it can change across a reboot (NFS, LVM) while the files do not.
 */
export function tarSignature(
  layout: TarLayout,
  files: ReadonlyArray<Pick<TarSourceFile, 'ino'>>,
  remote: Pick<TarRemote, 'folder' | 'name'>,
  chunkSize: number,
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([SIGNATURE_TAG, remote.folder, remote.name, chunkSize]));
  layout.members.forEach((m, i) =>
    h.update(`\n${JSON.stringify([m.name, m.size, m.mtimeMs, m.mode, files[i].ino ?? null])}`),
  );
  const newest = Math.floor(newestMtime(layout.members) / 1000);
  return `${layout.size} ${newest} 0 ${chunkSize} ${SIGNATURE_TAG}:${h.digest('hex')}`;
}

/** The newest member's mtime (0 for none); a loop, not Math.max(...): a batch may exceed the argument limit. */
function newestMtime(members: ReadonlyArray<{ mtimeMs: number }>): number {
  let newest = 0;
  for (const m of members) newest = Math.max(newest, m.mtimeMs);
  return newest;
}

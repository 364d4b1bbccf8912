import type { Store } from '../store/store.js';
import {
  MissingPartError,
  withCloudStore,
  type CloudStore,
  type CloudTarget,
  type DeclaredPart,
} from '../blobs/cloud-store.js';
import { inferMedia } from '../blobs/media-sniff.js';
import { ApiError, invalidInput, invalidState } from '../errors.js';
import type { RouteContext, RouteDeps } from '../http/route.js';
import { type DriveRecord, type SymlinkUpload } from '../store/drives.js';
import { type FileRecord } from '../store/files.js';
import { validateParts } from './files.js';

/**
 * Files whose bytes live in a drive's container (platform-api.md §6): uploads into an
 * auto-symlink project, and registration of objects a client wrote itself.
 *
 * Object key (the reference leaves it open, §6.2): prefix + folder + name, joined with single
 * slashes and without a leading one — `runs/` + `/a/b` + `x.fq` → `runs/a/b/x.fq`. Folders keep
 * two same-named files in different folders apart; same name in the same folder clobbers, as the
 * platform documents. The key is fixed at /file/new: renaming the file later does not move it.
 */
export function objectKey(prefix: string | undefined, folder: string, name: string): string {
  const trim = (s: string) => s.replace(/^\/+|\/+$/g, '');
  return [trim(prefix ?? ''), trim(folder), name].filter((s) => s !== '').join('/');
}

/** The tag that makes this file's Azure block IDs its own: the file ID's body. */
const uploadTag = (fileId: string) => fileId.slice(fileId.indexOf('-') + 1);

function usableDrive(store: Store, id: string): DriveRecord {
  const d = store.getDrive(id);
  if (!d) throw invalidState(`The drive ${id} could not be found`);
  if (d.disabled) throw invalidState(`The drive ${id} is disabled`);
  return d;
}

/**
 * Called inside /file/new's transaction: in an auto-symlink project, the new file's bytes will go
 * to the project's container. Synchronous (no cloud call): the multipart upload starts lazily.
 */
export function startAutoSymlink(
  store: Store,
  f: { id: string; project: string; folder: string; name: string },
): void {
  const ds = store.getProject(f.project)?.defaultSymlink;
  if (!ds) return;
  usableDrive(store, ds.drive);
  store.insertSymlinkUpload({
    file: f.id,
    drive: ds.drive,
    container: ds.container,
    object: objectKey(ds.prefix, f.folder, f.name),
  });
}

const withStore = <T>(d: DriveRecord, fn: (s: CloudStore) => Promise<T>): Promise<T> =>
  withCloudStore(d, fn, (err) => new ApiError('InvalidState', `drive ${d.id}: ${err.message}`));

const target = (su: SymlinkUpload): CloudTarget => ({ container: su.container, object: su.object });
const declared = (store: Store, fileId: string): DeclaredPart[] =>
  store.listParts(fileId).map((p) => ({ index: p.index, size: p.size, md5: p.md5 }));

/** /file-xxxx/upload of an auto-symlinked file: a URL into the container, the part recorded as pending. */
export async function symlinkUpload(ctx: RouteContext, f: FileRecord, su: SymlinkUpload, part: DeclaredPart) {
  const { store } = ctx.deps;
  const drive = usableDrive(store, su.drive);
  const ttl = ctx.deps.config.urlTtlMs;
  return withStore(drive, async (cloud) => {
    let uploadId = su.uploadId;
    if (uploadId === null) {
      const started = await cloud.startUpload(target(su));
      // Two first parts may race; the first recorded ID wins and the other upload is left unused
      // (it holds no parts; s3rver cannot abort uploads, real S3 expires them by lifecycle rule).
      if (started !== null) uploadId = store.setUploadId(f.id, started);
    }
    const put = await cloud.presignPart(target(su), uploadId, uploadTag(f.id), part, ttl);
    if (!store.declarePart(f.id, { ...part, now: ctx.deps.now() })) {
      throw invalidState(`Cannot upload to file ${f.id} because it is no longer open`);
    }
    return { url: put.url, expires: ctx.deps.now() + ttl, headers: put.headers };
  });
}

/**
 * Describe of an OPEN symlinked file: the parts recorded `pending` at /upload are asked about in
 * the container (Azure: uncommitted blocks by ID and size; S3: ListParts by number, size and
 * ETag), and those really there become `complete` with the size/MD5 recorded at /upload. A client
 * resuming after a crash then re-sends only the missing parts. Where the cloud cannot tell
 * (plain s3rver has no ListParts) or cannot be reached, parts stay `pending` and the client re-sends
 * them — slower, never wrong; describe itself does not fail on the cloud's account.
 */
export async function refreshArrivedParts(deps: RouteDeps, f: FileRecord): Promise<void> {
  if (f.state !== 'open') return;
  const su = deps.store.getSymlinkUpload(f.id);
  if (!su || su.completed) return;
  // Zero-size parts have no block/part in the cloud to find; they are re-declared cheaply.
  const pending: DeclaredPart[] = deps.store
    .listParts(f.id)
    .filter((p) => p.size > 0 && p.state === 'pending')
    .map((p) => ({ index: p.index, size: p.size, md5: p.md5 }));
  const d = deps.store.getDrive(su.drive);
  if (pending.length === 0 || !d || d.disabled) return;
  let arrived: Set<number> | null;
  try {
    arrived = await withCloudStore(d, (cloud) =>
      cloud.uploadedParts(target(su), su.uploadId, uploadTag(f.id), pending),
    );
  } catch (err) {
    if (deps.store.open)
      process.stderr.write(
        `[ua-platform] listing the parts of ${f.id} in drive ${d.id} failed: ${String(err)}\n`,
      );
    return;
  }
  if (arrived === null || !deps.store.open) return;
  deps.store.markPartsArrived(
    f.id,
    pending.filter((p) => arrived.has(p.index)),
  );
}

/**
 * /file-xxxx/close: makes the object from the parts (complete multipart / commit block list) now,
 * so a part that never arrived fails the close with the file still open; then `closing` until the
 * object has been read back once for its MD5 (finishSymlinkClose, in the background).
 */
export async function symlinkClose(ctx: RouteContext, f: FileRecord, su: SymlinkUpload) {
  const { store } = ctx.deps;
  const drive = usableDrive(store, su.drive);
  const parts = declared(store, f.id);
  const size = validateParts(parts, f.id);
  await withStore(drive, async (cloud) => {
    if (su.completed) return;
    try {
      if (size === 0) await cloud.putEmpty(target(su));
      else
        await cloud.complete(
          target(su),
          su.uploadId,
          uploadTag(f.id),
          parts.filter((p) => p.size > 0),
        );
    } catch (err) {
      if (err instanceof MissingPartError) {
        throw invalidState(
          `File ${f.id} cannot be closed: not every part is in the container (${err.message})`,
        );
      }
      throw err;
    }
    store.markUploadCompleted(f.id);
  });
  const now = ctx.deps.now();
  store.setFileSymlink(f.id, { drive: su.drive, container: su.container, object: su.object });
  store.setPartStates(f.id, 'all');
  store.markClosing(f.id, size, now + ctx.deps.config.closingDelayMs, now);
  return { id: f.id };
}

/**
 * Background end of a close: stream the object once, check its size and each part's MD5 against
 * what the client declared, record the whole-file MD5 and the ETag it was computed for. A mismatch
 * leaves the file `closing` (reported on stderr): its bytes are not what the client said.
 */
export async function finishSymlinkClose(deps: RouteDeps, fileId: string): Promise<void> {
  const su = deps.store.getSymlinkUpload(fileId);
  const f = deps.store.getFile(fileId);
  if (!su || !f || f.state !== 'closing' || f.assembled) return;
  const d = deps.store.getDrive(su.drive);
  if (!d) throw new Error(`drive ${su.drive} of ${fileId} is gone`);
  const parts = declared(deps.store, fileId);
  await withCloudStore(d, async (cloud) => {
    const head = await cloud.head(target(su));
    const digest = await cloud.md5Of(target(su), f.size === 0 ? [] : parts.map((p) => p.size));
    if (digest.size !== f.size)
      throw new Error(`object ${su.container}/${su.object} has ${digest.size} bytes, expected ${f.size}`);
    parts.forEach((p, i) => {
      if (f.size !== 0 && digest.partMd5s[i] !== p.md5) {
        throw new Error(
          `part ${p.index} of ${su.container}/${su.object} has MD5 ${digest.partMd5s[i]}, declared ${p.md5}`,
        );
      }
    });
    if (!deps.store.open) return;
    if (head) deps.store.setVerifiedEtag(fileId, head.etag);
    // The read-back for the MD5 also gives the bytes a media type is inferred from (media-sniff.ts).
    const media = f.media === '' ? inferMedia(digest.head, digest.size) : undefined;
    deps.store.markSymlinkVerified(fileId, digest.md5, media);
  });
}

/**
 * /file-xxxx/download of a symlinked file: a presigned GET into the container, after an integrity
 * check. Size + ETag equal to those seen when the MD5 was computed ⇒ unchanged; otherwise the
 * object is streamed once and its MD5 compared with the recorded one (an overwrite with the same
 * bytes still passes). A mismatch — the clobber case — is an InvalidState naming both checksums.
 */
export async function symlinkDownload(ctx: RouteContext, f: FileRecord, filename: string, expires: number) {
  const { store } = ctx.deps;
  const drive = usableDrive(store, f.drive!);
  const t: CloudTarget = { container: f.symlinkContainer!, object: f.symlinkObject! };
  const su = store.getSymlinkUpload(f.id);
  return withStore(drive, async (cloud) => {
    const head = await cloud.head(t);
    if (!head)
      throw invalidState(
        `The remote object ${t.container}/${t.object} of ${f.id} (drive ${drive.id}) no longer exists`,
      );
    const unchanged = su?.etag != null && su.etag === head.etag && head.size === f.size;
    if (!unchanged) {
      const actual = head.md5 ?? (await cloud.md5Of(t)).md5;
      if (actual !== f.md5) {
        throw invalidState(
          `Checksum mismatch for ${f.id} (${f.name}): the platform recorded MD5 ${f.md5} but the remote object ` +
            `${t.container}/${t.object} in drive ${drive.id} now has MD5 ${actual}; it was changed or overwritten ` +
            `(or registered with a wrong md5sum)`,
        );
      }
      if (su && store.open) store.setVerifiedEtag(f.id, head.etag);
    }
    const url = await cloud.presignGet(t, Math.max(1000, expires - ctx.deps.now()), filename);
    return { url, expires, headers: {} };
  });
}

const MD5_RE = /^[0-9a-f]{32}$/;

/** Whether a /file/new input asks to register an existing object (drive, md5sum, symlinkPath). */
export function isSymlinkRegistration(input: Record<string, unknown>): boolean {
  return input.drive !== undefined || input.symlinkPath !== undefined || input.md5sum !== undefined;
}

/**
 * /file/new {drive, md5sum, symlinkPath}: a closed symlinked file for an object the client wrote
 * itself. The object must exist; where the cloud states its MD5 (Azure Content-MD5, S3 single-PUT
 * ETag) it must equal `md5sum`. The bytes are not read here — the platform does not carry them —
 * so an S3 multipart object is checked by its first download instead.
 * `symlinkPath.container` is the bucket/container name; a `<region>:` prefix is accepted and dropped.
 */
export interface VerifiedSymlink {
  drive: string;
  container: string;
  object: string;
  size: number;
  md5: string;
  /** The ETag under which `md5` is known to be right; null until a download has hashed the object. */
  etag: string | null;
}

export async function verifySymlinkRegistration(
  ctx: RouteContext,
  mayUseDrive: (driveId: string) => DriveRecord,
): Promise<VerifiedSymlink> {
  const { drive: driveId, md5sum, symlinkPath } = ctx.input;
  if (typeof driveId !== 'string') throw invalidInput('drive must be a drive ID');
  if (typeof md5sum !== 'string' || !MD5_RE.test(md5sum))
    throw invalidInput('md5sum must be 32 lowercase hexadecimal digits');
  if (
    symlinkPath === null ||
    typeof symlinkPath !== 'object' ||
    typeof (symlinkPath as Record<string, unknown>).container !== 'string' ||
    typeof (symlinkPath as Record<string, unknown>).object !== 'string'
  ) {
    throw invalidInput('symlinkPath must be {"container": "…", "object": "…"}');
  }
  const sp = symlinkPath as { container: string; object: string };
  const t: CloudTarget = {
    container: sp.container.slice(sp.container.lastIndexOf(':') + 1),
    object: sp.object,
  };
  if (t.container === '' || t.object === '')
    throw invalidInput('symlinkPath.container and symlinkPath.object must be nonempty');
  const drive = mayUseDrive(driveId);
  if (drive.disabled) throw invalidState(`The drive ${drive.id} is disabled`);
  const head = await withStore(drive, (cloud) => cloud.head(t));
  if (!head) throw invalidInput(`symlinkPath ${t.container}/${t.object} does not exist in drive ${drive.id}`);
  if (head.md5 !== undefined && head.md5 !== md5sum) {
    throw invalidInput(
      `md5sum ${md5sum} does not match ${t.container}/${t.object} in drive ${drive.id} (MD5 ${head.md5})`,
    );
  }
  // Without a stated MD5 the ETag is not marked verified: the first download hashes the object once.
  return {
    drive: drive.id,
    ...t,
    size: head.size,
    md5: md5sum,
    etag: head.md5 !== undefined ? head.etag : null,
  };
}

/** Inside /file/new's transaction, after the file row exists: it is closed, symlinked and verified. */
export function recordRegisteredSymlink(store: Store, fileId: string, v: VerifiedSymlink, now: number): void {
  store.insertSymlinkUpload({ file: fileId, drive: v.drive, container: v.container, object: v.object });
  store.markUploadCompleted(fileId);
  if (v.etag !== null) store.setVerifiedEtag(fileId, v.etag);
  store.setFileSymlink(fileId, v);
  store.markRegisteredClosed(fileId, v.size, v.md5, now);
}

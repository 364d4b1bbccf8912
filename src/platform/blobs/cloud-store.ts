/**
 * The platform's view of a customer's cloud storage (a drive): what symlinked files need from S3 or
 * Azure Blob, kept behind one small interface so routes never touch a cloud SDK.
 *
 * A file's bytes go straight from the client to the container (presigned part URLs); the platform
 * only starts/completes the upload, reads the object back to compute its MD5, and presigns GETs.
 */
import { createHash } from 'node:crypto';
import type { DriveRecord } from '../store/drives.js';
import { SNIFF_BYTES } from './media-sniff.js';

/** Where a symlinked file's bytes live: bucket/container name and object key/blob name. */
export interface CloudTarget {
  container: string;
  object: string;
}

/** A part as the client declared it at `/upload` time. */
export interface DeclaredPart {
  index: number;
  size: number;
  /** hex MD5 of the part's bytes */
  md5: string;
}

export interface PresignedPut {
  url: string;
  /** Headers the client must send with the PUT, exactly. */
  headers: Record<string, string>;
}

export interface ObjectHead {
  size: number;
  /** The cloud's version tag; changes whenever the object is rewritten. */
  etag: string;
  /**
   * The object's MD5 (hex) when the cloud states it for free: an S3 ETag of a single PUT, an Azure
   * blob's Content-MD5. Absent for S3 multipart objects (their ETag is an MD5 of part MD5s).
   */
  md5?: string;
}

export interface ObjectDigest {
  size: number;
  md5: string;
  /** hex MD5 of each consecutive slice of the given part sizes (empty when none were given). */
  partMd5s: string[];
  /** The object's first bytes (up to SNIFF_BYTES), to infer a media type from without a second read. */
  head: Buffer;
}

/** The credentials or the cloud refused us: a drive's credentials are wrong, or a container is missing. */
export class CloudAccessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CloudAccessError';
  }
}

/** A part the client was told to PUT is not in the container (close before the PUT finished). */
export class MissingPartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MissingPartError';
  }
}

export interface CloudStore {
  readonly cloud: 'aws' | 'azure';
  /** A cheap authenticated call; throws CloudAccessError when the credentials cannot access the cloud. */
  checkAccess(): Promise<void>;
  /** Throws CloudAccessError when the bucket/container does not exist or cannot be reached. */
  checkContainer(container: string): Promise<void>;
  /**
   * Starts a multipart upload where the cloud needs one (S3: its upload ID); null when none (Azure:
   * blocks are staged against the blob name).
   */
  startUpload(t: CloudTarget): Promise<string | null>;
  /** A URL the client PUTs one part's bytes to, with the headers it must send. */
  presignPart(
    t: CloudTarget,
    uploadId: string | null,
    uploadTag: string,
    part: DeclaredPart,
    ttlMs: number,
  ): Promise<PresignedPut>;
  /** Which declared parts are in the container, where the cloud can tell (null: it cannot). */
  uploadedParts(
    t: CloudTarget,
    uploadId: string | null,
    uploadTag: string,
    parts: DeclaredPart[],
  ): Promise<Set<number> | null>;
  /** Makes the object from the parts (complete multipart / commit block list); throws MissingPartError. */
  complete(t: CloudTarget, uploadId: string | null, uploadTag: string, parts: DeclaredPart[]): Promise<void>;
  /** Writes an empty object (an empty file has no parts worth completing). */
  putEmpty(t: CloudTarget): Promise<void>;
  /** A time-limited GET URL for the object. */
  presignGet(t: CloudTarget, ttlMs: number, filename: string): Promise<string>;
  /** Size and ETag, or null when there is no such object. */
  head(t: CloudTarget): Promise<ObjectHead | null>;
  /** The object's bytes, streamed. */
  streamObject(t: CloudTarget): Promise<AsyncIterable<Uint8Array>>;
  /** Reads the object once: whole-file MD5, and per-part MD5s when part sizes are given. */
  md5Of(t: CloudTarget, partSizes?: number[]): Promise<ObjectDigest>;
  /** Releases connections. */
  close(): void;
}

/** Streams an object once and hashes it, cutting per-part digests at the given sizes. */
export async function digestStream(
  body: AsyncIterable<Uint8Array>,
  partSizes: number[] = [],
): Promise<ObjectDigest> {
  const whole = createHash('md5');
  const partMd5s: string[] = [];
  let partIdx = 0;
  let part = createHash('md5');
  let leftInPart = partSizes[0] ?? Infinity;
  const endPart = () => {
    partMd5s.push(part.digest('hex'));
    partIdx++;
    part = createHash('md5');
    leftInPart = partSizes[partIdx] ?? Infinity;
  };
  let size = 0;
  const head: Buffer[] = [];
  for await (const chunk of body) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    whole.update(buf);
    // Copied: an SDK may reuse the chunk's memory for the next one.
    if (size < SNIFF_BYTES) head.push(Buffer.from(buf.subarray(0, SNIFF_BYTES - size)));
    size += buf.length;
    while (buf.length > 0 && partIdx < partSizes.length) {
      const take = Math.min(leftInPart, buf.length);
      part.update(buf.subarray(0, take));
      buf = buf.subarray(take);
      leftInPart -= take;
      if (leftInPart === 0) endPart();
    }
  }
  // Zero-size trailing parts never see a byte; they still have a digest (of nothing).
  while (partIdx < partSizes.length && leftInPart === 0) endPart();
  return { size, md5: whole.digest('hex'), partMd5s, head: Buffer.concat(head) };
}

/** The cloud client for a drive. */
export async function cloudStoreFor(
  drive: Pick<DriveRecord, 'cloud' | 'credentials' | 'endpoint' | 'region'>,
): Promise<CloudStore> {
  if (drive.cloud === 'aws') {
    const { S3Store } = await import('./s3.js');
    return new S3Store(drive);
  }
  const { AzureStore } = await import('./azure.js');
  return new AzureStore(drive);
}

/**
 * Runs `fn` with a drive's cloud client and closes the client after. With `refuse`, a
 * CloudAccessError is rethrown as the caller's own error.
 */
export async function withCloudStore<T>(
  drive: Pick<DriveRecord, 'cloud' | 'credentials' | 'endpoint' | 'region'>,
  fn: (s: CloudStore) => Promise<T>,
  refuse?: (err: CloudAccessError) => Error,
): Promise<T> {
  const store = await cloudStoreFor(drive);
  try {
    return await fn(store);
  } catch (err) {
    if (refuse && err instanceof CloudAccessError) throw refuse(err);
    throw err;
  } finally {
    store.close();
  }
}

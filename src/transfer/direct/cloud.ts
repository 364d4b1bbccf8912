/**
 * What a direct upload needs from a cloud: start or reattach to one object's upload, send parts,
 * make it whole. S3 (s3/destination.ts) and Azure Blob (azure/destination.ts) implement it; the
 * platform side (registering the object as a symlinked file) is direct/destination.ts.
 */
import type { JournalPart } from '../../state/journal.js';
import type { PartDigest } from '../../work/part-task.js';
import type { PartPayload } from '../destination.js';

export type Cloud = 'aws' | 'azure';

/**
 * `--throttle` for a part body (accounting/throttle.ts `throttled` over the session's token bucket):
 * the bytes as they may be sent, or `data` itself when unthrottled. Called once per attempt, so an
 * SDK retry sends a fresh body.
 */
export type BodyThrottle = (data: Uint8Array, signal: AbortSignal) => Uint8Array | AsyncIterable<Uint8Array>;

export interface CloudPart extends JournalPart {
  index: number;
}

/** One object being written. */
export interface CloudObject {
  /** What the journal keeps to reattach: the S3 multipart upload ID, or the Azure block-ID prefix. */
  readonly uploadId: string;
  /**
   * The per-part check this object's parts are sent with, which the workers compute: `md5` (Content-MD5)
   * for a one-part object, whose part MD5 is then the object's MD5 as well; `crc32` for S3 multipart
   * (x-amz-checksum-crc32, verified by S3); `md5` for Azure blocks too (transactionalContentMD5,
   * verified by the service per block), on top of the whole-object MD5 set as the blob's Content-MD5
   * at commit: two MD5 passes on Azure, the extra CPU bench/README measures against uploadFile.
   */
  readonly partDigest: PartDigest;
  /** Sends one part (the SDK retries transient failures); resolves to its ETag or block ID. */
  sendPart(part: PartPayload, signal: AbortSignal): Promise<string>;
  /** Makes the object whole from every part, in index order; `md5` is the whole object's hex MD5. */
  complete(parts: CloudPart[], md5: string, signal: AbortSignal): Promise<void>;
}

export interface CloudTarget {
  readonly cloud: Cloud;
  /** The bucket or container. */
  readonly container: string;
  /** Names the object for the journal and for messages, e.g. `s3://bucket/key (http://127.0.0.1:9000)`. */
  describeObject(key: string): string;
  /**
   * Starts a new upload. `partCount` 1 lets the cloud take the object in one request (S3 PutObject);
   * undefined means not known yet (stdin).
   */
  start(
    key: string,
    partCount: number | undefined,
    contentType: string,
    signal: AbortSignal,
  ): Promise<CloudObject>;
  /**
   * Reattaches to an upload from the journal. Resolves to the parts of `known` the cloud still holds,
   * or undefined when the upload is gone (completed, aborted, expired).
   */
  resume(
    key: string,
    uploadId: string,
    known: Map<number, JournalPart>,
    contentType: string,
    signal: AbortSignal,
  ): Promise<{ object: CloudObject; held: Map<number, JournalPart> } | undefined>;
  /** The stored object's size, or undefined when there is none. */
  objectSize(key: string, signal: AbortSignal): Promise<number | undefined>;
  close(): void;
}

/** The object key of a file: prefix + folder + name, without empty segments or a leading slash. */
export function objectKey(prefix: string, folder: string, name: string): string {
  return [prefix, folder, name]
    .join('/')
    .split('/')
    .filter((s) => s !== '')
    .join('/');
}

/** S3's form of a CRC-32: the 4 bytes big-endian, base64. */
export function crc32Base64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

import type { FilePlan } from '../plan/plan.js';

import type { PartDigest } from '../work/part-task.js';

/** One part's bytes as they will be sent, with the checksum the worker computed over exactly those bytes. */
export interface PartPayload {
  index: number;
  data: Uint8Array;
  size: number;
  /** Hex MD5; '' when the file's `partDigest` is not md5. */
  md5: string;
  /** CRC-32, when the file's `partDigest` is crc32. */
  crc32?: number;
}

/** A remote file being written. */
export interface RemoteFile {
  readonly fileId: string;
  /**
   * Which checksum the worker computes for each part (default md5). Direct multipart uploads hash the
   * whole object anyway and need only a cheap per-part check (or none) from the workers.
   */
  readonly partDigest?: PartDigest;
  /** Sends one part; retries are the implementation's job (it knows which failures are transient). */
  uploadPart(part: PartPayload, signal: AbortSignal): Promise<void>;
  /** Makes the file whole (close / complete / commit). */
  complete(signal: AbortSignal): Promise<void>;
  /**
   * After complete(): whether the file reached its final state (for --wait-on-close) and its parts
   * (for --verify; a destination that cannot tell a part's MD5 gives what it knows, or none).
   */
  describe(signal: AbortSignal): Promise<{ state: string; parts: Map<number, DonePart> }>;
  /** Discards the remote upload (capabilities.abort); without it an unfinished file stays resumable. */
  abort?(signal: AbortSignal): Promise<void>;
}

export interface DonePart {
  size: number;
  md5: string;
}

export type Prepared =
  /** A fresh remote file, or an open one from an earlier run whose `doneParts` need not be sent again. */
  | {
      kind: 'upload';
      file: RemoteFile;
      resumed: boolean;
      doneParts: Map<number, DonePart>;
      remoteName: string;
      /**
       * The destination re-reads and compares `doneParts` itself before it completes the file (direct
       * mode's whole-object MD5 does); otherwise the scheduler checks each one against the local bytes.
       */
      checksDoneParts?: boolean;
    }
  /** An earlier run already finished this exact file: nothing to send. */
  | { kind: 'already-closed'; fileId: string; remoteName: string };

/** What a destination can do beyond the contract; the conformance suite tests what is declared. */
export interface DestinationCapabilities {
  /** The checksum the workers compute for each part (RemoteFile.partDigest may say otherwise per file). */
  partDigest: PartDigest;
  /** Smallest non-last part it accepts, and largest part, in bytes; most parts per file. */
  minPartSize: number;
  maxPartSize: number;
  maxParts: number;
  /** Finds an earlier upload of the same local file (classic signature) and reports the parts it holds. */
  resume: boolean;
  /** RemoteFile.abort discards an upload. */
  abort: boolean;
}

/**
 * Where files go: platform storage, a project's S3 bucket or Azure container directly, or memory
 * (tests). One file at a time: prepare (resume lookup or create) → RemoteFile (parts, complete,
 * describe, abort). A new destination implements this and passes test/conformance/destination.ts.
 */
export interface Destination {
  readonly kind: string;
  readonly capabilities: DestinationCapabilities;
  /** Resume lookup or create. Throws a UaError (with a message for the user) when the file cannot start. */
  prepare(plan: FilePlan, projectId: string, signal: AbortSignal): Promise<Prepared>;
}

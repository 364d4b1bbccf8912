/** What flows through the upload pipeline: files as scheduled, their state in flight, their parts. */
import type { FilePlan } from '../plan/plan.js';
import type { PartSpec } from '../plan/parts.js';
import type { PartSource } from '../read/source.js';
import type { DonePart, Prepared } from './destination.js';

/** A part whose bytes are already in memory (stdin): the reader filled `buffer[0, length)`. */
export interface BufferedPart {
  index: number;
  buffer: ArrayBuffer;
  length: number;
  last: boolean;
  /** Gives the buffer back to whoever lent it (and its bytes back to the budget). */
  release(): void;
}

export interface ScheduledFile {
  plan: FilePlan;
  projectId: string;
  /** For stdin: parts arrive as they are read; for files, `plan.parts` is used. */
  bufferedParts?: AsyncIterable<BufferedPart>;
}

/** One file between its preparation and its result. */
export interface FileState {
  sf: ScheduledFile;
  prepared?: Prepared & { kind: 'upload' };
  /** The file's one open descriptor, or its tar batch (not for stdin); checked and closed before complete. */
  source?: PartSource;
  /** Parts handed to the upload loops and not finished yet. */
  inFlight: number;
  /** True until every part has been handed out. */
  queued: boolean;
  failed?: string;
  /** The failure's stable code (UaError's), when it had one. */
  failedCode?: string;
  /** Size and MD5 of each part this run sent or proved already there (for --verify). */
  sent: Map<number, DonePart>;
  rawBytes: number;
  sentBytes: number;
  settle(): void;
  done: Promise<void>;
}

/** One part to send: read from the file (`spec`) or already in memory (`buffered`). */
export interface WorkItem {
  fs: FileState;
  spec?: PartSpec;
  buffered?: BufferedPart;
  /** The part an earlier run left on the destination: re-read and compared before it is skipped. */
  check?: DonePart;
}

/**
 * A destination in memory: files, parts and their MD5s held in maps, with the platform's rules
 * (part MD5 checked on arrival, every part but the last at least `minPartSize`, parts 1..n at close)
 * and resume by the classic signature. For testing the engine without a server, and the reference
 * the conformance suite (test/conformance/destination.ts) holds every destination to.
 */
import { createHash, randomBytes } from 'node:crypto';
import { UaError } from '../../errors.js';
import type { FilePlan } from '../../plan/plan.js';
import type {
  Destination,
  DestinationCapabilities,
  DonePart,
  PartPayload,
  Prepared,
  RemoteFile,
} from '../destination.js';

export interface MemoryFile {
  id: string;
  projectId: string;
  folder: string;
  name: string;
  signature?: string;
  state: 'open' | 'closed';
  parts: Map<number, { bytes: Buffer; md5: string }>;
}

export interface MemoryDestinationOptions {
  minPartSize?: number;
  /** Part uploads that fail (as a transient error) before succeeding; each is retried. */
  transientPartFailures?: number;
  /** Attempts per part in all (the retry policy's job elsewhere). Default 3. */
  tries?: number;
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

export class MemoryDestination implements Destination {
  readonly kind = 'memory';
  readonly capabilities: DestinationCapabilities;
  readonly files = new Map<string, MemoryFile>();
  /** Every part upload attempt that stored bytes, in order (tests count what was sent). */
  readonly puts: Array<{ fileId: string; index: number }> = [];
  #failures: number;
  readonly #tries: number;

  constructor(o: MemoryDestinationOptions = {}) {
    this.capabilities = {
      partDigest: 'md5',
      minPartSize: o.minPartSize ?? 5 * 2 ** 20,
      maxPartSize: 5 * 2 ** 30,
      maxParts: 10_000,
      resume: true,
      abort: true,
    };
    this.#failures = o.transientPartFailures ?? 0;
    this.#tries = o.tries ?? 3;
  }

  /** Fails the next `n` part uploads once each (they are retried). */
  failNextParts(n: number): void {
    this.#failures += n;
  }

  async prepare(plan: FilePlan, projectId: string, signal: AbortSignal): Promise<Prepared> {
    signal.throwIfAborted();
    if (plan.signature) {
      const hits = [...this.files.values()].filter(
        (f) => f.projectId === projectId && f.signature === plan.signature,
      );
      if (hits.length > 1)
        throw new UaError('UA_ERR_RESUME_AMBIGUOUS', `more than one file resumes "${plan.entry.localPath}"`);
      const f = hits[0];
      if (f?.state === 'closed') return { kind: 'already-closed', fileId: f.id, remoteName: f.name };
      if (f) {
        const done = new Map<number, DonePart>();
        for (const [i, p] of f.parts) done.set(i, { size: p.bytes.length, md5: p.md5 });
        return { kind: 'upload', file: this.#remote(f), resumed: true, doneParts: done, remoteName: f.name };
      }
    }
    const f: MemoryFile = {
      id: `file-${randomBytes(12).toString('hex')}`,
      projectId,
      folder: plan.entry.folder,
      name: plan.remoteName,
      ...(plan.signature ? { signature: plan.signature } : {}),
      state: 'open',
      parts: new Map(),
    };
    this.files.set(f.id, f);
    return {
      kind: 'upload',
      file: this.#remote(f),
      resumed: false,
      doneParts: new Map(),
      remoteName: f.name,
    };
  }

  /** A closed file's bytes. */
  bytesOf(fileId: string): Buffer {
    const f = this.files.get(fileId);
    if (!f || f.state !== 'closed') throw new Error(`${fileId} is not a closed file`);
    return Buffer.concat([...f.parts.keys()].sort((a, b) => a - b).map((i) => f.parts.get(i)!.bytes));
  }

  #remote(f: MemoryFile): RemoteFile {
    return {
      fileId: f.id,
      partDigest: 'md5',
      uploadPart: (part, signal) => this.#uploadPart(f, part, signal),
      complete: async (signal) => {
        signal.throwIfAborted();
        const indexes = [...f.parts.keys()].sort((a, b) => a - b);
        indexes.forEach((index, i) => {
          if (index !== i + 1) throw new UaError('UA_ERR_CLOSE', `${f.id}: part ${i + 1} is missing`);
          const size = f.parts.get(index)!.bytes.length;
          if (i < indexes.length - 1 && size < this.capabilities.minPartSize)
            throw new UaError('UA_ERR_CLOSE', `${f.id}: part ${index} is ${size} bytes, under the minimum`);
        });
        f.state = 'closed';
      },
      describe: async () => ({
        state: f.state,
        parts: new Map([...f.parts].map(([i, p]) => [i, { size: p.bytes.length, md5: p.md5 }])),
      }),
      abort: async () => {
        if (f.state === 'closed')
          throw new UaError('UA_ERR_CLOSE', `${f.id} is closed; it cannot be aborted`);
        this.files.delete(f.id);
      },
    };
  }

  async #uploadPart(f: MemoryFile, part: PartPayload, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      if (!this.files.has(f.id) || f.state !== 'open') throw new UaError('UA_ERR_PUT', `${f.id} is not open`);
      if (this.#failures > 0) {
        this.#failures--;
        if (attempt < this.#tries) continue; // a transient failure, tried again at once
        throw new UaError('UA_ERR_PUT', `part ${part.index} of ${f.id} failed ${attempt} times`);
      }
      const bytes = Buffer.from(part.data.subarray(0, part.size));
      if (bytes.length > this.capabilities.maxPartSize)
        throw new UaError(
          'UA_ERR_PUT',
          `part ${part.index} is over the ${this.capabilities.maxPartSize}-byte limit`,
        );
      const sum = md5(bytes);
      if (part.md5 && part.md5 !== sum)
        throw new UaError('UA_ERR_PUT', `part ${part.index}: MD5 ${sum} is not the declared ${part.md5}`);
      f.parts.set(part.index, { bytes, md5: sum });
      this.puts.push({ fileId: f.id, index: part.index });
      return;
    }
  }
}

/**
 * Direct mode: the bytes go straight into the project's auto-symlink bucket/container with the user's
 * own cloud credentials, then the object is registered with `/file/new` (drive, md5sum, symlinkPath)
 * as a closed symlinked file with the same name, folder and metadata a platform upload would get.
 *
 * Resume: an earlier registered file with the same classic signature means nothing to do; otherwise
 * the journal (state/journal.ts) names the cloud upload of an earlier run and its acknowledged parts,
 * which the cloud confirms (CloudTarget.resume). Those parts are not sent again, but their bytes are
 * read (and compressed) once more to feed the whole-object MD5 (ordered-md5.ts), lazily, when the
 * file's first part is sent, so prepared-ahead files hold no buffers.
 *
 * One MD5 pass over the bytes: a one-part file's object MD5 is its part's MD5, which the worker
 * computes (and the cloud checks as Content-MD5); a larger file's parts get only the cloud's cheap
 * per-part check from the workers (CloudObject.partDigest) while ordered-md5.ts hashes the object.
 */
import { ApiCallError, CloudError, UaError } from '../../errors.js';
import type { FilePlan } from '../../plan/plan.js';
import { openSource } from '../../read/source.js';
import type { Journal, JournalKey, JournalPart } from '../../state/journal.js';
import type { Compressor } from '../../work/compressors.js';
import type { PartPool } from '../../work/pool.js';
import type { PartDigest } from '../../work/part-task.js';
import type {
  Destination,
  DestinationCapabilities,
  DonePart,
  PartPayload,
  Prepared,
  RemoteFile,
} from '../destination.js';
import { newNonce, type PlatformClient } from '../platform/api.js';
import { partJob } from '../part-job.js';
import { fileNewInput } from '../platform/destination.js';
import { findResumable } from '../platform/resume-lookup.js';
import { crc32Base64, objectKey, type CloudObject, type CloudPart, type CloudTarget } from './cloud.js';
import { OrderedMd5 } from './ordered-md5.js';

/** Where one project's files go. */
export interface DirectProject {
  drive: string;
  /** The container exactly as the project's defaultSymlink names it (recorded in symlinkPath). */
  container: string;
  prefix: string;
  target: CloudTarget;
}

export interface DirectDestinationOptions {
  api: PlatformClient;
  /** The one project whose files this destination takes (the router makes one per project). */
  projectId: string;
  project: DirectProject;
  /** Undefined: no resume state is kept. */
  journal?: Journal;
  resume: boolean;
  /** For re-reading resumed parts into the whole-object MD5, exactly as the scheduler cuts them. */
  pool: PartPool;
  compressLevel: number;
  /** Which deflate compresses parts; the workers' default when unset. */
  compressor?: Compressor;
  minPartSize: number;
}

interface Registered {
  md5: string;
  parts: Map<number, DonePart>;
}

/** S3's multipart limits; parts carry a CRC-32 S3 checks (a one-part object: Content-MD5). */
const S3_CAPABILITIES: DestinationCapabilities = {
  partDigest: 'crc32',
  minPartSize: 5 * 2 ** 20,
  maxPartSize: 5 * 2 ** 30,
  maxParts: 10_000,
  resume: true,
  abort: false,
};
/**
 * Azure block blobs: blocks up to 4,000 MiB, 50,000 of them; the blob's MD5 is set at commit. The
 * default `partDigest` here is never used: each object says its own (azure/destination.ts: md5).
 */
const AZURE_CAPABILITIES: DestinationCapabilities = {
  partDigest: 'none',
  minPartSize: 0,
  maxPartSize: 4000 * 2 ** 20,
  maxParts: 50_000,
  resume: true,
  abort: false,
};

export class DirectDestination implements Destination {
  readonly kind = 'direct';
  readonly #o: DirectDestinationOptions;
  /** The limits of the cloud the project's container is in. */
  readonly capabilities: DestinationCapabilities;

  constructor(o: DirectDestinationOptions) {
    this.#o = o;
    this.capabilities = o.project.target.cloud === 'azure' ? AZURE_CAPABILITIES : S3_CAPABILITIES;
  }

  async prepare(plan: FilePlan, projectId: string, signal: AbortSignal): Promise<Prepared> {
    const dp = this.#o.project;
    if (projectId !== this.#o.projectId)
      throw new UaError(
        'UA_ERR_DIRECT',
        `project ${projectId} has no auto-symlink drive for a direct upload`,
      );
    const key = objectKey(dp.prefix, plan.entry.folder, plan.remoteName);
    const resumable = this.#o.resume && plan.signature !== undefined;
    if (resumable) {
      const closed = await this.#findRegistered(plan, projectId, signal);
      if (closed) return closed;
    }
    const jkey: JournalKey | undefined = plan.signature
      ? { signature: plan.signature, destination: `${dp.target.cloud} ${dp.target.describeObject(key)}` }
      : undefined;
    const journal = jkey && plan.parts.length > 1 ? this.#o.journal : undefined;
    const upload = (
      object: CloudObject,
      done: Map<number, JournalPart>,
      resumed: boolean,
      completedMd5?: string,
    ): Prepared => {
      const file = new DirectFile({
        dest: this,
        plan,
        projectId,
        dp,
        key,
        object,
        done,
        journal,
        jkey,
        completedMd5,
      });
      // Its catch-up re-reads every part in `done` and compares it with the journal before complete().
      return {
        kind: 'upload',
        file,
        resumed,
        doneParts: done,
        remoteName: plan.remoteName,
        checksDoneParts: true,
      };
    };
    if (resumable && journal && jkey) {
      const earlier = journal.get(jkey);
      if (earlier?.completedMd5) {
        // Killed between completing the object and registering it: register what is there, if it still is.
        const size = [...earlier.parts.values()].reduce((n, p) => n + p.size, 0);
        if ((await dp.target.objectSize(key, signal)) === size)
          return upload(
            completedObject(earlier.uploadId),
            new Map(earlier.parts),
            true,
            earlier.completedMd5,
          );
      } else if (earlier) {
        const r = await dp.target.resume(key, earlier.uploadId, earlier.parts, plan.media, signal);
        if (r) {
          const done = new Map<number, JournalPart>();
          for (const spec of plan.parts) {
            const p = r.held.get(spec.index);
            // Uncompressed parts must have their planned length; compressed sizes are checked by MD5 later.
            if (p && (plan.compress || p.size === spec.length)) done.set(spec.index, p);
            else if (earlier.parts.has(spec.index)) journal.dropPart(jkey, spec.index);
          }
          return upload(r.object, done, true);
        }
      }
    }
    const object = await dp.target.start(
      key,
      plan.entry.stdin ? undefined : plan.parts.length,
      plan.media,
      signal,
    );
    if (journal && jkey) journal.begin(jkey, object.uploadId);
    return upload(object, new Map(), false);
  }

  get options(): DirectDestinationOptions {
    return this.#o;
  }

  /** A registered (closed) file of the same local file: nothing to send. Open ones are not direct mode's. */
  async #findRegistered(
    plan: FilePlan,
    projectId: string,
    signal: AbortSignal,
  ): Promise<Prepared | undefined> {
    const hit = await findResumable(this.#o.api, plan, projectId, signal, (d) => d?.state !== 'open');
    return (
      hit && { kind: 'already-closed', fileId: hit.id, remoteName: hit.describe.name ?? plan.remoteName }
    );
  }
}

interface DirectFileInit {
  dest: DirectDestination;
  plan: FilePlan;
  projectId: string;
  dp: DirectProject;
  key: string;
  object: CloudObject;
  /** Parts an earlier run sent that the cloud still holds. */
  done: Map<number, JournalPart>;
  journal?: Journal;
  jkey?: JournalKey;
  /** The cloud already completed the object (an earlier run was killed before registering it). */
  completedMd5?: string;
}

/** One file being written into the cloud; registered on the platform by complete(). */
class DirectFile implements RemoteFile {
  readonly #f: DirectFileInit;
  readonly #sent = new Map<number, JournalPart>();
  readonly #md5 = new OrderedMd5();
  /** One part whose MD5 the worker computes: that MD5 is the object's, no ordered pass needed. */
  readonly #onePart: boolean;
  #onePartMd5?: string;
  #catchUp?: Promise<void>;
  #fileId?: string;
  #registered?: Registered;

  constructor(init: DirectFileInit) {
    this.#f = init;
    this.#onePart =
      !init.plan.entry.stdin && init.plan.parts.length === 1 && init.object.partDigest === 'md5';
  }

  get partDigest(): PartDigest {
    return this.#f.object.partDigest;
  }

  /** The platform file ID once registered; until then the object's address (progress events only). */
  get fileId(): string {
    return this.#fileId ?? `${this.#f.dp.target.cloud}:${this.#f.dp.container}/${this.#f.key}`;
  }

  async uploadPart(part: PartPayload, signal: AbortSignal): Promise<void> {
    if (this.#onePart) {
      const etag = await this.#f.object.sendPart(part, signal);
      this.#onePartMd5 = part.md5;
      this.#sent.set(part.index, { size: part.size, md5: part.md5, etag });
      return;
    }
    this.#startCatchUp(signal);
    // The MD5 must have read the part's bytes before we return: the scheduler then reuses the buffer.
    const [sent, hashed] = await Promise.allSettled([
      this.#f.object.sendPart(part, signal),
      this.#md5.add(part.index, part.data, signal),
    ]);
    if (sent.status === 'fulfilled') {
      const rec: JournalPart = {
        size: part.size,
        md5: part.md5,
        ...(part.crc32 !== undefined ? { crc32: crc32Base64(part.crc32) } : {}),
        etag: sent.value,
      };
      this.#sent.set(part.index, rec);
      if (this.#f.journal && this.#f.jkey) this.#f.journal.addPart(this.#f.jkey, part.index, rec);
    }
    const failure =
      sent.status === 'rejected' ? sent.reason : hashed.status === 'rejected' ? hashed.reason : undefined;
    if (failure !== undefined) {
      this.#md5.fail(failure as Error);
      throw failure;
    }
  }

  async complete(signal: AbortSignal): Promise<void> {
    const all = new Map<number, JournalPart>([...this.#f.done, ...this.#sent]);
    const parts: CloudPart[] = [...all].sort(([a], [b]) => a - b).map(([index, p]) => ({ index, ...p }));
    let md5 = this.#f.completedMd5;
    if (md5 === undefined) {
      if (this.#onePart) {
        if (this.#onePartMd5 === undefined) throw new Error('complete() before the part was sent');
        md5 = this.#onePartMd5;
      } else {
        this.#startCatchUp(signal);
        await this.#catchUp;
        md5 = this.#md5.digest();
      }
      try {
        await this.#f.object.complete(parts, md5, signal);
      } catch (err) {
        // The upload is gone (expired, aborted): the next run must start over rather than fail here again.
        if (err instanceof CloudError && (err.status === 404 || err.cloudCode === 'NoSuchUpload'))
          this.#forget();
        throw err;
      }
      if (this.#f.journal && this.#f.jkey) this.#f.journal.markCompleted(this.#f.jkey, md5);
    }
    let id: string;
    try {
      id = await this.#register(md5, signal);
    } catch (err) {
      // The platform read the object and it is not what we wrote (overwritten meanwhile): start over next run.
      if (err instanceof ApiCallError && err.type === 'InvalidInput') this.#forget();
      throw err;
    }
    this.#forget();
    this.#fileId = id;
    this.#registered = {
      md5,
      parts: new Map(parts.map((p) => [p.index, { size: p.size, md5: p.md5 }])),
    };
  }

  /** State from the platform; parts only when the platform recorded the MD5 this run computed (for --verify). */
  async describe(signal: AbortSignal): Promise<{ state: string; parts: Map<number, DonePart> }> {
    if (!this.#fileId || !this.#registered) throw new Error('describe() before complete()');
    const d = await this.#f.dest.options.api.describeFile(this.#fileId, {}, signal);
    const mine = this.#registered;
    return { state: d.state, parts: d.md5 === mine.md5 ? mine.parts : new Map() };
  }

  /** `/file/new` of a closed symlinked file with the metadata a platform upload would get. */
  async #register(md5: string, signal: AbortSignal): Promise<string> {
    const { plan, dp } = this.#f;
    const { id } = await this.#f.dest.options.api.call<{ id: string }>(
      'file/new',
      {
        ...fileNewInput(plan, this.#f.projectId),
        drive: dp.drive,
        md5sum: md5,
        symlinkPath: { container: dp.container, object: this.#f.key },
        nonce: newNonce(),
      },
      { signal },
    );
    return id;
  }

  #forget(): void {
    if (this.#f.journal && this.#f.jkey) this.#f.journal.remove(this.#f.jkey);
  }

  /** Feeds the parts an earlier run sent into the MD5, in order, re-reading them from the local file. */
  #startCatchUp(signal: AbortSignal): void {
    if (this.#catchUp) return;
    if (this.#f.done.size === 0) {
      this.#catchUp = Promise.resolve();
      return;
    }
    const { pool } = this.#f.dest.options;
    const plan = this.#f.plan;
    this.#catchUp = (async () => {
      let buffer: ArrayBuffer | undefined;
      // Its own descriptor, checked to be the planned version at open; the scheduler checks the
      // file again after its last part, before complete() can run.
      const source = openSource(plan.entry);
      try {
        for (const spec of plan.parts) {
          const earlier = this.#f.done.get(spec.index);
          if (!earlier) continue;
          if (!buffer || buffer.byteLength < spec.length) buffer = new ArrayBuffer(Math.max(spec.length, 1));
          const r = await pool.run(
            {
              ...partJob(plan, spec, buffer, this.#f.dest.options, source),
              // The check the earlier run recorded (a Content-MD5 part: md5; a CRC32 part: crc32).
              digest: earlier.crc32 !== undefined ? 'crc32' : earlier.md5 ? 'md5' : 'none',
            },
            signal,
          );
          buffer = r.buffer;
          const [now, then] =
            earlier.crc32 !== undefined
              ? [`crc32 ${crc32Base64(r.crc32 ?? 0)}`, `crc32 ${earlier.crc32}`]
              : earlier.md5
                ? [`md5 ${r.md5}`, `md5 ${earlier.md5}`]
                : ['', ''];
          if (now !== then || r.size !== earlier.size) {
            // E.g. another --compress-level: the earlier bytes cannot be part of this object. Start over next run.
            this.#forget();
            throw new UaError(
              'UA_ERR_RESUME_MISMATCH',
              `part ${spec.index} of "${plan.entry.localPath}" is not the part an earlier run sent to ${this.#f.dp.target.describeObject(this.#f.key)} (${r.size} bytes${now ? ` ${now}` : ''}, earlier ${earlier.size} bytes${then ? ` ${then}` : ''}); rerun to upload it from the start`,
            );
          }
          await this.#md5.add(spec.index, r.data, signal);
        }
      } finally {
        source.close();
      }
    })();
    this.#catchUp.catch((err: Error) => this.#md5.fail(err));
  }
}

/** Stands for an object the cloud already completed: nothing to send or complete. */
function completedObject(uploadId: string): CloudObject {
  return {
    uploadId,
    partDigest: 'md5',
    sendPart: (part) =>
      Promise.reject(new Error(`part ${part.index} of a completed object cannot be sent again`)),
    complete: async () => undefined,
  };
}

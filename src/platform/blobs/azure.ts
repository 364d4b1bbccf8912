import {
  BlobSASPermissions,
  BlobServiceClient,
  RestError,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlockBlobClient,
} from '@azure/storage-blob';
import type { DriveRecord } from '../store/drives.js';
import {
  CloudAccessError,
  MissingPartError,
  digestStream,
  type CloudStore,
  type CloudTarget,
  type DeclaredPart,
  type ObjectDigest,
  type ObjectHead,
  type PresignedPut,
} from './cloud-store.js';
import { contentDisposition, md5Base64 } from './blob-store.js';

/**
 * The block ID of a part: `<upload tag>-<index, 6 digits>`, base64. Azure wants every block ID of
 * a blob to have the same length, hence the fixed width; the tag (the file ID's body) keeps two
 * uploads of the same name from staging over each other's blocks.
 */
export function blockId(uploadTag: string, index: number): string {
  return Buffer.from(`${uploadTag}-${String(index).padStart(6, '0')}`).toString('base64');
}

/**
 * A drive's Azure storage account. Part URLs are SAS URLs of Put Block; Azure checks the
 * Content-MD5 of each block, and /close commits the block list in part order.
 */
export class AzureStore implements CloudStore {
  readonly cloud = 'azure' as const;
  private readonly cred: StorageSharedKeyCredential;
  private readonly service: BlobServiceClient;

  constructor(d: Pick<DriveRecord, 'credentials' | 'endpoint'>) {
    const account = d.credentials.account ?? '';
    // An invalid (non-base64) key makes the SDK throw at construction; let checkAccess report it.
    this.cred = new StorageSharedKeyCredential(account, d.credentials.key ?? '');
    const endpoint = d.endpoint ?? `https://${account}.blob.core.windows.net`;
    this.service = new BlobServiceClient(endpoint, this.cred, { retryOptions: { maxTries: 2 } });
  }

  private blob(t: CloudTarget): BlockBlobClient {
    return this.service.getContainerClient(t.container).getBlockBlobClient(t.object);
  }

  private sas(
    t: CloudTarget,
    perms: string,
    ttlMs: number,
    extra: { contentDisposition?: string } = {},
  ): string {
    return generateBlobSASQueryParameters(
      {
        containerName: t.container,
        blobName: t.object,
        permissions: BlobSASPermissions.parse(perms),
        expiresOn: new Date(Date.now() + ttlMs),
        ...extra,
      },
      this.cred,
    ).toString();
  }

  async checkAccess(): Promise<void> {
    try {
      await this.service.getAccountInfo();
    } catch (err) {
      throw new CloudAccessError(`Azure refused the credentials (${describeErr(err)})`, { cause: err });
    }
  }

  async checkContainer(container: string): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.service.getContainerClient(container).exists();
    } catch (err) {
      throw new CloudAccessError(`container ${container} cannot be reached (${describeErr(err)})`, {
        cause: err,
      });
    }
    if (!exists) throw new CloudAccessError(`container ${container} does not exist`);
  }

  async startUpload(): Promise<null> {
    return null;
  }

  async presignPart(
    t: CloudTarget,
    _id: string | null,
    tag: string,
    p: DeclaredPart,
    ttlMs: number,
  ): Promise<PresignedPut> {
    const q = `comp=block&blockid=${encodeURIComponent(blockId(tag, p.index))}&${this.sas(t, 'w', ttlMs)}`;
    return {
      url: `${this.blob(t).url}?${q}`,
      headers: { 'content-length': String(p.size), 'content-md5': md5Base64(p.md5) },
    };
  }

  async uploadedParts(
    t: CloudTarget,
    _id: string | null,
    tag: string,
    parts: DeclaredPart[],
  ): Promise<Set<number>> {
    let staged: Map<string, number>;
    try {
      const list = await this.blob(t).getBlockList('uncommitted');
      staged = new Map((list.uncommittedBlocks ?? []).map((b) => [b.name, b.size]));
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return new Set();
      throw err;
    }
    // Azure checked each block's Content-MD5, so the right ID and size mean the declared bytes.
    return new Set(parts.filter((p) => staged.get(blockId(tag, p.index)) === p.size).map((p) => p.index));
  }

  async complete(t: CloudTarget, _id: string | null, tag: string, parts: DeclaredPart[]): Promise<void> {
    const staged = await this.uploadedParts(t, null, tag, parts);
    const missing = parts.filter((p) => !staged.has(p.index)).map((p) => p.index);
    if (missing.length > 0)
      throw new MissingPartError(`part ${missing.join(', ')} is not staged in the container`);
    await this.blob(t).commitBlockList(parts.map((p) => blockId(tag, p.index)));
  }

  async putEmpty(t: CloudTarget): Promise<void> {
    await this.blob(t).upload(Buffer.alloc(0), 0);
  }

  async presignGet(t: CloudTarget, ttlMs: number, filename: string): Promise<string> {
    return `${this.blob(t).url}?${this.sas(t, 'r', ttlMs, { contentDisposition: contentDisposition(filename) })}`;
  }

  async head(t: CloudTarget): Promise<ObjectHead | null> {
    try {
      const p = await this.blob(t).getProperties();
      const md5 =
        p.contentMD5 && p.contentMD5.length === 16 ? Buffer.from(p.contentMD5).toString('hex') : undefined;
      return { size: p.contentLength ?? 0, etag: p.etag ?? '', ...(md5 ? { md5 } : {}) };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return null;
      throw err;
    }
  }

  async streamObject(t: CloudTarget): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.blob(t).download();
    // An empty blob may come back without a body stream.
    return (res.readableStreamBody ?? emptyBody()) as AsyncIterable<Uint8Array>;
  }

  async md5Of(t: CloudTarget, partSizes?: number[]): Promise<ObjectDigest> {
    return digestStream(await this.streamObject(t), partSizes);
  }

  close(): void {
    // The SDK's HTTP client pools connections per process; nothing to release per store.
  }
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

function describeErr(err: unknown): string {
  if (err instanceof RestError) return `${err.code ?? 'error'}, HTTP ${err.statusCode ?? '?'}`;
  return err instanceof Error ? err.message : String(err);
}

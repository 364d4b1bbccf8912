/**
 * Direct uploads into an Azure Blob container with the user's own credentials (@azure/storage-blob).
 *
 * Every part is a Put Block (stageBlock); the file is a Put Block List (commitBlockList) naming every
 * block in order, with the blob's Content-MD5 set to the whole-object MD5 (which downloads check,
 * the platform's included). Every block is sent with its transactional MD5 (Azure rejects a block
 * whose bytes do not match): the workers hash blocks in parallel while the main thread computes the
 * whole-object MD5. The SDK's own uploadFile sends no block MD5 and so spends ~1.7 CPU s/GB less;
 * that is the price of a checked block. Block IDs are `<prefix>-<6-digit index>` in base64: all of
 * one length (Azure requires that within a blob) and reproducible from the per-file
 * prefix the journal keeps. Credentials: a connection string (AZURE_STORAGE_CONNECTION_STRING), an
 * account and key (AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY) or a SAS (AZURE_STORAGE_SAS_TOKEN).
 *
 * Resume: the uncommitted block list confirms the journal's blocks (same ID and size); Azure drops
 * uncommitted blocks after a week or when another commit lands on the blob, and those are re-sent.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { CloudError, isAbort } from '../../errors.js';
import type { JournalPart } from '../../state/journal.js';
import { type BodyThrottle, type CloudObject, type CloudPart, type CloudTarget } from '../direct/cloud.js';
import { proxyFor, type ProxyEnv } from '../proxy.js';
import type { AzureCredentials } from './credentials.js';

export { azureCredentialsFromEnv, type AzureCredentials } from './credentials.js';

export interface AzureTargetOptions {
  container: string;
  credentials: AzureCredentials;
  /** Blob service URL, e.g. `http://127.0.0.1:10000/devstoreaccount1` for azurite; default from the account. */
  endpoint?: string;
  /** Attempts per request, the SDK's retries included. */
  maxAttempts: number;
  /** Names the drive in error messages. */
  drive?: string;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, decided for the endpoint as the platform's requests are. */
  proxy?: ProxyEnv;
  /** `--throttle` for block bodies; unset: sent as they are. */
  throttle?: BodyThrottle;
}

export function blockId(prefix: string, index: number): string {
  return Buffer.from(`${prefix}-${String(index).padStart(6, '0')}`).toString('base64');
}

export class AzureTarget implements CloudTarget {
  readonly cloud = 'azure' as const;
  readonly container: string;
  readonly #client: ContainerClient;
  readonly #o: AzureTargetOptions;
  readonly #where: string;

  constructor(o: AzureTargetOptions) {
    this.#o = o;
    this.container = o.container;
    const c = o.credentials;
    const endpoint =
      o.endpoint ??
      (c.kind === 'connection-string'
        ? /BlobEndpoint=([^;]+)/i.exec(c.connectionString)?.[1]
        : c.account && `https://${c.account}.blob.core.windows.net`);
    const proxy = o.proxy && endpoint ? proxyFor(o.proxy, endpoint) : undefined;
    const pu = proxy ? new URL(proxy.url) : undefined;
    const pipeline: StoragePipelineOptions = {
      retryOptions: { maxTries: Math.max(1, o.maxAttempts) },
      // Explicit (the SDK would read HTTPS_PROXY first even for an http:// endpoint).
      ...(pu
        ? {
            proxyOptions: {
              host: `${pu.protocol}//${pu.hostname}`,
              port: Number(pu.port) || (pu.protocol === 'https:' ? 443 : 80),
              ...(pu.username ? { username: decodeURIComponent(pu.username) } : {}),
              ...(pu.password ? { password: decodeURIComponent(pu.password) } : {}),
            },
          }
        : {}),
    };
    let service: BlobServiceClient;
    if (c.kind === 'connection-string') {
      service = BlobServiceClient.fromConnectionString(c.connectionString, pipeline);
    } else {
      const account = c.account;
      const base = (
        o.endpoint ?? (account ? `https://${account}.blob.core.windows.net` : undefined)
      )?.replace(/\/+$/, '');
      if (!base)
        throw new CloudError(
          'Azure: a SAS token needs AZURE_STORAGE_ACCOUNT or a drive endpoint to know which account it is for',
        );
      service =
        c.kind === 'key'
          ? new BlobServiceClient(base, new StorageSharedKeyCredential(c.account, c.key), pipeline)
          : new BlobServiceClient(`${base}?${c.sas.replace(/^\?/, '')}`, new AnonymousCredential(), pipeline);
    }
    this.#client = service.getContainerClient(o.container);
    // The SAS query string never goes into a message.
    this.#where = this.#client.url.split('?')[0];
  }

  describeObject(key: string): string {
    return `${this.#where}/${key}`;
  }

  async start(key: string, _partCount: number | undefined, contentType: string): Promise<CloudObject> {
    return this.#object(key, randomBytes(6).toString('hex'), contentType);
  }

  async resume(
    key: string,
    uploadId: string,
    known: Map<number, JournalPart>,
    contentType: string,
    signal: AbortSignal,
  ) {
    let uncommitted: Array<{ name: string; size: number }> = [];
    try {
      const list = await this.#client
        .getBlockBlobClient(key)
        .getBlockList('uncommitted', { abortSignal: signal });
      uncommitted = list.uncommittedBlocks ?? [];
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      // No blob yet: nothing was staged that Azure still keeps (or the blob was never created).
      if ((err as { statusCode?: number }).statusCode !== 404) throw this.#error('Get Block List', key, err);
    }
    const staged = new Map(uncommitted.map((b) => [b.name, b.size]));
    const held = new Map<number, JournalPart>();
    for (const [index, p] of known) {
      if (p.etag === blockId(uploadId, index) && staged.get(p.etag) === p.size) held.set(index, p);
    }
    return { object: this.#object(key, uploadId, contentType), held };
  }

  async objectSize(key: string, signal: AbortSignal): Promise<number | undefined> {
    try {
      return (await this.#client.getBlobClient(key).getProperties({ abortSignal: signal })).contentLength;
    } catch (err) {
      if (isAbort(err, signal)) throw err;
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw this.#error('Get Blob Properties', key, err);
    }
  }

  close(): void {
    // The SDK keeps no resources that need closing.
  }

  #object(key: string, prefix: string, contentType: string): CloudObject {
    const blob = this.#client.getBlockBlobClient(key);
    return {
      uploadId: prefix,
      partDigest: 'md5',
      sendPart: async (part, signal) => {
        const id = blockId(prefix, part.index);
        const data = Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength);
        const throttle = this.#o.throttle;
        // Throttled: a stream factory, which the SDK calls again for each retry (an unstarted
        // generator costs nothing, so the first call only tells whether a bucket is set).
        const body =
          throttle && !(throttle(data, signal) instanceof Uint8Array)
            ? () => Readable.from(throttle(data, signal) as AsyncIterable<Uint8Array>)
            : data;
        try {
          await blob.stageBlock(id, body, part.size, {
            ...(part.md5 ? { transactionalContentMD5: Buffer.from(part.md5, 'hex') } : {}),
            abortSignal: signal,
          });
        } catch (err) {
          if (isAbort(err, signal)) throw err;
          throw this.#error(`Put Block ${part.index}`, key, err);
        }
        return id;
      },
      complete: async (parts: CloudPart[], md5, signal) => {
        try {
          await blob.commitBlockList(
            parts.map((p) => p.etag),
            {
              blobHTTPHeaders: {
                blobContentMD5: Buffer.from(md5, 'hex'),
                ...(contentType ? { blobContentType: contentType } : {}),
              },
              abortSignal: signal,
            },
          );
        } catch (err) {
          if (isAbort(err, signal)) throw err;
          throw this.#error('Put Block List', key, err);
        }
      },
    };
  }

  #error(op: string, key: string, err: unknown): CloudError {
    const e = err as { statusCode?: number; code?: string; message?: string };
    const code = e?.code ?? (err as Error)?.name ?? 'Error';
    const auth = e?.statusCode === 403 || code === 'AuthenticationFailed' || code === 'AuthorizationFailure';
    const hint = auth
      ? ` Check the Azure credentials in your environment (AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN)${this.#o.drive ? ` for the container of drive ${this.#o.drive}` : ''}.`
      : '';
    const first = (e?.message ?? String(err)).split('\n')[0].replace(/\.$/, '');
    return new CloudError(
      `Azure ${op} failed for ${this.describeObject(key)}: ${code}${e?.statusCode ? ` (HTTP ${e.statusCode})` : ''}: ${first}.${hint}`,
      { status: e?.statusCode, cloudCode: code, cause: err },
    );
  }
}

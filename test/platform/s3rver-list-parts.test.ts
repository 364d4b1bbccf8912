/**
 * The ListParts route the test harness adds to s3rver (test/helpers/s3rver-list-parts.ts), driven by
 * the AWS SDK's own commands: what it lists is what UploadPart stored (number, size, ETag = MD5 of the
 * part's bytes), it pages by max-parts / part-number-marker, and an unknown upload is NoSuchUpload.
 * CompleteMultipartUpload with a part that never arrived (or another part's ETag) is InvalidPart, the
 * upload stays usable, and once the part is sent it completes byte-exact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startS3rver, type S3rverHandle } from '../helpers/cloud.js';

const BUCKET = 'list-parts';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the request to fail');
};

describe('s3rver with the harness ListParts route', () => {
  let s3: S3rverHandle;
  let client: S3Client;
  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.createBucket(BUCKET);
    client = s3.client();
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  const create = async (key: string) =>
    (await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))).UploadId!;
  const put = (key: string, uploadId: string, n: number, body: Buffer) =>
    client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: n, Body: body }),
    );

  it('lists the parts UploadPart stored, in order, and pages with max-parts and part-number-marker', async () => {
    const key = 'dir/sub/obj.bin';
    const uploadId = await create(key);
    // Sizes differ per part; part 4 is never sent; 10 sorts after 9 numerically, not as a string.
    const bodies = new Map<number, Buffer>();
    for (const n of [3, 1, 10, 2, 5, 9]) bodies.set(n, randomBytes(1000 + n));
    for (const [n, b] of bodies) {
      const out = await put(key, uploadId, n, b);
      expect(out.ETag).toBe(`"${md5(b)}"`);
    }
    const want = [1, 2, 3, 5, 9, 10].map((n) => ({
      PartNumber: n,
      Size: bodies.get(n)!.length,
      ETag: `"${md5(bodies.get(n)!)}"`,
    }));

    const all = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    expect(all).toMatchObject({
      Bucket: BUCKET,
      Key: key,
      UploadId: uploadId,
      IsTruncated: false,
      MaxParts: 1000,
    });
    expect(all.Parts!.map(({ PartNumber, Size, ETag }) => ({ PartNumber, Size, ETag }))).toEqual(want);
    for (const p of all.Parts!) expect(p.LastModified).toBeInstanceOf(Date);

    // Pages of two, following NextPartNumberMarker as the SDK's callers do.
    const pages: { marker?: string; numbers: number[]; next?: string; truncated?: boolean }[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(
        new ListPartsCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MaxParts: 2,
          PartNumberMarker: marker,
        }),
      );
      expect(page.MaxParts).toBe(2);
      pages.push({
        marker,
        numbers: page.Parts!.map((p) => p.PartNumber!),
        next: page.NextPartNumberMarker,
        truncated: page.IsTruncated,
      });
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    expect(pages).toEqual([
      { marker: undefined, numbers: [1, 2], next: '2', truncated: true },
      { marker: '2', numbers: [3, 5], next: '5', truncated: true },
      { marker: '5', numbers: [9, 10], next: '10', truncated: false },
    ]);

    // A marker between stored parts starts after it.
    const after = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumberMarker: '4' }),
    );
    expect(after.PartNumberMarker).toBe('4');
    expect(after.Parts!.map((p) => p.PartNumber)).toEqual([5, 9, 10]);

    // Re-sending a part replaces it: the listing shows the new bytes' size and ETag.
    const again = randomBytes(77);
    await put(key, uploadId, 2, again);
    const relisted = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
    );
    expect(relisted.Parts!.find((p) => p.PartNumber === 2)).toMatchObject({
      Size: 77,
      ETag: `"${md5(again)}"`,
    });
  });

  it('a server page size (listPartsPageSize) pages callers that never set max-parts', async () => {
    const small = await startS3rver({ listPartsPageSize: 2 });
    const c = small.client();
    try {
      await small.createBucket(BUCKET);
      const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'k' }));
      for (const n of [1, 2, 3])
        await c.send(
          new UploadPartCommand({ Bucket: BUCKET, Key: 'k', UploadId, PartNumber: n, Body: randomBytes(10) }),
        );
      const first = await c.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'k', UploadId }));
      expect(first.Parts!.map((p) => p.PartNumber)).toEqual([1, 2]);
      expect(first).toMatchObject({ IsTruncated: true, NextPartNumberMarker: '2', MaxParts: 2 });
      const rest = await c.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: 'k', UploadId, PartNumberMarker: '2' }),
      );
      expect(rest.Parts!.map((p) => p.PartNumber)).toEqual([3]);
      expect(rest.IsTruncated).toBe(false);
    } finally {
      c.destroy();
      await small.stop();
    }
  });

  it('parts of an upload created with the CRC32 checksum algorithm are listed with their CRC32, as S3 does', async () => {
    const crcOf = (b: Buffer) => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(b));
      return out.toString('base64');
    };
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'crc.bin', ChecksumAlgorithm: 'CRC32' }),
    );
    const body = randomBytes(4321);
    // The checksum as a plain header (a trailer would be aws-chunked framing, which s3rver stores as data).
    await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'crc.bin',
        UploadId,
        PartNumber: 1,
        Body: body,
        ChecksumCRC32: crcOf(body),
      }),
    );
    const listed = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'crc.bin', UploadId }));
    expect(listed.Parts).toHaveLength(1);
    expect(listed.Parts![0]).toMatchObject({ PartNumber: 1, Size: 4321, ChecksumCRC32: crcOf(body) });
    // Without a checksum algorithm, no CRC is listed.
    const plain = await create('plain.bin');
    await put('plain.bin', plain, 1, body);
    const p = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'plain.bin', UploadId: plain }));
    expect(p.Parts![0].ChecksumCRC32).toBeUndefined();
  });

  it('an upload with no parts yet lists none', async () => {
    const uploadId = await create('empty.bin');
    const out = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'empty.bin', UploadId: uploadId }),
    );
    expect(out.IsTruncated).toBe(false);
    expect(out.Parts ?? []).toEqual([]);
  });

  it('an unknown upload ID, or one of another key, is NoSuchUpload (404); an unknown bucket NoSuchBucket', async () => {
    const uploadId = await create('mine.bin');
    for (const [Key, UploadId] of [
      ['mine.bin', 'f'.repeat(32)],
      ['mine.bin', '../../etc'],
      ['other.bin', uploadId],
    ]) {
      const err = await errorOf(client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })));
      expect(err.name).toBe('NoSuchUpload');
      expect(err.$metadata.httpStatusCode).toBe(404);
    }
    const err = await errorOf(
      client.send(new ListPartsCommand({ Bucket: 'no-such-bucket', Key: 'mine.bin', UploadId: uploadId })),
    );
    expect(err.name).toBe('NoSuchBucket');
  });

  it('an unknown access key is refused by s3rver’s own authentication', async () => {
    const uploadId = await create('auth.bin');
    const stranger = s3.client({ accessKeyId: 'NOT-A-KEY', secretAccessKey: 'x' });
    try {
      const err = await errorOf(
        stranger.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'auth.bin', UploadId: uploadId })),
      );
      expect(err.name).toBe('InvalidAccessKeyId');
    } finally {
      stranger.destroy();
    }
  });

  it('completing with a part that never arrived, or with a wrong ETag, is InvalidPart (400); the upload then completes byte-exact', async () => {
    const key = 'complete.bin';
    const uploadId = await create(key);
    const a = randomBytes(5 * 1024 * 1024);
    const b = randomBytes(1234);
    await put(key, uploadId, 1, a);
    const complete = (parts: { PartNumber: number; ETag: string }[], UploadId = uploadId) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    const listed = [
      { PartNumber: 1, ETag: `"${md5(a)}"` },
      { PartNumber: 2, ETag: `"${md5(b)}"` },
    ];

    const missing = await errorOf(complete(listed));
    expect(missing.name).toBe('InvalidPart');
    expect(missing.$metadata.httpStatusCode).toBe(400);
    const wrongTag = await errorOf(complete([{ PartNumber: 1, ETag: `"${md5(b)}"` }]));
    expect(wrongTag.name).toBe('InvalidPart');
    const order = await errorOf(complete([...listed].reverse()));
    expect(order.name).toBe('InvalidPartOrder');
    const unknown = await errorOf(complete(listed, 'e'.repeat(32)));
    expect(unknown.name).toBe('NoSuchUpload');

    // Nothing was lost: part 1 is still listed, and sending part 2 lets the same upload complete.
    const still = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    expect(still.Parts!.map((p) => p.PartNumber)).toEqual([1]);
    await put(key, uploadId, 2, b);
    const done = await complete(listed);
    expect(done.Key).toBe(key);
    expect((await s3.getObject(BUCKET, key)).equals(Buffer.concat([a, b]))).toBe(true);
    // A completed upload is gone, as on S3.
    const gone = await errorOf(
      client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
    );
    expect(gone.name).toBe('NoSuchUpload');
  });
});

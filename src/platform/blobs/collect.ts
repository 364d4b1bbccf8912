import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { PartMismatchError, type ExpectedPart } from './blob-store.js';

/** A small part's body, held in memory and checked: exactly the signed size and MD5. */
export interface CollectedPart {
  chunks: Buffer[];
  size: number;
  md5: string;
}

/**
 * Reads a whole (small) body, hashing as it arrives, and checks it against what was signed; throws
 * PartMismatchError when it does not match. A body longer than signed is drained, not kept, so the
 * client gets an answer and memory stays bounded by the signed size. Plain listeners rather than
 * `for await`: no async iterator and no promise per chunk.
 */
export async function collectChecked(body: Readable, expected: ExpectedPart): Promise<CollectedPart> {
  const hash = createHash('md5');
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    if (body.readableEnded) return resolve();
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > expected.size) return;
      hash.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onClose = () => finish(new Error('the connection closed before the body ended'));
    const finish = (err?: Error) => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', finish);
      body.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', finish);
    body.on('close', onClose);
  });
  checkSize(size, expected);
  const md5 = hash.digest('hex');
  checkDigest(md5, size, expected);
  return { chunks, size, md5 };
}

/** A body's byte count against the signed size (a longer body was drained, not stored). */
export function checkSize(size: number, expected: ExpectedPart): void {
  if (size > expected.size) {
    throw new PartMismatchError('ExcessBody', `body is longer than the signed ${expected.size} bytes`, {
      size,
    });
  }
  if (size !== expected.size) {
    throw new PartMismatchError('IncompleteBody', `received ${size} bytes, expected ${expected.size}`, {
      size,
    });
  }
}

export function checkDigest(md5: string, size: number, expected: ExpectedPart): void {
  if (md5 !== expected.md5) {
    throw new PartMismatchError(
      'BadDigest',
      `the MD5 of the body (${md5}) is not the signed ${expected.md5}`,
      {
        size,
        md5,
      },
    );
  }
}

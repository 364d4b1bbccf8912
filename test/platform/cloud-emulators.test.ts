import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startAzurite, startS3rver } from '../helpers/cloud.js';

describe('cloud emulator helpers', () => {
  it('s3rver: stores and returns bytes', async () => {
    const s3 = await startS3rver();
    try {
      await s3.createBucket('bkt1');
      const data = randomBytes(1000);
      await s3.client().send(new PutObjectCommand({ Bucket: 'bkt1', Key: 'a/b.bin', Body: data }));
      expect((await s3.getObject('bkt1', 'a/b.bin')).equals(data)).toBe(true);
    } finally {
      await s3.stop();
    }
  });
  it('azurite: stores and returns bytes', async () => {
    const az = await startAzurite();
    try {
      await az.createContainer('ctr1');
      const data = randomBytes(1000);
      await az.service().getContainerClient('ctr1').getBlockBlobClient('x/y.bin').uploadData(data);
      expect((await az.getBlob('ctr1', 'x/y.bin')).equals(data)).toBe(true);
    } finally {
      await az.stop();
    }
  });
});

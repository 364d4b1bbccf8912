import { describe, expect, it } from 'vitest';
import { presignS3 } from '../../../src/platform/blobs/s3-presign.js';

describe('presignS3', () => {
  // The worked example of AWS's "Authenticating Requests: Using Query Parameters (SigV4)" page.
  it('reproduces the documented AWS example signature', () => {
    const url = presignS3({
      method: 'GET',
      endpoint: 'https://s3.amazonaws.com',
      virtualHosted: true,
      region: 'us-east-1',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      bucket: 'examplebucket',
      key: 'test.txt',
      expiresSeconds: 86400,
      now: new Date('2013-05-24T00:00:00Z'),
    });
    const u = new URL(url);
    expect(u.host).toBe('examplebucket.s3.amazonaws.com');
    expect(u.pathname).toBe('/test.txt');
    expect(u.searchParams.get('X-Amz-Credential')).toBe(
      'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
    );
    expect(u.searchParams.get('X-Amz-Signature')).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('signs path-style keys segment by segment and lists extra signed headers', () => {
    const url = presignS3({
      method: 'PUT',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      bucket: 'bkt',
      key: 'a b/c+d.txt',
      query: { partNumber: '2', uploadId: 'u/1' },
      signedHeaders: { 'content-md5': 'abc==' },
      expiresSeconds: 60,
    });
    const u = new URL(url);
    expect(u.pathname).toBe('/bkt/a%20b/c%2Bd.txt');
    expect(u.searchParams.get('uploadId')).toBe('u/1');
    expect(u.searchParams.get('X-Amz-SignedHeaders')).toBe('content-md5;host');
  });
});

import { describe, expect, it } from 'vitest';
import { verifyParts } from '../../../src/transfer/verify.js';

const part = (size: number, md5: string) => ({ size, md5 });

describe('verifyParts', () => {
  it('passes when the destination holds exactly the source parts', () => {
    const source = new Map([
      [1, part(5, 'a')],
      [2, part(3, 'b')],
    ]);
    expect(() => verifyParts('file-x', source, new Map(source))).not.toThrow();
    // A remote part without an MD5 (checked by CRC-32 in direct mode) is compared by size.
    expect(() =>
      verifyParts(
        'file-x',
        source,
        new Map([
          [1, part(5, '')],
          [2, part(3, 'b')],
        ]),
      ),
    ).not.toThrow();
  });

  it('names the first part that differs, by MD5, by size, missing, or extra', () => {
    const source = new Map([
      [1, part(5, 'a')],
      [2, part(3, 'b')],
    ]);
    const fails = (remote: Map<number, { size: number; md5: string }>) => {
      try {
        verifyParts('file-x', source, remote);
      } catch (err) {
        expect((err as { code: string }).code).toBe('UA_ERR_VERIFY');
        return (err as Error).message;
      }
      throw new Error('verifyParts passed');
    };
    expect(
      fails(
        new Map([
          [1, part(5, 'z')],
          [2, part(3, 'b')],
        ]),
      ),
    ).toBe(
      'verification failed for file-x part 1: local source has 5 bytes md5 a, platform has 5 bytes md5 z',
    );
    expect(
      fails(
        new Map([
          [1, part(5, 'a')],
          [2, part(4, 'b')],
        ]),
      ),
    ).toContain('part 2: local source has 3 bytes');
    expect(fails(new Map([[1, part(5, 'a')]]))).toContain(
      'part 2: local source has 3 bytes md5 b, platform has no complete part',
    );
    expect(
      fails(
        new Map([
          [1, part(5, 'a')],
          [2, part(3, 'b')],
          [3, part(1, 'c')],
        ]),
      ),
    ).toBe(
      'verification failed for file-x part 3: platform has 1 bytes md5 c, the local source has no such part',
    );
  });
});

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniffCompression } from '../../../src/work/sniff.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (s: string) => new Uint8Array(Buffer.from(s, 'binary'));

/** A BGZF block header (bgzip/BAM): gzip with FEXTRA holding the 'BC' subfield. */
function bgzfHead(): Uint8Array {
  return bytes(0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0, 0x1b, 0x00, 0x03, 0x00);
}

describe('sniffCompression', () => {
  it('reports an empty head as not compressed with no media', () => {
    expect(sniffCompression(new Uint8Array(0))).toEqual({ compressed: false, format: null, media: '' });
  });

  it('tells plain gzip from BGZF by the BC extra subfield', () => {
    expect(sniffCompression(gzipSync(Buffer.from('ACGT\n')))).toEqual({
      compressed: true,
      format: 'gzip',
      media: 'application/x-gzip',
    });
    expect(sniffCompression(bgzfHead())).toEqual({
      compressed: true,
      format: 'bgzf',
      media: 'application/x-gzip',
    });
    // FEXTRA with a different subfield is still plain gzip.
    const other = bgzfHead();
    other[12] = 0x41;
    expect(sniffCompression(other).format).toBe('gzip');
  });

  it.each([
    ['bzip2', text('BZh91AY&SY'), 'application/x-bzip2'],
    ['xz', bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00), 'application/x-xz'],
    ['zstd', bytes(0x28, 0xb5, 0x2f, 0xfd, 0x04), 'application/zstd'],
    ['zip', text('PK\x03\x04\x14\x00'), 'application/zip'],
    ['cram', text('CRAM\x03\x00'), 'application/x-cram'],
    ['lz4', bytes(0x04, 0x22, 0x4d, 0x18, 0x64), 'application/x-lz4'],
    ['7z', bytes(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4), 'application/x-7z-compressed'],
    ['rar', text('Rar!\x1a\x07\x01\x00'), 'application/x-rar'],
    ['compress', bytes(0x1f, 0x9d, 0x90), 'application/x-compress'],
    ['lzip', text('LZIP\x01'), 'application/x-lzip'],
  ])('recognises %s', (format, head, media) => {
    expect(sniffCompression(head)).toEqual({ compressed: true, format, media });
  });

  it('reports text, including UTF-8 and a multibyte character cut at the end of the head', () => {
    expect(sniffCompression(Buffer.from('@read1\nACGT\n+\nFFFF\n')).media).toBe('text/plain');
    const utf8 = Buffer.from('naïve — ümlaut ✓ text\n');
    expect(sniffCompression(utf8).media).toBe('text/plain');
    expect(sniffCompression(utf8.subarray(0, utf8.length - 3)).media).toBe('text/plain');
  });

  it('reports binary for NUL bytes or mostly non-text bytes', () => {
    expect(sniffCompression(Buffer.from('abc\0def'))).toEqual({
      compressed: false,
      format: null,
      media: 'application/octet-stream',
    });
    expect(sniffCompression(bytes(0x80, 0x81, 0xfe, 0xff, 0x41, 0x42)).media).toBe(
      'application/octet-stream',
    );
  });

  it('does not match a magic that is cut short', () => {
    expect(sniffCompression(bytes(0x1f)).compressed).toBe(false);
    expect(sniffCompression(text('BZ')).compressed).toBe(false);
  });
});

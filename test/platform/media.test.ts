import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { MiB, describe, newFile, uploadWhole, waitClosed } from './file-helpers.js';

/**
 * A file created without `media` (dx upload sends none) gets a media type inferred from its bytes
 * once it is assembled, and describe shows it from `closed` on: the classic agent's choices for
 * small files (libmagic's): `inode/x-empty`, `application/x-gzip`, `text/plain` for printable
 * ASCII/UTF-8 without NULs, and `application/octet-stream` as the floor. A media type the client
 * gave is never replaced.
 */
let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform({ closingDelayMs: 0 });
});
afterAll(() => tp.stop());

async function mediaOf(parts: Buffer[], input: Record<string, unknown> = {}): Promise<string> {
  const id = await uploadWhole(tp, parts, input);
  return (await waitClosed(tp, id)).media as string;
}

const b = (s: string) => Buffer.from(s, 'utf8');

group('inferred at close when the client sent no media type', () => {
  it.each([
    ['an empty file', Buffer.alloc(0), 'inode/x-empty'],
    ['ASCII text', b('hello\nworld\n'), 'text/plain'],
    ['one character, no newline', b('x'), 'text/plain'],
    ['UTF-8 text', b('résumé 数据 🧬\n'), 'text/plain'],
    ['text with a BOM', b('\ufeffid,name\n1,x\n'), 'text/plain'],
    ['text with tab, CR, FF, VT, BS, BEL and ESC', b('a\tb\r\n\f\v\b\x07\x1b[0m\n'), 'text/plain'],
    ['a NUL in text', b('abc\0def\n'), 'application/octet-stream'],
    ['another control character', b('abc\x01def\n'), 'application/octet-stream'],
    ['DEL', b('abc\x7f\n'), 'application/octet-stream'],
    ['latin1, not UTF-8', Buffer.from('r\xe9sum\xe9\n', 'latin1'), 'application/octet-stream'],
    ['an overlong UTF-8 form', Buffer.from([0x61, 0xc0, 0xaf, 0x0a]), 'application/octet-stream'],
    ['a UTF-8-encoded surrogate', Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x0a]), 'application/octet-stream'],
    [
      'a cut UTF-8 sequence at the very end',
      Buffer.concat([b('ab'), b('数').subarray(0, 2)]),
      'application/octet-stream',
    ],
    ['random bytes', randomBytes(4096), 'application/octet-stream'],
    ['gzip', gzipSync(b('ACGT\n'.repeat(100))), 'application/x-gzip'],
    ['gzip of nothing', gzipSync(Buffer.alloc(0)), 'application/x-gzip'],
  ])('%s → %s', async (_label, bytes, want) => {
    expect(await mediaOf([bytes])).toBe(want);
  });

  it('an empty `media` counts as none', async () => {
    expect(await mediaOf([b('text\n')], { media: '' })).toBe('text/plain');
  });

  it('looks at the start only: text up to the sniff window is text, whatever follows', async () => {
    // 64 KiB of text with a 3-byte character across the window's end, then binary in part 2.
    const text = Buffer.concat([Buffer.alloc(64 * 1024 - 1, 'a'), b('数'), Buffer.alloc(5 * MiB, 'b')]);
    expect(
      await mediaOf([text.subarray(0, 5 * MiB), Buffer.concat([text.subarray(5 * MiB), randomBytes(10)])]),
    ).toBe('text/plain');
  });

  it('an open file has none yet', async () => {
    const id = await newFile(tp, { name: 'later.txt' });
    expect((await describe(tp, id)).media).toBe('');
  });
});

group('never replaces the client’s choice', () => {
  it.each([
    ['a type for text', 'application/x-bed'],
    ['octet-stream for text', 'application/octet-stream'],
    ['text/plain for gzip', 'text/plain'],
  ])('%s: %s stays', async (_label, media) => {
    const bytes = media === 'text/plain' ? gzipSync(b('x')) : b('chr1\t1\t2\n');
    expect(await mediaOf([bytes], { media })).toBe(media);
  });

  it('records have no media type to infer', async () => {
    const r = await tp.call('record/new', { project: tp.project, name: 'r', close: true });
    expect(r.status).toBe(200);
    expect((await describe(tp, r.body.id)).media).toBeUndefined();
  });
});

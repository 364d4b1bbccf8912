/**
 * The tar layout: header bytes field by field, the ustar prefix split and the pax fallback, exact
 * sizes, any byte range assembled from segments equal to the whole, determinism, and the archive read
 * back by GNU tar and Python's tarfile, every member byte-equal to its source.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarMemberError } from '../../../src/errors.js';
import { BLOCK, END_LENGTH, TarLayout, type TarMember } from '../../../src/read/tar-layout.js';
import { md5, tempDir, writeRandomFile } from '../../helpers/files.js';

const tmp = tempDir('ua-tar-layout-');
afterAll(() => tmp.cleanup());

const round = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
const field = (h: Uint8Array, at: number, len: number) =>
  Buffer.from(h.subarray(at, at + len))
    .toString('latin1')
    .replace(/\0.*$/s, '');
const octalField = (h: Uint8Array, at: number, len: number) => parseInt(field(h, at, len), 8);

/** The archive's bytes from its segments over [offset, offset + length), member data from `data`. */
function assemble(layout: TarLayout, data: (i: number) => Uint8Array, offset = 0, length = layout.size) {
  const pieces = layout.segments(offset, length).map((s) => {
    if (s.kind === 'bytes') return Buffer.from(s.bytes);
    if (s.kind === 'zeros') return Buffer.alloc(s.length);
    return Buffer.from(data(s.member).subarray(s.offset, s.offset + s.length));
  });
  return Buffer.concat(pieces);
}

/** The records of a pax extended header block and the data after it. */
const paxRecords = (h: Uint8Array) =>
  Buffer.from(h.subarray(BLOCK, BLOCK + octalField(h, 124, 12))).toString('utf8');

/** The standard checksum: every byte, the checksum field counted as spaces. */
function checksumOf(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum;
}

const name100 = `${'d'.repeat(40)}/${'f'.repeat(59)}`; // exactly 100 bytes
const deep = `${Array.from({ length: 12 }, (_, i) => `dir${i}xxxxxxx`).join('/')}/file.cbcl`; // 141 bytes, splits
const longBase = `run/${'b'.repeat(120)}.bin`; // the last component alone exceeds 100 bytes: pax
const longPrefix = `${'p'.repeat(160)}/${'q'.repeat(30)}`; // no '/' within the first 156 bytes: pax
const unicode = `run/Données-${'é'.repeat(30)}/échantillon-${'é'.repeat(20)}.fastq`; // > 100 bytes, splits
const unicodePax = `run/Données/échantillon-${'é'.repeat(60)}.fastq`; // a last component of 146 bytes

describe('TarLayout', () => {
  it('writes a ustar header: fixed owner, mode 0644, mtime in seconds, type 0, correct checksum', () => {
    const layout = TarLayout.of([{ name: 'a/b.txt', size: 5, mtimeMs: 1_700_000_000_999 }]);
    const h = layout.headerOf(0);
    expect(h.length).toBe(BLOCK);
    expect(field(h, 0, 100)).toBe('a/b.txt');
    expect(field(h, 100, 8)).toBe('0000644');
    expect(field(h, 108, 8)).toBe('0000000');
    expect(field(h, 116, 8)).toBe('0000000');
    expect(octalField(h, 124, 12)).toBe(5);
    expect(octalField(h, 136, 12)).toBe(1_700_000_000);
    expect(String.fromCharCode(h[156])).toBe('0');
    expect(field(h, 257, 6)).toBe('ustar');
    expect(field(h, 263, 2)).toBe('00');
    expect(field(h, 265, 32) + field(h, 297, 32)).toBe(''); // uname, gname
    expect(octalField(h, 148, 8)).toBe(checksumOf(h));
    expect([h[154], h[155]]).toEqual([0, 0x20]); // 6 digits, NUL, space
    expect(layout.dataOffset(0)).toBe(BLOCK);
    expect(layout.size).toBe(BLOCK + BLOCK + END_LENGTH);
  });

  it('keeps names of 100 bytes in the name field, splits longer ones at a slash, pax for the rest', () => {
    const members = [name100, deep, longBase, longPrefix, unicode].map((name, i): TarMember => ({
      name,
      size: i * 100,
      mtimeMs: 1e12,
      mode: 0o755,
    }));
    const layout = TarLayout.of(members);
    expect(field(layout.headerOf(0), 0, 100)).toBe(name100);
    expect(field(layout.headerOf(0), 345, 155)).toBe('');
    const split = layout.headerOf(1);
    expect(`${field(split, 345, 155)}/${field(split, 0, 100)}`).toBe(deep);
    expect(field(split, 100, 8)).toBe('0000755');
    const u = Buffer.from(layout.headerOf(4));
    const uName = u.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const uPrefix = u.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    expect(`${uPrefix}/${uName}`).toBe(unicode);
    for (const i of [2, 3]) {
      const h = layout.headerOf(i);
      const records = paxRecords(h);
      expect(records).toBe(`${records.length} path=${members[i].name}\n`); // the length counts itself
      expect(h.length).toBe(BLOCK + round(records.length) + BLOCK);
      expect(field(h, 0, 100)).toBe('././@PaxHeader');
      expect(String.fromCharCode(h[156])).toBe('x');
      expect(octalField(h, 124, 12)).toBe(records.length);
      const ustar = h.subarray(h.length - BLOCK);
      expect(members[i].name.startsWith(field(ustar, 0, 100))).toBe(true); // truncated, for old readers
      expect(octalField(ustar, 124, 12)).toBe(members[i].size);
      for (const b of [h.subarray(0, BLOCK), ustar]) expect(octalField(b, 148, 8)).toBe(checksumOf(b));
    }
  });

  it('moves a size of 8 GiB or more into a pax record', () => {
    const size = 9 * 2 ** 30 + 1;
    const layout = TarLayout.of([{ name: 'big.bcl', size, mtimeMs: 0 }]);
    const h = layout.headerOf(0);
    const record = paxRecords(h);
    expect(record).toBe(`${record.length} size=${size}\n`);
    expect(octalField(h.subarray(2 * BLOCK), 124, 12)).toBe(0);
    expect(layout.size).toBe(3 * BLOCK + round(size) + END_LENGTH);
  });

  it('computes the exact size and data offsets up front', () => {
    const sizes = [0, 1, 511, 512, 513, 4096, 100_000];
    const layout = TarLayout.of(sizes.map((size, i) => ({ name: `m${i}`, size, mtimeMs: 0 })));
    let at = 0;
    sizes.forEach((size, i) => {
      expect(layout.dataOffset(i)).toBe(at + BLOCK);
      at += BLOCK + round(size);
    });
    expect(layout.size).toBe(at + END_LENGTH);
    expect(TarLayout.of([]).size).toBe(END_LENGTH);
  });

  it('gives any byte range as segments equal to that range of the whole archive', () => {
    const data = [0, 1, 512, 700, 3000, 1].map((n) => Buffer.alloc(n, n % 251));
    const names = ['zero', 'one', longBase, 'odd', deep, 'last'];
    const layout = TarLayout.of(data.map((d, i) => ({ name: names[i], size: d.length, mtimeMs: 5e11 })));
    const whole = assemble(layout, (i) => data[i]);
    expect(whole.length).toBe(layout.size);
    for (let cut = 1; cut < 5000; cut += 97) {
      for (let offset = 0; offset < layout.size; offset += cut) {
        const length = Math.min(cut, layout.size - offset);
        const got = assemble(layout, (i) => data[i], offset, length);
        expect(got.equals(whole.subarray(offset, offset + length))).toBe(true);
      }
    }
    expect(layout.segments(layout.size, 0)).toEqual([]);
    expect(() => layout.segments(layout.size - 1, 2)).toThrow(RangeError);
  });

  it('is deterministic: the same members give the same bytes; any change in them changes the bytes', () => {
    const m = (over: Partial<TarMember> = {}): TarMember[] => [
      { name: 'run/RunInfo.xml', size: 10, mtimeMs: 1_700_000_000_500 },
      { name: longBase, size: 3, mtimeMs: 1_700_000_001_000, ...over },
    ];
    const bytes = (members: TarMember[]) =>
      assemble(TarLayout.of(members), (i) => Buffer.alloc(members[i].size, 7));
    expect(md5(bytes(m()))).toBe(md5(bytes(m())));
    for (const over of [{ mtimeMs: 1_700_000_002_000 }, { mode: 0o600 }, { name: 'other' }, { size: 4 }])
      expect(md5(bytes(m(over)))).not.toBe(md5(bytes(m())));
    expect(md5(bytes(m({ mtimeMs: 1_700_000_001_999 })))).toBe(md5(bytes(m()))); // whole seconds
  });

  it('refuses members it cannot lay out', () => {
    const refuse = (m: Partial<TarMember>, text: string) =>
      expect(() => TarLayout.of([{ name: 'x', size: 0, mtimeMs: 0, ...m }])).toThrow(
        expect.objectContaining({ name: 'TarMemberError', message: expect.stringContaining(text) }),
      );
    refuse({ name: '' }, 'empty');
    refuse({ name: '/etc/passwd' }, 'relative');
    refuse({ name: 'a/../b' }, "'..'");
    refuse({ name: 'a//b' }, 'empty');
    refuse({ name: 'dir/' }, 'empty');
    refuse({ name: 'a\0b' }, 'NUL');
    refuse({ name: 'a\ud800' }, 'surrogate');
    refuse({ size: -1 }, 'byte count');
    refuse({ size: 1.5 }, 'byte count');
    refuse({ mtimeMs: NaN }, 'not a time');
    refuse({ mode: 0o10000 }, 'permission bits');
    expect(() =>
      TarLayout.of([
        { name: 'same', size: 0, mtimeMs: 0 },
        { name: 'same', size: 1, mtimeMs: 0 },
      ]),
    ).toThrow(TarMemberError);
  });

  it('writes the bytes GNU tar writes for the same files in ustar format (then only its record padding)', () => {
    const root = join(tmp.dir, 'gnu-same');
    const names = ['RUN1/RunInfo.xml', 'RUN1/empty', 'RUN1/Data/block', `RUN1/${deep}`, 'RUN1/one'];
    const members = names.map((name, i) => {
      const path = join(root, name);
      writeRandomFile(path, [1234, 0, 512, 3000, 1][i]);
      utimesSync(path, 1_700_000_000 - i, 1_700_000_000 - i);
      return { name, size: statSync(path).size, mtimeMs: statSync(path).mtimeMs, path };
    });
    const gnuTar = join(tmp.dir, 'gnu-same.tar');
    const args = ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mode=0644'];
    execFileSync('tar', [...args, '--no-recursion', '-cf', gnuTar, '-C', root, ...names]);
    const layout = TarLayout.of(members);
    const ours = assemble(layout, (i) => readFileSync(members[i].path));
    const theirs = readFileSync(gnuTar);
    expect(theirs.length % 10240).toBe(0);
    expect(ours.equals(theirs.subarray(0, ours.length))).toBe(true);
    expect(theirs.subarray(ours.length).every((b) => b === 0)).toBe(true);
  });

  it('is read by GNU tar and Python tarfile; every extracted member is byte-equal to its source', () => {
    const src = join(tmp.dir, 'src');
    const specs: Array<[string, number]> = [
      ['RUN1/RunInfo.xml', 1234],
      ['RUN1/empty.txt', 0],
      ['RUN1/one', 1],
      ['RUN1/block', 512],
      ['RUN1/Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl', 70_001],
      [`RUN1/${deep}`, 3000],
      [longBase.replace('run/', 'RUN1/'), 777],
      [unicode.replace('run/', 'RUN1/'), 513],
      [unicodePax.replace('run/', 'RUN1/'), 2],
    ];
    const members = specs.map(([name, size], i) => {
      const path = join(src, `f${i}`);
      writeRandomFile(path, size);
      utimesSync(path, 1_700_000_000 + i, 1_700_000_000 + i);
      return { name, size, mtimeMs: statSync(path).mtimeMs, path, mode: i === 0 ? 0o600 : undefined };
    });
    const layout = TarLayout.of(members);
    const tar = join(tmp.dir, 'batch.tar');
    writeFileSync(
      tar,
      assemble(layout, (i) => readFileSync(members[i].path)),
    );
    expect(statSync(tar).size % 10240).not.toBe(0); // no record padding, and both readers accept it

    const gnu = (args: string[]) => {
      const r = spawnSync('tar', args, { encoding: 'utf8' });
      expect([r.status, r.stderr]).toEqual([0, '']); // no error, and no warning either
      return r.stdout;
    };
    const listing = gnu(['-tvf', tar]);
    expect(listing.trim().split('\n')).toHaveLength(members.length);
    expect(listing).toContain('-rw------- 0/0');
    const out = join(tmp.dir, 'gnu');
    mkdirSync(out);
    gnu(['-xf', tar, '-C', out]);
    for (const m of members) {
      const got = join(out, m.name);
      expect(md5(readFileSync(got))).toBe(md5(readFileSync(m.path)));
      expect(Math.floor(statSync(got).mtimeMs / 1000)).toBe(Math.floor(m.mtimeMs / 1000));
    }

    const py = `
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print(json.dumps([[m.name, m.size, m.mtime, m.mode, m.uid, m.gid, m.type.decode(),
        hashlib.md5(t.extractfile(m).read()).hexdigest()] for m in t.getmembers()]))`;
    const read = JSON.parse(execFileSync('python3', ['-c', py, tar], { encoding: 'utf8' }));
    expect(read).toEqual(
      members.map((m) => [
        m.name,
        m.size,
        Math.floor(m.mtimeMs / 1000),
        m.mode ?? 0o644,
        0,
        0,
        '0',
        md5(readFileSync(m.path)),
      ]),
    );
  });
});

/**
 * A POSIX ustar archive as a layout, not a stream: given the ordered members (name inside the tar,
 * size, mtime, mode), where every byte of the archive comes from is known up front — each member's
 * header blocks, its data range, its padding to 512 bytes, and the end (two zero blocks). A tar
 * batch can then be uploaded straight from the member files (read/tar-source.ts), each part read
 * independently, and the same members always give the same bytes, so a batch interrupted by a crash
 * resumes by part: the parts already stored match the MD5s of the same parts read again.
 *
 * Determinism: nothing but the members goes into a header — uid/gid 0, uname/gname empty, mode 0644
 * unless given, mtime in whole seconds, type '0' (regular file), devmajor/devminor 0: the bytes GNU
 * tar writes with `--format=ustar --owner=0 --group=0 --numeric-owner --mode=0644` (the test compares
 * them), up to its padding. A name longer than 100 bytes goes in the ustar prefix field, split at the
 * last '/' that fits, as GNU tar splits it (Python's tarfile takes the first). A name that still does
 * not fit, or a size of 8 GiB or more, gets a pax extended header (`x`) before its ustar header,
 * named `././@PaxHeader` as Python's tarfile names it, with only the `path` / `size` records it
 * needs. No directory entries (extraction creates parents) and no padding to GNU tar's 10240-byte
 * record: GNU tar and Python's tarfile read the archive without it (test/unit/read/tar-layout.test.ts).
 */
import { TarMemberError } from '../errors.js';

export const BLOCK = 512;
/** The two zero blocks that end an archive. */
export const END_LENGTH = 2 * BLOCK;
/** The largest value of an 11-digit octal field (size, mtime): 8 GiB − 1. */
const MAX_OCTAL_11 = 0o77777777777;
const PAX_NAME = Buffer.from('././@PaxHeader');
const SLASH = 0x2f;

export interface TarMember {
  /** The path inside the archive, '/'-separated and relative, e.g. `<run>/Data/Intensities/s.locs`. */
  name: string;
  size: number;
  mtimeMs: number;
  /** Permission bits; default 0o644. */
  mode?: number;
}

/** Where a range of the archive's bytes comes from: in memory (headers, zeros) or a member's data. */
export type TarSegment =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'zeros'; length: number }
  | { kind: 'member'; member: number; offset: number; length: number };

interface Placed {
  name: Buffer;
  size: number;
  /** Whole seconds, clamped to what the octal field holds. */
  mtime: number;
  mode: number;
  /** Archive offset of the member's first header block. */
  start: number;
  /** Bytes of header blocks: 512, or more with a pax extended header. */
  headerLength: number;
}

const padOf = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

export class TarLayout {
  /** The members as laid out (copies: the caller changing its list later cannot change the bytes). */
  readonly members: ReadonlyArray<Readonly<Required<TarMember>>>;
  /** The archive's total size in bytes. */
  readonly size: number;
  readonly #placed: Placed[];
  /** The last header built, for the two parts that may share a header. */
  #cached?: { index: number; bytes: Uint8Array };

  private constructor(members: Array<Required<TarMember>>, placed: Placed[], size: number) {
    this.members = members;
    this.#placed = placed;
    this.size = size;
  }

  /** Lays out `members` in order. Throws TarMemberError for a name, size, mtime or mode it cannot hold. */
  static of(members: readonly TarMember[]): TarLayout {
    const copies: Array<Required<TarMember>> = [];
    const placed: Placed[] = [];
    const seen = new Set<string>();
    let at = 0;
    for (const m of members) {
      checkMember(m, seen);
      const mode = m.mode ?? 0o644;
      const p: Placed = {
        name: Buffer.from(m.name, 'utf8'),
        size: m.size,
        // Out of the field's range (before 1970, after 2242): clamped rather than refused; a
        // sequencer's files have neither, and the value stays a function of the member alone.
        mtime: Math.min(MAX_OCTAL_11, Math.max(0, Math.floor(m.mtimeMs / 1000))),
        mode,
        start: at,
        headerLength: 0,
      };
      p.headerLength = headerBlocks(p).length;
      placed.push(p);
      copies.push({ name: m.name, size: m.size, mtimeMs: m.mtimeMs, mode });
      at += p.headerLength + p.size + padOf(p.size);
    }
    return new TarLayout(copies, placed, at + END_LENGTH);
  }

  /** Member `i`'s header blocks (pax extended header, if any, then its ustar header). */
  headerOf(i: number): Uint8Array {
    if (this.#cached?.index !== i)
      this.#cached = { index: i, bytes: new Uint8Array(headerBlocks(this.#placed[i])) };
    return this.#cached.bytes;
  }

  /** The archive offset of member `i`'s first data byte. */
  dataOffset(i: number): number {
    const p = this.#placed[i];
    return p.start + p.headerLength;
  }

  /** Where the bytes [offset, offset + length) come from, in order; their lengths add up to `length`. */
  segments(offset: number, length: number): TarSegment[] {
    const end = offset + length;
    if (!(offset >= 0 && length >= 0 && end <= this.size && Number.isInteger(end)))
      throw new RangeError(`bytes [${offset}, ${end}) are not inside the archive of ${this.size} bytes`);
    const out: TarSegment[] = [];
    let pos = offset;
    for (let i = this.#memberAt(offset); pos < end; i++) {
      const p = this.#placed[i];
      if (!p) {
        out.push({ kind: 'zeros', length: end - pos }); // the end blocks
        break;
      }
      const dataStart = p.start + p.headerLength;
      const dataEnd = dataStart + p.size;
      const memberEnd = dataEnd + padOf(p.size);
      if (pos < dataStart) {
        const take = Math.min(end, dataStart) - pos;
        const from = pos - p.start;
        // A copy of its own: a view would drag the whole header along when cloned to a worker.
        out.push({ kind: 'bytes', bytes: this.headerOf(i).slice(from, from + take) });
        pos += take;
      }
      if (pos < end && pos < dataEnd) {
        const take = Math.min(end, dataEnd) - pos;
        out.push({ kind: 'member', member: i, offset: pos - dataStart, length: take });
        pos += take;
      }
      if (pos < end && pos < memberEnd) {
        const take = Math.min(end, memberEnd) - pos;
        out.push({ kind: 'zeros', length: take });
        pos += take;
      }
    }
    return out;
  }

  /** The index of the member whose blocks hold `offset` (members.length: the end blocks). */
  #memberAt(offset: number): number {
    const placed = this.#placed;
    let lo = 0;
    let hi = placed.length; // invariant: placed[lo - 1].start <= offset, placed[hi].start > offset
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (placed[mid].start <= offset) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) return 0;
    const p = placed[i];
    return offset < p.start + p.headerLength + p.size + padOf(p.size) ? i : i + 1;
  }
}

function checkMember(m: TarMember, seen: Set<string>): void {
  const bad = (detail: string) => new TarMemberError(m.name, detail);
  const { name } = m;
  if (typeof name !== 'string' || name === '') throw bad('the name is empty');
  if (/\p{Cs}/u.test(name) || name.includes('\0')) throw bad('the name has a NUL or an unpaired surrogate');
  if (name.startsWith('/')) throw bad('the name must be relative');
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw bad("the name has an empty, '.' or '..' component");
  if (seen.has(name)) throw bad('the name is given twice');
  seen.add(name);
  if (!Number.isSafeInteger(m.size) || m.size < 0) throw bad(`size ${m.size} is not a byte count`);
  if (!Number.isFinite(m.mtimeMs)) throw bad(`mtime ${m.mtimeMs} is not a time`);
  if (m.mode !== undefined && !(Number.isInteger(m.mode) && m.mode >= 0 && m.mode <= 0o7777))
    throw bad(`mode ${m.mode} is not permission bits`);
}

/** The ustar split of a name: itself when ≤ 100 bytes, else the longest prefix (≤ 155 bytes) at a '/'. */
function ustarName(b: Buffer): { name: Buffer; prefix: Buffer } | undefined {
  if (b.length <= 100) return { name: b, prefix: Buffer.alloc(0) };
  for (let i = Math.min(155, b.length - 1); i > 0; i--) {
    if (b[i] !== SLASH) continue;
    // A shorter prefix only leaves a longer name, so the first '/' found decides.
    return b.length - i - 1 <= 100 ? { prefix: b.subarray(0, i), name: b.subarray(i + 1) } : undefined;
  }
  return undefined;
}

/** A pax record: `<length> <key>=<value>\n`, where the length counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = 3 + Buffer.byteLength(key) + value.length; // ' ', '=', '\n'
  let n = body;
  while (body + String(n).length !== n) n = body + String(n).length;
  return Buffer.concat([Buffer.from(`${n} ${key}=`), value, Buffer.from('\n')]);
}

/** The first ≤ 100 bytes of a name, cut before a UTF-8 continuation byte (for readers without pax). */
function truncated(b: Buffer): Buffer {
  let n = Math.min(100, b.length);
  while (n > 0 && n < b.length && (b[n] & 0xc0) === 0x80) n--;
  return b.subarray(0, n);
}

function headerBlocks(p: Placed): Buffer {
  const split = ustarName(p.name);
  const bigSize = p.size > MAX_OCTAL_11;
  if (split && !bigSize)
    return ustarHeader({ ...split, size: p.size, mtime: p.mtime, mode: p.mode, type: '0' });
  const records = Buffer.concat([
    ...(split ? [] : [paxRecord('path', p.name)]),
    ...(bigSize ? [paxRecord('size', Buffer.from(String(p.size)))] : []),
  ]);
  const common = { prefix: Buffer.alloc(0), mtime: p.mtime, mode: p.mode };
  return Buffer.concat([
    ustarHeader({ ...common, name: PAX_NAME, size: records.length, type: 'x' }),
    records,
    Buffer.alloc(padOf(records.length)),
    // A size the field cannot hold is 0 there: pax readers take the record's (as Python writes it).
    ustarHeader({
      ...common,
      ...(split ?? { name: truncated(p.name) }),
      size: bigSize ? 0 : p.size,
      type: '0',
    }),
  ]);
}

function octal(block: Buffer, at: number, width: number, value: number): void {
  block.write(value.toString(8).padStart(width - 1, '0'), at, width - 1, 'ascii'); // then a NUL
}

function ustarHeader(h: {
  name: Buffer;
  prefix: Buffer;
  size: number;
  mtime: number;
  mode: number;
  type: '0' | 'x';
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  h.name.copy(b, 0);
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, 0); // uid
  octal(b, 116, 8, 0); // gid
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.write(h.type, 156, 'ascii');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  // uname, gname: empty
  octal(b, 329, 8, 0); // devmajor
  octal(b, 337, 8, 0); // devminor
  h.prefix.copy(b, 345);
  // The checksum: the sum of every byte with its own field as spaces, 6 octal digits, NUL, space.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 7, 'ascii');
  return b;
}

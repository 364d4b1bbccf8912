/**
 * Deterministic randomness for the simulator. Everything derives from (seed, label): each label
 * gets its own independent stream, so adding a file or changing one file's size never shifts the
 * bytes of another, and a writer can regenerate any chunk of any file without replaying the others.
 */
import { createCipheriv, createHash } from 'node:crypto';

export type Rng = () => number;

function digest(seed: number, label: string): Buffer {
  return createHash('sha256').update(`${seed}\0${label}`).digest();
}

/** A uint32 stream (mulberry32) for names, numbers and small structured content. */
export function rngFor(seed: number, label: string): Rng {
  let a = digest(seed, label).readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** An integer in [lo, hi]. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + (rng() % (hi - lo + 1));
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function alnum(rng: Rng, n: number, alphabet = ALNUM): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng() % alphabet.length];
  return s;
}

export function hex(rng: Rng, n: number): string {
  return alnum(rng, n, '0123456789abcdef');
}

/** A UUID-shaped (v4 layout) identifier. */
export function uuid(rng: Rng): string {
  const h = hex(rng, 32).split('');
  h[12] = '4';
  h[16] = '89ab'[parseInt(h[16], 16) & 3];
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/**
 * `length` bytes at `offset` of an endless pseudo-random stream: AES-128-CTR over zeros, keyed by
 * (seed, label). Random access (the counter starts at offset / 16), fast, and the same on every
 * machine, which bulk payloads (CBCL, POD5) of many MiB need.
 */
export function keystream(seed: number, label: string, offset: number, length: number): Buffer {
  if (length <= 0) return Buffer.alloc(0);
  const block = Math.floor(offset / 16);
  const skip = offset - block * 16;
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(block), 8);
  const cipher = createCipheriv('aes-128-ctr', digest(seed, `stream:${label}`).subarray(0, 16), iv);
  const out = cipher.update(Buffer.alloc(skip + length));
  return out.subarray(skip);
}

/**
 * A file made of a fixed `head`, a pseudo-random body and a fixed `tail`, `size` bytes in all
 * (head and tail are cut if they do not fit); `slice(from, to)` returns any byte range of it, so a
 * file appended to in several writes never needs to exist whole in memory.
 */
export function framedFile(
  seed: number,
  label: string,
  size: number,
  head: Buffer,
  tail: Buffer = Buffer.alloc(0),
): (from: number, to: number) => Buffer {
  const h = head.subarray(0, size);
  const t = tail.subarray(0, Math.max(0, size - h.length));
  const bodyEnd = size - t.length;
  return (from, to) => {
    const parts: Buffer[] = [];
    if (from < h.length) parts.push(h.subarray(from, Math.min(to, h.length)));
    const b0 = Math.max(from, h.length);
    const b1 = Math.min(to, bodyEnd);
    if (b1 > b0) parts.push(keystream(seed, label, b0 - h.length, b1 - b0));
    if (to > bodyEnd) parts.push(t.subarray(Math.max(0, from - bodyEnd), to - bodyEnd));
    return Buffer.concat(parts);
  };
}

/** Splits `size` into `n` contiguous ranges [from, to) as even as integers allow. */
export function splitEven(size: number, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 0; k < n; k++) out.push([Math.floor((size * k) / n), Math.floor((size * (k + 1)) / n)]);
  return out;
}

/**
 * A deterministic instrument start time, 2024-01-01 to 2027-12-31 (UTC), whole seconds: runs look
 * dated, and the date never comes from the wall clock, which would change the bytes.
 */
export function startTime(seed: number): Date {
  const rng = rngFor(seed, 'start-time');
  const base = Date.UTC(2024, 0, 1);
  const days = rng() % (4 * 365);
  return new Date(base + days * 86_400_000 + (rng() % 86_400) * 1000);
}

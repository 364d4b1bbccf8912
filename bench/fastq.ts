/**
 * Deterministic synthetic FASTQ for benchmarks and tests: Illumina-style 4-line records, 150 bp reads,
 * NovaSeq-binned qualities (F : , #) that degrade towards the 3' end in runs, an occasional N where
 * the quality is '#'. The point is a realistic compression ratio (gzip -6 ≈ 3–4×), not biology.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const READ_LENGTH = 150;
const BASES = [0x41, 0x43, 0x47, 0x54]; // A C G T
const QUAL_F = 0x46;
const QUAL_COLON = 0x3a;
const QUAL_COMMA = 0x2c;
const QUAL_HASH = 0x23;

/** mulberry32: small, fast, good enough for synthetic data; same seed → same bytes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Streams FASTQ records; `next(buf)` fills `buf` completely (records continue across calls). */
export class FastqGenerator {
  private readonly rand: () => number;
  private record = 0;
  private pending: Buffer = Buffer.alloc(0);
  private pendingPos = 0;
  private readonly recBuf = Buffer.allocUnsafe(1024);

  constructor(seed = 1) {
    this.rand = rng(seed);
  }

  /** Fills `out` with the next bytes of the stream. */
  fill(out: Uint8Array): void {
    let pos = 0;
    while (pos < out.length) {
      if (this.pendingPos >= this.pending.length) {
        this.pending = this.nextRecord();
        this.pendingPos = 0;
      }
      const n = Math.min(out.length - pos, this.pending.length - this.pendingPos);
      out.set(this.pending.subarray(this.pendingPos, this.pendingPos + n), pos);
      pos += n;
      this.pendingPos += n;
    }
  }

  private nextRecord(): Buffer {
    const r = this.rand;
    const b = this.recBuf;
    const n = this.record++;
    const tile = 1101 + ((n >>> 16) % 60);
    const header = `@A00123:45:HXXXXDSXX:1:${tile}:${(r() % 32000) + 1000}:${(r() % 36000) + 1000} 1:N:0:ACGTACGT+TGCATGCA\n`;
    let p = b.write(header, 0, 'latin1');
    const seqStart = p;
    p += READ_LENGTH;
    b[p++] = 0x0a;
    b[p++] = 0x2b; // '+'
    b[p++] = 0x0a;
    const qualStart = p;
    // Qualities: mostly F; a worse bin starts with a probability that grows along the read and
    // then persists for a few cycles, which is what makes real binned qualities compress well.
    let q = QUAL_F;
    let run = 0;
    for (let i = 0; i < READ_LENGTH; i++) {
      if (run > 0) run--;
      else {
        q = QUAL_F;
        const x = r() % 1000;
        const badness = 8 + (i * 40) / READ_LENGTH;
        if (x < badness / 8) q = QUAL_HASH;
        else if (x < badness / 2) q = QUAL_COMMA;
        else if (x < badness * 1.5) q = QUAL_COLON;
        if (q !== QUAL_F) run = r() % 6;
      }
      b[qualStart + i] = q;
      b[seqStart + i] = q === QUAL_HASH && r() % 4 === 0 ? 0x4e : BASES[r() & 3];
    }
    p = qualStart + READ_LENGTH;
    b[p++] = 0x0a;
    return Buffer.from(b.subarray(0, p));
  }
}

/** `size` bytes of FASTQ (the last record is cut at `size`). */
export function fastqBytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  new FastqGenerator(seed).fill(out);
  return out;
}

/** Writes `size` bytes of FASTQ to `path` in 8 MiB pieces (no need to hold it all). */
export function writeFastqFile(path: string, size: number, seed = 1): void {
  const gen = new FastqGenerator(seed);
  const piece = Buffer.allocUnsafe(Math.min(size, 8 << 20));
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(piece.length, size - done);
      const view = piece.subarray(0, n);
      gen.fill(view);
      for (let off = 0; off < n;) off += writeSync(fd, view, off, n - off);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reuses part buffers: allocating a fresh 64 MiB buffer per part costs ~30% of the MD5 rate here.
 * Small parts use power-of-two classes from 64 KiB; large ones the file's chunk size, so one class
 * serves every full part of every file with the default chunk size. Parts of at most half the chunk
 * size (whole small files) get power-of-two classes too: every trip of a buffer to a worker and back
 * counts its whole size as new external memory for V8, and 75 MiB buffers for 10 MiB files made the
 * main thread spend ~20% of its time in GC (bench, 50 × 10 MiB direct: 2.0 s → 0.5 s of GC).
 *
 * The buffers are SharedArrayBuffers: a worker reads and hashes into the same memory the main thread
 * then sends, with nothing transferred. A transferred ArrayBuffer comes back as a new object whose
 * whole size V8 counts as fresh external memory, which forces a GC every trip or two (120 round
 * trips of 75 MiB: 224 GCs, 1.2 s of main-thread CPU; shared: none). They are typed as ArrayBuffer:
 * everything that touches part buffers (views, fs reads, hashing, sockets) takes either, and the only
 * difference, transfer lists, is handled where they are built (work/pool.ts, work/part-task.ts).
 */
const SMALL_LIMIT = 1 << 20;
const MIN_CLASS = 64 << 10;

export class BufferCache {
  readonly #free = new Map<number, ArrayBuffer[]>();

  static classFor(length: number, chunkSize: number): number {
    if (length <= SMALL_LIMIT || length * 2 <= chunkSize) {
      let c = MIN_CLASS;
      while (c < length) c *= 2;
      return c;
    }
    return Math.max(length, chunkSize);
  }

  get(length: number, chunkSize: number): ArrayBuffer {
    const size = BufferCache.classFor(length, chunkSize);
    return this.#free.get(size)?.pop() ?? (new SharedArrayBuffer(size) as unknown as ArrayBuffer);
  }

  put(buf: ArrayBuffer): void {
    if (buf.byteLength === 0) return; // detached: the worker did not hand it back (an ArrayBuffer)
    const list = this.#free.get(buf.byteLength) ?? [];
    list.push(buf);
    this.#free.set(buf.byteLength, list);
  }

  clear(): void {
    this.#free.clear();
  }
}

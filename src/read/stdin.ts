/**
 * Frames a byte stream (stdin) into upload parts. Each part buffer is filled completely before it is
 * handed out, except the last; the reader looks ahead one chunk so that a stream whose length is an
 * exact multiple of the part size still marks its final part `last` (the classic agent did not, and
 * padded that part). An empty stream yields one empty last part, so the file can still be closed.
 */
import type { Readable } from 'node:stream';

export interface StreamPart {
  /** 1-based part index. */
  index: number;
  /** Holds the part's bytes in [0, length); owned by the consumer once yielded. */
  buffer: ArrayBuffer;
  length: number;
  last: boolean;
}

export async function* readParts(
  stream: Readable,
  chunkSizeFor: (index: number) => number,
  acquireBuffer: (size: number) => Promise<ArrayBuffer>,
): AsyncGenerator<StreamPart> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let pending: Uint8Array | null = null;
  let ended = false;

  /** The next non-empty run of bytes, or null at end of stream. */
  const pull = async (): Promise<Uint8Array | null> => {
    if (pending) {
      const p = pending;
      pending = null;
      return p;
    }
    while (!ended) {
      const r = await chunks.next();
      if (r.done) ended = true;
      else if (r.value.length > 0) return typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
    return null;
  };

  try {
    for (let index = 1; ; index++) {
      const size = chunkSizeFor(index);
      const buffer = await acquireBuffer(size);
      if (buffer.byteLength < size)
        throw new RangeError(
          `part buffer of ${buffer.byteLength} bytes is smaller than the part size ${size}`,
        );
      const view = new Uint8Array(buffer, 0, size);
      let length = 0;
      while (length < size) {
        const c = await pull();
        if (!c) break;
        const k = Math.min(c.length, size - length);
        view.set(k === c.length ? c : c.subarray(0, k), length);
        length += k;
        if (k < c.length) pending = c.subarray(k);
      }
      let last = length < size;
      if (!last) {
        // Look ahead: a full part is the last one only if the stream has nothing after it.
        pending = await pull();
        last = pending === null;
      }
      yield { index, buffer, length, last };
      if (last) return;
    }
  } finally {
    if (!ended) await chunks.return?.();
  }
}

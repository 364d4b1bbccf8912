/**
 * The first step of the upload pipeline: files come in over time (an array from the command line, or
 * a daemon's stream), and each one's resume lookup / creation starts while earlier files are still
 * sending, at most `ahead` of them at once. Files leave in the order they came.
 *
 * Pulling stops when `taking()` says so (the session drains) or the signal aborts; a file already
 * pulled from the input is still handed on, so no file taken is ever dropped without a result.
 */
export interface Started<F, P> {
  file: F;
  /** Its preparation, started; observed (never an unhandled rejection) until the consumer awaits it. */
  prepared: Promise<P>;
}

export interface PrepareAheadOptions {
  ahead: number;
  /** False once no more files should be taken from the input (drain). */
  taking(): boolean;
  signal: AbortSignal;
}

export async function* prepareAhead<F, P>(
  files: AsyncIterable<F> | Iterable<F>,
  start: (file: F) => Promise<P>,
  o: PrepareAheadOptions,
): AsyncGenerator<Started<F, P>> {
  const it =
    Symbol.asyncIterator in files
      ? (files as AsyncIterable<F>)[Symbol.asyncIterator]()
      : (files as Iterable<F>)[Symbol.iterator]();
  const window: Array<Started<F, P>> = [];
  let failure: { err: unknown } | undefined;
  let ended = false;
  let pulling: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const woken = () => new Promise<void>((r) => (wake = r));
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onAbort = () => notify();
  o.signal.addEventListener('abort', onAbort, { once: true });

  // One pull loop at a time; it refills the window and wakes the consumer after each file.
  const canPull = () => !ended && window.length < o.ahead && o.taking() && !o.signal.aborted;
  const fill = async () => {
    try {
      while (canPull()) {
        const next = await it.next();
        if (next.done) {
          ended = true;
          break;
        }
        const prepared = start(next.value);
        prepared.catch(() => undefined); // observed when consumed
        window.push({ file: next.value, prepared });
        notify();
      }
    } catch (err) {
      // A failing input ends it; the files before it still go, then the error reaches the caller.
      ended = true;
      failure = { err };
    }
  };
  // Started only when there is something to pull (else the consumer, waiting on a pull that ends at
  // once, would spin on microtasks). `.finally` clears `pulling` after the assignment: clearing it
  // inside fill() could be overwritten and stop every later pull.
  const pull = () => {
    if (pulling || !canPull()) return;
    pulling = fill().finally(() => {
      pulling = undefined;
      notify();
    });
  };

  try {
    for (;;) {
      if (o.signal.aborted) return;
      pull();
      const head = window.shift();
      if (head) {
        yield head;
        continue;
      }
      if (failure) throw failure.err;
      if (ended || (!o.taking() && !pulling)) return;
      const w = woken();
      pull();
      await w;
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}

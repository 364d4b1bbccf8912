/**
 * Child signals of one run signal, with one listener on the run signal in all.
 *
 * Every part in flight waits on several things at once (the worker pool, the HTTP request, the
 * throttle, the byte budget), each listening for abort. Listening on the run signal directly put
 * one listener per wait on it: 8 upload threads under --throttle held 16, and Node printed a
 * MaxListenersExceededWarning on every such run. A child per part (or per prepare, per close) keeps
 * the run signal at one listener and each child at the few of its own operation, and is dropped
 * when that operation ends, so nothing accumulates over a long run.
 */
export class AbortScope {
  readonly #parent: AbortSignal;
  readonly #children = new Set<AbortController>();
  readonly #onAbort = () => {
    for (const c of this.#children) c.abort(this.#parent.reason);
    this.#children.clear();
  };

  constructor(parent: AbortSignal) {
    this.#parent = parent;
    parent.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Runs `fn` with a child signal, aborted when the parent is, released when `fn` settles. */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const c = new AbortController();
    if (this.#parent.aborted) c.abort(this.#parent.reason);
    else this.#children.add(c);
    try {
      return await fn(c.signal);
    } finally {
      this.#children.delete(c);
    }
  }

  /** Children currently alive (tests). */
  get size(): number {
    return this.#children.size;
  }

  /** Stops listening on the parent. */
  close(): void {
    this.#parent.removeEventListener('abort', this.#onAbort);
    this.#children.clear();
  }
}

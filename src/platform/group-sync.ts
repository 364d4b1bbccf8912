/**
 * Group commit for fsync-like work: `sync()` resolves after a run of `run` that started after the
 * call, and callers that arrive while one run is in flight share the next one. So N concurrent
 * requests that each need "everything written so far is on disk" cost at most two runs, not N.
 */
export class GroupSync {
  /** The run in flight; work done after it started needs `#next`. */
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(private readonly run: () => Promise<void>) {}

  sync(): Promise<void> {
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start();
    const next = this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    this.#next = next;
    return next;
  }

  #start(): Promise<void> {
    this.#next = undefined;
    const p = this.run().finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }
}

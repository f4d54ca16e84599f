/**
 * The server-streaming calls open now (WatchJobs, TailLogs), so that shutdown can end them. Each
 * call follows a signal of its own, aborted by the call's signal or by `closeAll`; a Set makes
 * adding and removing a call O(1).
 *
 * Why not connect-node's `shutdownSignal`: it links every call (unary ones too) to one AbortSignal
 * with a listener, and Node's EventTarget walks every listener on each add, so with thousands of
 * factory streams open every call paid a walk of thousands. Factory streams end on shutdown through
 * the fleet's goodbye instead.
 */
export class OpenStreams {
  readonly #open = new Set<AbortController>();
  #closed = false;

  /** Yields what `follow` yields, with a signal that aborts when `callSignal` does or at `closeAll`. */
  async *scope<T>(callSignal: AbortSignal, follow: (signal: AbortSignal) => AsyncIterable<T>): AsyncGenerator<T> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(callSignal.reason);
    if (this.#closed) controller.abort(shuttingDown());
    else if (callSignal.aborted) onAbort();
    callSignal.addEventListener('abort', onAbort, { once: true });
    this.#open.add(controller);
    try {
      yield* follow(controller.signal);
    } finally {
      this.#open.delete(controller);
      callSignal.removeEventListener('abort', onAbort);
    }
  }

  /** Ends every open call (they finish cleanly) and any opened later. */
  closeAll(): void {
    this.#closed = true;
    for (const controller of this.#open) controller.abort(shuttingDown());
    this.#open.clear();
  }

  /** Calls open now. */
  get size(): number {
    return this.#open.size;
  }
}

const shuttingDown = (): Error => new Error('the server is shutting down');

/**
 * An async queue a producer pushes to and a stream handler returns as its response, ended cleanly
 * or with an error. It decouples what a session sends from when the transport asks for the next
 * message.
 *
 * A plain iterator rather than an async generator: every idle factory stream holds one suspended
 * here, and a generator's frame and promise plumbing cost about twice the memory (about 780 bytes
 * against 360 per idle stream, measured with --expose-gc; issue #9). For the same reason the
 * handler returns the Outbox itself instead of yielding from it: `onFinished` is its `finally`.
 * One consumer at a time.
 *
 * With a bound, a consumer that stops taking messages cannot make the queue grow without end: the
 * push that would queue one more than the bound drops what is queued and ends the outbox with the
 * bound's error at once (the transport then ends the call with it, whatever it still buffers).
 */
export interface OutboxBound {
  /** Messages queued at most. */
  messages: number;
  /** The error to end with when a push finds the queue full (also the place to log and clean up). */
  overflow: () => unknown;
}

export class Outbox<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  /** The consumer's pending next(), while the queue is empty. */
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
  private ended: { error?: unknown } | null = null;

  /**
   * `onFinished` runs once, when the consumer is done with the outbox: it read the end (or the
   * error), or stopped early (return or throw) — where a generator's `finally` would run.
   */
  constructor(
    private onFinished: (() => void) | null = null,
    private readonly bound: OutboxBound | null = null,
  ) {}

  push(message: T): void {
    if (this.ended) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      waiting.resolve({ value: message, done: false });
    } else if (this.bound && this.queue.length >= this.bound.messages) {
      this.queue.length = 0;
      this.end(this.bound.overflow());
    } else {
      this.queue.push(message);
    }
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = error === undefined ? {} : { error };
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) this.finish().then(waiting.resolve, waiting.reject);
  }

  /** The next message; once ended and drained, the end (the error, once) and then done. */
  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.ended) return this.finish();
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** The consumer stopped early: what is queued is dropped and later pushes are ignored. */
  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.ended = {};
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ value: undefined, done: true });
    this.notifyFinished();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** The consumer failed (the transport does this on a broken call): ends, and rejects with its error as a generator would. */
  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): Promise<IteratorResult<T>> {
    this.notifyFinished();
    const ended = this.ended!;
    if (!('error' in ended)) return Promise.resolve({ value: undefined, done: true });
    this.ended = {}; // thrown once, as a generator would, then done
    return Promise.reject(ended.error);
  }

  private notifyFinished(): void {
    const onFinished = this.onFinished;
    this.onFinished = null;
    onFinished?.();
  }
}

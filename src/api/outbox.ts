/**
 * An async queue a producer pushes to and a stream handler yields from, ended cleanly or with an
 * error. It decouples what a session sends from when the transport asks for the next message.
 */
export class Outbox<T> {
  private readonly queue: T[] = [];
  private wake: (() => void) | null = null;
  private ended: { error?: unknown } | null = null;

  push(message: T): void {
    if (this.ended) return;
    this.queue.push(message);
    this.wake?.();
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = error === undefined ? {} : { error };
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) {
        if ('error' in this.ended) throw this.ended.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

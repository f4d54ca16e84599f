/**
 * In-process publish/subscribe with a bounded queue per subscriber. A subscriber that falls more
 * than `maxQueued` messages behind is ended with an error instead of growing memory without bound:
 * a slow browser tab must not hold the coordinator hostage.
 */
export class SubscriberOverflow extends Error {
  constructor(maxQueued: number) {
    super(`subscriber fell more than ${maxQueued} messages behind`);
    this.name = 'SubscriberOverflow';
  }
}

interface Subscriber<T> {
  accepts(message: T): boolean;
  queue: T[];
  wake: (() => void) | null;
  failure: Error | null;
}

export class Topic<T> {
  private readonly subscribers = new Set<Subscriber<T>>();

  constructor(private readonly maxQueued = 10_000) {}

  publish(message: T): void {
    for (const sub of this.subscribers) {
      if (!sub.accepts(message)) continue;
      if (sub.queue.length >= this.maxQueued) {
        sub.failure = new SubscriberOverflow(this.maxQueued);
        this.subscribers.delete(sub);
      } else {
        sub.queue.push(message);
      }
      sub.wake?.();
    }
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Messages published from now on that pass `accepts`, until `signal` aborts. Subscribing happens
   * synchronously in this call, so nothing published after it returns is missed.
   */
  subscribe(accepts: (message: T) => boolean, signal: AbortSignal): AsyncIterable<T> {
    const sub: Subscriber<T> = { accepts, queue: [], wake: null, failure: null };
    this.subscribers.add(sub);
    const stop = (): void => {
      this.subscribers.delete(sub);
      sub.wake?.();
    };
    signal.addEventListener('abort', stop, { once: true });
    const subscribers = this.subscribers;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const next = sub.queue.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            if (sub.failure) throw sub.failure;
            if (signal.aborted || !subscribers.has(sub)) return;
            await new Promise<void>((resolve) => (sub.wake = resolve));
            sub.wake = null;
          }
        } finally {
          signal.removeEventListener('abort', stop);
          subscribers.delete(sub);
        }
      },
    };
  }
}

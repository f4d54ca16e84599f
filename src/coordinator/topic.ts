/**
 * In-process publish/subscribe with a queue per subscriber bounded in bytes. A subscriber that falls
 * more than `maxQueuedBytes` behind is ended with RESOURCE_EXHAUSTED instead of growing memory
 * without bound (a slow browser tab must not hold the coordinator hostage); it may call again and
 * resume after the last message it read.
 */
import { DomainError } from '../domain/errors.js';

export class SubscriberOverflow extends DomainError {
  constructor(maxQueuedBytes: number) {
    super('resource_exhausted', `this follower fell more than ${Math.round(maxQueuedBytes / 1024)} KiB behind, reading too slowly; call again to resume after the last message it read`);
  }
}

interface Subscriber<T> {
  accepts(message: T): boolean;
  queue: T[];
  queuedBytes: number;
  wake: (() => void) | null;
  failure: Error | null;
}

/** Default bound per subscriber. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export class Topic<T> {
  private readonly subscribers = new Set<Subscriber<T>>();

  constructor(
    /** What a queued message holds alive, in bytes (an estimate is fine: it sets the bound's scale). */
    private readonly sizeOf: (message: T) => number,
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {}

  publish(message: T): void {
    let size = -1;
    for (const sub of this.subscribers) {
      if (!sub.accepts(message)) continue;
      if (size < 0) size = this.sizeOf(message);
      if (sub.queuedBytes + size > this.maxQueuedBytes) {
        sub.failure = new SubscriberOverflow(this.maxQueuedBytes);
        sub.queue.length = 0;
        this.subscribers.delete(sub);
      } else {
        sub.queue.push(message);
        sub.queuedBytes += size;
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
    const sub: Subscriber<T> = { accepts, queue: [], queuedBytes: 0, wake: null, failure: null };
    this.subscribers.add(sub);
    const stop = (): void => {
      this.subscribers.delete(sub);
      sub.wake?.();
    };
    signal.addEventListener('abort', stop, { once: true });
    const subscribers = this.subscribers;
    const sizeOf = this.sizeOf;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const next = sub.queue.shift();
            if (next !== undefined) {
              sub.queuedBytes -= sizeOf(next);
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

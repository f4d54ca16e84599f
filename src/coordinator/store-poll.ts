/**
 * Live views over a shared store. Another replica's job changes and log chunks never reach this
 * replica's feed, so a follower polls the store instead: soon after a poll that found something,
 * backing off while nothing changes. The local feed still matters: a change made here wakes the
 * follower at once, so a follower on the replica serving the job waits for no poll.
 */
import type { FeedItem, JobFeed } from './job-feed.js';

/** Store polls of a live view: LIVE_POLL.minMs after finding something, doubling to maxMs while idle. */
export const LIVE_POLL = { minMs: 100, maxMs: 500 } as const;

/**
 * Waits for the next poll: resolves after `delayMs`, or at once when a matching item was published
 * on the feed since the last wait. Nothing is queued (the item is read back from the store).
 */
export class PollWaker {
  private pending = false;
  private wake: (() => void) | null = null;

  constructor(feed: JobFeed, matches: (item: FeedItem) => boolean, private readonly signal: AbortSignal) {
    feed.topic.subscribe((item) => {
      if (matches(item)) {
        this.pending = true;
        this.wake?.();
      }
      return false; // only a wake-up: the store has the item
    }, signal);
    signal.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  /** False once the signal aborted (the caller stops). */
  async wait(delayMs: number): Promise<boolean> {
    if (!this.pending && !this.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delayMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
    this.pending = false;
    return !this.signal.aborted;
  }
}

/** The next delay: the shortest after a poll that found something, else twice the last up to the longest. */
export function nextPollDelay(current: number, found: boolean): number {
  return found ? LIVE_POLL.minMs : Math.min(current * 2, LIVE_POLL.maxMs);
}

/** A signal that aborts with `outer` or when the returned `stop` is called (end of a generator). */
export function childSignal(outer: AbortSignal): { signal: AbortSignal; stop: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (outer.aborted) controller.abort();
  else outer.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    stop: () => {
      outer.removeEventListener('abort', abort);
      controller.abort();
    },
  };
}

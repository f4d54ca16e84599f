/**
 * Log rate per job: a token bucket of bytes for each job and sender (across streams and reconnects). A
 * factory sending faster than the rate is slowed, not cut off: the stream's next message is read
 * only after the debt is paid, so HTTP/2 flow control pushes back to the agent, whose log batcher
 * pauses the job's pipes. Refusing instead would end the stream and, with it, every other job on
 * that factory. Each chunk costs at least MIN_CHUNK_COST bytes, so a flood of tiny chunks is slowed
 * as well.
 */
import { TokenBucket } from '../domain/token-bucket.js';
import type { Logger } from '../logging.js';
import type { Clock } from './clock.js';

export const MIN_CHUNK_COST = 1024;
/** Buckets idle this long are dropped once there are many of them. */
const IDLE_MS = 60_000;
const PRUNE_ABOVE = 10_000;

export class LogRate {
  private readonly buckets = new Map<string, { bucket: TokenBucket; usedAt: number; warnedAt: number }>();
  /** How many chunks had to wait, for tests and metrics. */
  throttled = 0;

  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Resolves when a chunk of `bytes` under `key` ("sender/job") may be stored (at once when under the rate). */
  async admit(key: string, bytes: number, signal: AbortSignal): Promise<void> {
    const now = this.clock.now();
    let entry = this.buckets.get(key);
    if (!entry) {
      if (this.buckets.size >= PRUNE_ABOVE) this.prune(now);
      entry = { bucket: new TokenBucket(this.bytesPerSecond, this.burstBytes, now), usedAt: now, warnedAt: 0 };
      this.buckets.set(key, entry);
    }
    entry.usedAt = now;
    const waitMs = entry.bucket.borrow(Math.max(bytes, MIN_CHUNK_COST), now);
    if (waitMs === 0) return;
    this.throttled++;
    if (now - entry.warnedAt > 10_000) {
      entry.warnedAt = now;
      this.log.info({ logStream: key, waitMs, bytesPerSecond: this.bytesPerSecond }, 'job logs over their rate; slowing the factory stream');
    }
    await sleep(waitMs, signal);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.buckets) if (now - entry.usedAt > IDLE_MS) this.buckets.delete(key);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

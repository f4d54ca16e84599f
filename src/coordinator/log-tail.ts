/**
 * TailLogs: a job's stored chunks in order, then (when following) new chunks as they are stored,
 * until the job reaches a final stage. Chunks are ordered by (epoch, sequence); a chunk seen both in
 * the store and live is yielded once.
 *
 * Over a shared store (replicas) the job may run on a factory connected to another replica, whose
 * chunks never reach this replica's feed: following then reads the store after the last position
 * (store-poll.ts: 100 ms after a poll that found chunks, backing off to 500 ms; at once when the
 * local feed has news of the job) until the job is final.
 */
import { isFinal, type LogChunkRecord } from '../domain/job.js';
import type { JobStore, LogPosition } from '../store/job-store.js';
import type { FeedItem, JobFeed } from './job-feed.js';
import type { Jobs } from './jobs.js';
import { LIVE_POLL, PollWaker, childSignal, nextPollDelay } from './store-poll.js';

const REPLAY_PAGE = 500;

export class LogTail {
  constructor(
    private readonly jobs: Jobs,
    private readonly store: JobStore,
    private readonly feed: JobFeed,
    /** Other replicas write to the store: follow by polling it (see above). */
    private readonly shared = false,
  ) {}

  /** `after`: resume after this chunk (null: from the start). */
  async *tail(jobId: string, follow: boolean, signal: AbortSignal, after: LogPosition | null = null): AsyncIterable<LogChunkRecord> {
    await this.jobs.get(jobId); // NOT_FOUND before anything else
    if (follow && this.shared) {
      yield* this.poll(jobId, signal, after);
      return;
    }
    // Subscribe before replaying so a chunk stored during the replay is not missed.
    const live = follow
      ? this.feed.topic.subscribe((item) => itemJobId(item) === jobId, signal)
      : null;
    let last: LogPosition | null = after;
    for await (const chunk of this.replay(jobId, after)) {
      last = chunk;
      yield chunk;
    }
    if (!live) return;
    if (isFinal((await this.jobs.get(jobId)).stage)) {
      yield* this.replay(jobId, last);
      return;
    }
    for await (const item of live) {
      if (item.kind === 'log') {
        if (last && !isAfter(item.chunk, last)) continue;
        last = item.chunk;
        yield item.chunk;
      } else if (isFinal(item.update.job.stage)) {
        // Results travel after their logs on the factory stream, so the store now holds them all.
        yield* this.replay(jobId, last);
        return;
      }
    }
  }

  /**
   * One page of the stored chunks after `after` (null: from the start), and whether more follow:
   * GetLogs, the unary read. One chunk more than asked is read to know that without a second read.
   */
  async page(jobId: string, after: LogPosition | null, limit: number): Promise<{ chunks: LogChunkRecord[]; more: boolean }> {
    await this.jobs.get(jobId); // NOT_FOUND before anything else
    const chunks = await this.store.readLogs(jobId, after, limit + 1);
    return { chunks: chunks.slice(0, limit), more: chunks.length > limit };
  }

  /** Following over a shared store: the store is the only source; the local feed only wakes us early. */
  private async *poll(jobId: string, outer: AbortSignal, after: LogPosition | null): AsyncIterable<LogChunkRecord> {
    const { signal, stop } = childSignal(outer);
    const waker = new PollWaker(this.feed, (item) => itemJobId(item) === jobId, signal);
    try {
      let last: LogPosition | null = after;
      let delay: number = LIVE_POLL.minMs;
      for (;;) {
        // The stage first: a job is final only after its factory sent every chunk, so the read
        // that follows a final stage holds them all.
        const final = isFinal((await this.jobs.get(jobId)).stage);
        let found = false;
        for await (const chunk of this.replay(jobId, last)) {
          last = chunk;
          found = true;
          yield chunk;
        }
        if (final) return;
        delay = nextPollDelay(delay, found);
        if (!(await waker.wait(delay))) return;
      }
    } finally {
      stop();
    }
  }

  private async *replay(jobId: string, after: LogPosition | null): AsyncIterable<LogChunkRecord> {
    let position = after;
    for (;;) {
      const page = await this.store.readLogs(jobId, position, REPLAY_PAGE);
      for (const chunk of page) yield chunk;
      const tail = page.at(-1);
      if (!tail || page.length < REPLAY_PAGE) return;
      position = tail;
    }
  }
}

function itemJobId(item: FeedItem): string {
  return item.kind === 'log' ? item.chunk.jobId : item.update.job.id;
}

function isAfter(chunk: LogPosition, position: LogPosition): boolean {
  return chunk.epoch > position.epoch || (chunk.epoch === position.epoch && chunk.sequence > position.sequence);
}

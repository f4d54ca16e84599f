/**
 * TailLogs: a job's stored chunks in order, then (when following) new chunks as they are stored,
 * until the job reaches a final stage. Chunks are ordered by (epoch, sequence); a chunk seen both in
 * the store and live is yielded once.
 */
import { isFinal, type LogChunkRecord } from '../domain/job.js';
import type { JobStore, LogPosition } from '../store/job-store.js';
import type { FeedItem, JobFeed } from './job-feed.js';
import type { Jobs } from './jobs.js';

const REPLAY_PAGE = 500;

export class LogTail {
  constructor(
    private readonly jobs: Jobs,
    private readonly store: JobStore,
    private readonly feed: JobFeed,
  ) {}

  async *tail(jobId: string, follow: boolean, signal: AbortSignal): AsyncIterable<LogChunkRecord> {
    await this.jobs.get(jobId); // NOT_FOUND before anything else
    // Subscribe before replaying so a chunk stored during the replay is not missed.
    const live = follow
      ? this.feed.topic.subscribe((item) => itemJobId(item) === jobId, signal)
      : null;
    let last: LogPosition | null = null;
    for await (const chunk of this.replay(jobId, null)) {
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

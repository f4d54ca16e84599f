/**
 * The coordinator's live feed: every committed job change and every stored log chunk, on one topic
 * so a follower of a job's logs sees its chunks and its final change in the order they happened.
 */
import type { JobEventRecord, JobRecord, LogChunkRecord } from '../domain/job.js';
import { Topic } from './topic.js';

/** A committed change: the event and the job as it is after it. */
export interface JobUpdate {
  event: JobEventRecord;
  job: JobRecord;
}

export type FeedItem = { kind: 'update'; update: JobUpdate } | { kind: 'log'; chunk: LogChunkRecord };

/**
 * What a queued feed item keeps alive for a follower: a log chunk's bytes, or about a kilobyte for a
 * job change (the job record and event are shared by every follower; this sets the bound's scale).
 */
export function feedItemBytes(item: FeedItem): number {
  return item.kind === 'log' ? item.chunk.data.length + 128 : 1024;
}

export class JobFeed {
  readonly topic = new Topic<FeedItem>(feedItemBytes);

  publishUpdate(update: JobUpdate): void {
    this.topic.publish({ kind: 'update', update });
  }

  publishLog(chunk: LogChunkRecord): void {
    this.topic.publish({ kind: 'log', chunk });
  }
}

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

export class JobFeed {
  readonly topic = new Topic<FeedItem>();

  publishUpdate(update: JobUpdate): void {
    this.topic.publish({ kind: 'update', update });
  }

  publishLog(chunk: LogChunkRecord): void {
    this.topic.publish({ kind: 'log', chunk });
  }
}

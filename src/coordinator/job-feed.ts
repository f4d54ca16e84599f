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
 * What a queued feed item keeps alive for a follower: a log chunk's bytes; for a job change about a
 * kilobyte plus the job's command and env, because each change carries its own copy of the record
 * (read back from the store) and a command may be 128 KiB, an env more. Counting a change as a flat
 * kilobyte would let a follower that stops reading hold a hundred times its bound. (The record and
 * event are shared by every follower of the change.)
 */
export function feedItemBytes(item: FeedItem): number {
  return item.kind === 'log' ? item.chunk.data.length + 128 : 1024 + jobTextBytes(item.update.job);
}

/** The characters of a job's command and env, the parts of its record a submitter makes large: cheap (no encoding). */
function jobTextBytes(job: JobRecord): number {
  let chars = 0;
  for (const arg of job.command) chars += arg.length;
  for (const name in job.env) chars += name.length + job.env[name]!.length;
  return chars;
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

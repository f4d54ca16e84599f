/** WatchJobs: live job changes, optionally after one job's stored history. */
import type { JobStore } from '../store/job-store.js';
import type { JobEventRecord, JobRecord } from '../domain/job.js';
import type { JobFeed } from './job-feed.js';
import type { Jobs } from './jobs.js';

export interface WatchFilter {
  /** Only this product's jobs, when not empty. */
  productId: string;
  /** Only this job, when not empty; its history is replayed first. */
  jobId: string;
}

/** An event, with the job as it is after it (null for replayed history older than the job's current revision). */
export interface WatchItem {
  event: JobEventRecord;
  job: JobRecord | null;
}

export class JobWatch {
  constructor(
    private readonly jobs: Jobs,
    private readonly store: JobStore,
    private readonly feed: JobFeed,
  ) {}

  async *follow(filter: WatchFilter, signal: AbortSignal): AsyncIterable<WatchItem> {
    // Subscribe before reading history so nothing committed in between is missed; duplicates are
    // dropped by revision.
    const live = this.feed.topic.subscribe(
      (item) =>
        item.kind === 'update' &&
        (!filter.productId || item.update.job.productId === filter.productId) &&
        (!filter.jobId || item.update.job.id === filter.jobId),
      signal,
    );
    let replayedRevision = 0;
    if (filter.jobId) {
      const job = await this.jobs.get(filter.jobId);
      for (const event of await this.store.listEvents(filter.jobId)) {
        if (event.revision > job.revision) break;
        replayedRevision = event.revision;
        yield { event, job: event.revision === job.revision ? job : null };
      }
      replayedRevision = Math.max(replayedRevision, job.revision);
    }
    for await (const item of live) {
      if (item.kind !== 'update') continue;
      if (filter.jobId && item.update.event.revision <= replayedRevision) continue;
      yield item.update;
    }
  }
}

/**
 * WatchJobs: live job changes, optionally after one job's stored history.
 *
 * Over a shared store (replicas), changes made on another replica never reach this replica's feed.
 * Watching one job (job_id set) then polls that job's revision in the store (store-poll.ts: 100 ms
 * after a poll that found a change, backing off to 500 ms; at once when the local feed has news of
 * it) and reads its new events when the revision moved. Watching without a job_id stays local: it
 * sees changes made through this replica only (a poll of every job would cost a query per watcher).
 */
import type { JobStore } from '../store/job-store.js';
import type { JobEventRecord, JobRecord } from '../domain/job.js';
import type { JobFeed } from './job-feed.js';
import type { Jobs } from './jobs.js';
import { LIVE_POLL, PollWaker, childSignal, nextPollDelay } from './store-poll.js';

export interface WatchFilter {
  /** Only this product's jobs, when not empty. */
  productId: string;
  /** Only this job, when not empty; its history is replayed first. */
  jobId: string;
  /** With jobId: resume after this revision (0: the whole history). */
  afterRevision?: number;
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
    /** Other replicas write to the store: one job is watched by polling it (see above). */
    private readonly shared = false,
  ) {}

  async *follow(filter: WatchFilter, signal: AbortSignal): AsyncIterable<WatchItem> {
    if (filter.jobId && this.shared) {
      yield* this.poll(filter, signal);
      return;
    }
    // Subscribe before reading history so nothing committed in between is missed; duplicates are
    // dropped by revision.
    const live = this.feed.topic.subscribe(
      (item) =>
        item.kind === 'update' &&
        (!filter.productId || item.update.job.productId === filter.productId) &&
        (!filter.jobId || item.update.job.id === filter.jobId),
      signal,
    );
    let replayedRevision = filter.afterRevision ?? 0;
    if (filter.jobId) {
      const job = await this.jobs.get(filter.jobId);
      for (const event of await this.store.listEvents(filter.jobId)) {
        if (event.revision > job.revision) break;
        if (event.revision <= replayedRevision) continue;
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

  /**
   * One job over a shared store: its history, then each poll's new events. The job read by the poll
   * rides on the newest event it yields (as it is now, after that event); older ones carry none.
   */
  private async *poll(filter: WatchFilter, outer: AbortSignal): AsyncIterable<WatchItem> {
    const { signal, stop } = childSignal(outer);
    const waker = new PollWaker(this.feed, (item) => item.kind === 'update' && item.update.job.id === filter.jobId, signal);
    try {
      let seen = filter.afterRevision ?? 0;
      let delay: number = LIVE_POLL.minMs;
      for (;;) {
        const job = await this.jobs.get(filter.jobId);
        let found = false;
        if (job.revision > seen) {
          // Every event up to job.revision was stored with (or before) the version just read.
          const fresh = (await this.store.listEvents(filter.jobId)).filter((e) => e.revision > seen && e.revision <= job.revision);
          for (const [i, event] of fresh.entries()) {
            if (filter.productId && job.productId !== filter.productId) break;
            yield { event, job: i === fresh.length - 1 ? job : null };
          }
          found = fresh.length > 0;
          seen = job.revision;
        }
        delay = nextPollDelay(delay, found);
        if (!(await waker.wait(delay))) return;
      }
    } finally {
      stop();
    }
  }
}

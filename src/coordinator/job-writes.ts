/**
 * The one way every component changes a job: read it, let a pure lifecycle function decide,
 * compare-and-set, publish. Jobs (the client commands) builds on it; the lease owner and the
 * dispatcher use it alone.
 */
import { DomainError, notFound } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import type { JobChange } from '../domain/lifecycle.js';
import { RevisionConflict, type JobStore } from '../store/job-store.js';
import type { JobFeed } from './job-feed.js';

/** How often a read-decide-write loses to a concurrent writer before we give up with CONFLICT. */
const MAX_CAS_ATTEMPTS = 8;

export class JobWrites {
  constructor(
    protected readonly store: JobStore,
    protected readonly feed: JobFeed,
  ) {}

  async get(id: string): Promise<JobRecord> {
    const job = await this.store.getJob(id);
    if (!job) throw notFound(`job ${id} not found`);
    return job;
  }

  /**
   * Read-decide-write with compare-and-set. `decide` is a pure lifecycle call; it may throw a
   * DomainError (refusal) or return null (nothing to change). On a lost race it runs again on the
   * fresh record, so the decision is always made on what is stored.
   *
   * `known` is a record the caller already holds (the dispatcher's listed job, a session's lease):
   * the first attempt decides on it instead of reading the store. Only a compare-and-set that
   * succeeds proves it was current, so when it is not (conflict), or when `decide` refuses it or has
   * nothing to change, the decision is made again on the stored record, as without it.
   */
  async mutate(id: string, decide: (job: JobRecord) => JobChange | null, known?: JobRecord): Promise<JobRecord> {
    if (known) {
      const written = await this.tryKnown(known, decide);
      if (written) return written;
    }
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(id);
      const change = decide(current);
      if (!change) return current;
      try {
        await this.store.replaceJob(change.job, change.event);
      } catch (err) {
        if (err instanceof RevisionConflict && attempt < MAX_CAS_ATTEMPTS) continue;
        if (err instanceof RevisionConflict) {
          throw new DomainError('conflict', `job ${id} is changing too often to update; try again`);
        }
        throw err;
      }
      if (change.event) this.feed.publishUpdate({ event: change.event, job: change.job });
      return change.job;
    }
  }

  /** One compare-and-set decided on `known`; null when it proves nothing (refused, no change, or stale). */
  private async tryKnown(known: JobRecord, decide: (job: JobRecord) => JobChange | null): Promise<JobRecord | null> {
    let change: JobChange | null;
    try {
      change = decide(known);
    } catch (err) {
      if (err instanceof DomainError) return null;
      throw err;
    }
    if (!change) return null;
    try {
      await this.store.replaceJob(change.job, change.event);
    } catch (err) {
      if (err instanceof RevisionConflict) return null;
      throw err;
    }
    if (change.event) this.feed.publishUpdate({ event: change.event, job: change.job });
    return change.job;
  }
}

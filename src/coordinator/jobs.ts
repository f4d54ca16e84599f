/**
 * The job commands clients use (submit, read, list, cancel) and the one way every component changes
 * a job: read it, let a pure lifecycle function decide, compare-and-set, publish.
 */
import { DomainError, notFound } from '../domain/errors.js';
import type { JobRecord, JobSpec } from '../domain/job.js';
import { validateJobSpec } from '../domain/job-spec.js';
import { cancel, newJob, reject, requeue, ship, type Actor, type JobChange } from '../domain/lifecycle.js';
import { RevisionConflict, type JobPage, type JobQuery, type JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { newId } from './ids.js';
import type { JobFeed } from './job-feed.js';

/** How often a read-decide-write loses to a concurrent writer before we give up with CONFLICT. */
const MAX_CAS_ATTEMPTS = 8;

export class Jobs {
  constructor(
    private readonly store: JobStore,
    private readonly feed: JobFeed,
    private readonly clock: Clock,
  ) {}

  /**
   * Validates, stores durably, then publishes. Returns the first job for a repeated idempotency key.
   * Dependencies and children are linked by Workflows, which calls this with `id` and `parentId`.
   */
  async submit(input: JobSpec, actor: Actor, opts: { id?: string; parentId?: string } = {}): Promise<{ job: JobRecord; created: boolean }> {
    const spec = validateJobSpec(input);
    const now = this.clock.now();
    const { job, event } = newJob(spec, opts.id ?? newId('job', now), now, actor, opts.parentId);
    const stored = await this.store.insertJob(job, event!);
    if (stored.created) this.feed.publishUpdate({ event: event!, job: stored.job });
    return stored;
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.store.getJob(id);
    if (!job) throw notFound(`job ${id} not found`);
    return job;
  }

  list(query: JobQuery): Promise<JobPage> {
    return this.store.listJobs(query);
  }

  /** Cancels now, or marks a running job so its factory is told to stop (see the session). */
  async cancel(id: string, actor: Actor, reason: string): Promise<JobRecord> {
    return this.mutate(id, (job) => cancel(job, this.clock.now(), actor, reason));
  }

  /** Ships a job awaiting review. */
  ship(id: string, actor: Actor, note: string): Promise<JobRecord> {
    return this.mutate(id, (job) => ship(job, this.clock.now(), actor, note));
  }

  /** Rejects a job awaiting review; the reason is required. */
  reject(id: string, actor: Actor, reason: string): Promise<JobRecord> {
    return this.mutate(id, (job) => reject(job, this.clock.now(), actor, reason));
  }

  /** Sends an ended (or awaiting-review) job back to the queue with a fresh allowance of attempts. */
  requeue(id: string, actor: Actor, note: string): Promise<JobRecord> {
    return this.mutate(id, (job) => requeue(job, this.clock.now(), actor, note));
  }

  /**
   * Read-decide-write with compare-and-set. `decide` is a pure lifecycle call; it may throw a
   * DomainError (refusal) or return null (nothing to change). On a lost race it runs again on the
   * fresh record, so the decision is always made on what is stored.
   */
  async mutate(id: string, decide: (job: JobRecord) => JobChange | null): Promise<JobRecord> {
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
}

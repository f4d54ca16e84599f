/**
 * The job commands clients use (submit, read, list, cancel), over the one way every component
 * changes a job (JobWrites: read it, let a pure lifecycle function decide, compare-and-set, publish).
 */
import type { JobRecord, JobSpec } from '../domain/job.js';
import { validateJobSpec } from '../domain/job-spec.js';
import { withReviewRouting, type ReviewPolicy } from '../domain/review.js';
import { cancel, newJob, reject, requeue, ship, type Actor, type JobChange } from '../domain/lifecycle.js';
import type { JobPage, JobQuery, JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { newId } from './ids.js';
import type { JobFeed } from './job-feed.js';
import { JobWrites } from './job-writes.js';

/**
 * Offers a job at the moment it is submitted (the dispatcher, when a slot is free and no dispatch
 * pass is pending). `claim` decides synchronously: the offer to write, and what to do once the
 * write is stored (send the offer) or is not (free the slot).
 */
export interface SubmitClaimer {
  claim(job: JobRecord): { change: JobChange; stored(job: JobRecord): void; lost(): void } | null;
}

export class Jobs extends JobWrites {
  /**
   * `claimer`: only when the store applies writes in the order they are issued (SQLite, memory):
   * then a submitted job's claim is issued right behind its insert and commits with it (one fsync),
   * and it is never stored without the insert. Not with a shared store, where concurrent writes may
   * land in any order; nor without a fleet (a job is then offered by the dispatcher's next pass).
   */
  constructor(
    store: JobStore,
    feed: JobFeed,
    private readonly clock: Clock,
    private readonly claimer: SubmitClaimer | null = null,
    private readonly reviewPolicyOf: (productId: string) => ReviewPolicy | null = () => null,
    /** Mints a new job's id: a replica dividing the work picks one in its own partitions (PartitionOwner.newJobId). */
    private readonly newJobId: (now: number) => string = (now) => newId('job', now),
  ) {
    super(store, feed);
  }

  /**
   * The spec with its review routing resolved against its product's review policy (INVALID_ARGUMENT
   * for an unknown group, N = 0 or N > M); Workflows calls it while validating, before storing any job.
   */
  withReview(spec: JobSpec, submittedBy: Actor): JobSpec {
    return withReviewRouting(spec, this.reviewPolicyOf(spec.productId), submittedBy);
  }

  /**
   * Validates, stores durably, then publishes. Returns the first job for a repeated idempotency key.
   * Dependencies and children are linked by Workflows, which calls this with `id` and `parentId`.
   */
  async submit(input: JobSpec, actor: Actor, opts: { id?: string; parentId?: string } = {}): Promise<{ job: JobRecord; created: boolean }> {
    const spec = this.withReview(validateJobSpec(input), actor);
    const now = this.clock.now();
    const { job, event } = newJob(spec, opts.id ?? this.newJobId(now), now, actor, opts.parentId);
    const inserting = this.store.insertJob(job, event!);
    const claim = job.stage === 'queued' ? (this.claimer?.claim(job) ?? null) : null;
    // Issued before either settles, so it lands in the insert's transaction, after the insert.
    const claiming = claim ? this.store.replaceJob(claim.change.job, claim.change.event).then(() => true, () => false) : null;
    let stored: { job: JobRecord; created: boolean };
    try {
      stored = await inserting;
    } catch (err) {
      if (claiming) void claiming.then(() => claim!.lost());
      throw err;
    }
    if (stored.created) this.feed.publishUpdate({ event: event!, job: stored.job });
    if (claim && claiming) {
      // Lost when the insert created nothing (a repeated idempotency key): the claim found no such
      // job. Either way the submit stands; an unclaimed job is offered by the next dispatch pass.
      if (stored.created && (await claiming)) {
        if (claim.change.event) this.feed.publishUpdate({ event: claim.change.event, job: claim.change.job });
        claim.stored(claim.change.job);
      } else {
        claim.lost();
      }
    }
    return stored;
  }

  /** The job, or null when there is none (no error: for callers asking whether it exists). */
  find(id: string): Promise<JobRecord | null> {
    return this.store.getJob(id);
  }

  /** The job a submit with this idempotency key in this product would return instead of storing one, or null. */
  findByIdempotencyKey(productId: string, idempotencyKey: string): Promise<JobRecord | null> {
    return this.store.findJobByIdempotencyKey(productId, idempotencyKey);
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
}

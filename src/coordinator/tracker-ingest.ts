/**
 * Tracker ingest: each item becomes one job, found again by its external id. The job's id is derived
 * from (product, external id) and its idempotency key is `tracker:<external id>`, so concurrent
 * ingests of one item store one job, and a dry run finds an item's job with one read.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import type { JobRecord, JobSpec } from '../domain/job.js';
import { newJob, type Actor } from '../domain/lifecycle.js';
import { trackerItemSpec, updateFromItem, type TrackerItem } from '../domain/tracker-item.js';
import type { Clock } from './clock.js';
import type { Jobs } from './jobs.js';

export type IngestOutcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'invalid';

export interface IngestResult {
  externalId: string;
  outcome: IngestOutcome;
  /** Why, for skipped and invalid. */
  reason: string;
  /** The job after the ingest (as it would be, in a dry run); null when invalid. */
  job: JobRecord | null;
}

/** At most this many items per IngestItems request. */
export const MAX_ITEMS_PER_BATCH = 500;
/** Items of one batch ingested at once. */
const INGEST_CONCURRENCY = 16;

export class TrackerIngest {
  constructor(
    private readonly jobs: Jobs,
    private readonly clock: Clock,
  ) {}

  /** Ingests one item; an invalid item is a result (INVALID with the reason), not an error. */
  async ingest(item: TrackerItem, actor: Actor, dryRun: boolean): Promise<IngestResult> {
    const result = (outcome: IngestOutcome, job: JobRecord | null, reason = ''): IngestResult => ({ externalId: item.externalId, outcome, reason, job });
    const refusal = (err: unknown, code: 'invalid_argument' | 'failed_precondition'): string | null => (err instanceof DomainError && err.code === code ? err.message : null);
    let spec: JobSpec;
    try {
      spec = trackerItemSpec(item);
    } catch (err) {
      const reason = refusal(err, 'invalid_argument');
      if (reason === null) throw err;
      return result('invalid', null, reason);
    }
    const id = trackerJobId(spec.productId, item.externalId);
    if (dryRun) {
      // What a real ingest would decide, on the job as stored now; nothing is written.
      const existing = await this.jobs.find(id);
      if (!existing) return result('created', newJob(spec, id, this.clock.now(), actor).job);
      try {
        const update = updateFromItem(existing, spec, this.clock.now(), actor);
        return update ? result('updated', update.job) : result('unchanged', existing);
      } catch (err) {
        const reason = refusal(err, 'failed_precondition');
        if (reason === null) throw err;
        return result('skipped', existing, reason);
      }
    }
    const stored = await this.jobs.submit(spec, actor, { id });
    if (stored.created) return result('created', stored.job);
    if (stored.job.tracker?.externalId !== item.externalId) {
      return result('skipped', stored.job, `idempotency key ${spec.idempotencyKey} is taken by job ${stored.job.id}, which was not made by tracker ingest`);
    }
    let changed = false;
    try {
      const job = await this.jobs.mutate(stored.job.id, (current) => {
        const update = updateFromItem(current, spec, this.clock.now(), actor);
        changed = update !== null;
        return update;
      });
      return result(changed ? 'updated' : 'unchanged', job);
    } catch (err) {
      const reason = refusal(err, 'failed_precondition');
      if (reason === null) throw err;
      return result('skipped', await this.jobs.get(stored.job.id), reason);
    }
  }

  /**
   * Ingests each item on its own, INGEST_CONCURRENCY at a time (so their writes share the store's
   * commits), results in item order; one invalid item does not stop the others.
   */
  async ingestAll(items: readonly TrackerItem[], actor: Actor, dryRun: boolean): Promise<IngestResult[]> {
    const results: IngestResult[] = new Array<IngestResult>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < items.length; i = next++) results[i] = await this.ingest(items[i]!, actor, dryRun);
    };
    await Promise.all(Array.from({ length: Math.min(INGEST_CONCURRENCY, items.length) }, worker));
    return results;
  }
}

/** The job id for an item: the same for the same (product, external id), on every replica. */
export function trackerJobId(productId: string, externalId: string): string {
  return `job_trk_${createHash('sha256').update(`${productId}\u0000${externalId}`).digest('hex').slice(0, 26)}`;
}

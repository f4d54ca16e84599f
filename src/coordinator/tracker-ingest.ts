/**
 * Tracker ingest: each item becomes one job, found again by its external id. The job's id is derived
 * from (product, external id) and its idempotency key is `tracker:<external id>`, so concurrent
 * ingests of one item store one job, and a dry run finds the job holding that key with one read.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import type { JobRecord, JobSpec } from '../domain/job.js';
import { newJob, type Actor, type JobChange } from '../domain/lifecycle.js';
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

  /**
   * Ingests one item; an invalid item is a result (INVALID with the reason), not an error. A dry run
   * reads the job holding the item's idempotency key and makes the same decision (`decide`) a real
   * ingest makes on it, so the two report the same outcome over the same state.
   */
  async ingest(item: TrackerItem, actor: Actor, dryRun: boolean, planned: DryRunPlan = new Map()): Promise<IngestResult> {
    const result = (outcome: IngestOutcome, job: JobRecord | null, reason = ''): IngestResult => ({ externalId: item.externalId, outcome, reason, job });
    let spec: JobSpec;
    try {
      spec = trackerItemSpec(item);
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'invalid_argument')) throw err;
      return result('invalid', null, err.message);
    }
    const id = trackerJobId(spec.productId, item.externalId);
    const decideOn = (holder: JobRecord): Decision => decide(holder, spec, item.externalId, this.clock.now(), actor);
    if (dryRun) {
      // An earlier copy of this item in the batch is decided first, and this one on what it would store.
      const key = `${spec.productId}\u0000${spec.idempotencyKey}`;
      const decided = (planned.get(key) ?? Promise.resolve(null)).then(async (earlier) => {
        const holder = earlier ?? (await this.jobs.findByIdempotencyKey(spec.productId, spec.idempotencyKey));
        if (!holder) return result('created', newJob(spec, id, this.clock.now(), actor).job);
        const decision = decideOn(holder);
        return result(decision.outcome, decision.outcome === 'updated' ? decision.change.job : holder, reasonOf(decision));
      });
      planned.set(
        key,
        decided.then((r) => r.job, () => null), // after a failure the next copy reads the store itself
      );
      return decided;
    }
    const stored = await this.jobs.submit(spec, actor, { id });
    if (stored.created) return result('created', stored.job);
    // The key was taken: decide on the stored job, again on the fresh one after a lost race.
    let decision = { outcome: 'unchanged' } as Decision;
    const job = await this.jobs.mutate(
      stored.job.id,
      (current) => {
        decision = decideOn(current);
        return decision.outcome === 'updated' ? decision.change : null;
      },
      stored.job,
    );
    return result(decision.outcome, job, reasonOf(decision));
  }

  /**
   * Ingests each item on its own, INGEST_CONCURRENCY at a time (so their writes share the store's
   * commits), results in item order; one invalid item does not stop the others.
   */
  async ingestAll(items: readonly TrackerItem[], actor: Actor, dryRun: boolean): Promise<IngestResult[]> {
    const results: IngestResult[] = new Array<IngestResult>(items.length);
    const planned: DryRunPlan = new Map();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < items.length; i = next++) results[i] = await this.ingest(items[i]!, actor, dryRun, planned);
    };
    await Promise.all(Array.from({ length: Math.min(INGEST_CONCURRENCY, items.length) }, worker));
    return results;
  }
}

/**
 * A dry run stores nothing, so within one batch it keeps, per idempotency key, the job its last copy
 * of an item would have left (null: read the store), for a later copy to be decided on, as the real
 * ingest decides a later copy on what the earlier one stored.
 */
type DryRunPlan = Map<string, Promise<JobRecord | null>>;

/** What ingesting an item does to the job that already holds its idempotency key. */
type Decision = { outcome: 'skipped'; reason: string } | { outcome: 'unchanged' } | { outcome: 'updated'; change: JobChange };

/**
 * The one decision for an item whose key is taken, shared by the real ingest and the dry run: a job
 * not made by tracker ingest (a plain submit that used the key `tracker:<id>`) is skipped, and so is
 * one that has started; otherwise the job is updated to match the item, or left as it is.
 */
function decide(holder: JobRecord, spec: JobSpec, externalId: string, now: number, actor: Actor): Decision {
  if (holder.tracker?.externalId !== externalId) {
    return { outcome: 'skipped', reason: `idempotency key ${spec.idempotencyKey} is taken by job ${holder.id}, which was not made by tracker ingest` };
  }
  try {
    const change = updateFromItem(holder, spec, now, actor);
    return change ? { outcome: 'updated', change } : { outcome: 'unchanged' };
  } catch (err) {
    if (err instanceof DomainError && err.code === 'failed_precondition') return { outcome: 'skipped', reason: err.message };
    throw err;
  }
}

function reasonOf(decision: Decision): string {
  return decision.outcome === 'skipped' ? decision.reason : '';
}

/** The job id for an item: the same for the same (product, external id), on every replica. */
export function trackerJobId(productId: string, externalId: string): string {
  return `job_trk_${createHash('sha256').update(`${productId}\u0000${externalId}`).digest('hex').slice(0, 26)}`;
}

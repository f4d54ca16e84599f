/**
 * Which queued jobs a dispatch pass looks at. One coordinator (SQLite) or a replica that divides
 * nothing: the whole runnable queue. A replica dividing the work (docs/scaling-out.md, "Dividing
 * the work"): the queued jobs of the partitions it may claim from, so each job is examined by one
 * replica; and, when that leaves its factories slots to spare, the jobs of any partition that have
 * been runnable for STEAL.afterMs (looked for every STEAL.minIntervalMs after a look that found some,
 * backing off to STEAL.maxIntervalMs while looks find none), which no owner placed in time (an
 * owner without a free factory that can run them, an owner that died before its partitions moved,
 * a document older than partitions). Stealing races the owner as every claim did before partitions:
 * the job's compare-and-set lets one offer land.
 */
import type { JobRecord } from '../domain/job.js';
import type { JobStore } from '../store/job-store.js';

/** Up to `limit` runnable jobs at `now`, for a pass that has `freeSlots` slots to fill. */
export type RunnableSource = (now: number, limit: number, freeSlots: number) => Promise<JobRecord[]>;

/** Stealing: how long a job must have been runnable before any replica may take it, and how often a replica looks. */
export const STEAL = { afterMs: 1_000, minIntervalMs: 1_000, maxIntervalMs: 4_000 } as const;

/** The whole runnable queue. */
export function wholeQueue(store: Pick<JobStore, 'listRunnable'>): RunnableSource {
  return (now, limit) => store.listRunnable(now, limit);
}

export interface OwnedQueueDeps {
  /** The partitions this replica may claim from now (PartitionOwner.claimable). */
  claimable(): readonly number[];
  /** Runnable jobs of those partitions, best first (the Cosmos store's listRunnableIn). */
  listRunnableIn(partitions: readonly number[], now: number, limit: number): Promise<JobRecord[]>;
  /** Runnable jobs of every partition, best first. */
  listRunnable(now: number, limit: number): Promise<JobRecord[]>;
}

/** The owned partitions' jobs, topped up by stealing when they leave slots free. */
export function ownedQueue(deps: OwnedQueueDeps): RunnableSource {
  let nextStealAt = 0;
  let interval: number = STEAL.minIntervalMs;
  return async (now, limit, freeSlots) => {
    const partitions = deps.claimable();
    const own = partitions.length === 0 ? [] : await deps.listRunnableIn(partitions, now, limit);
    if (own.length >= freeSlots || now < nextStealAt) return own;
    const ownIds = new Set(own.map((j) => j.id));
    const stale = (await deps.listRunnable(now - STEAL.afterMs, limit - own.length)).filter((j) => !ownIds.has(j.id));
    interval = stale.length > 0 ? STEAL.minIntervalMs : Math.min(interval * 2, STEAL.maxIntervalMs);
    nextStealAt = now + interval;
    return [...own, ...stale];
  };
}

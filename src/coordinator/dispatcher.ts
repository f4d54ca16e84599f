/**
 * One dispatch pass: plan placements for the free slots (domain/scheduler.ts), claim each job in the
 * store (epoch + 1, lease with an offer deadline) and offer it; then, when preemption is on, make
 * room for the most urgent job that has none.
 */
import { DomainError } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import { noteWaiting, offer } from '../domain/lifecycle.js';
import { firstUnmetRequirement } from '../domain/labels.js';
import { describeRequirement, planDispatch, selectPreemptionVictim, type FactoryCandidate, type RunningCandidate } from '../domain/scheduler.js';
import type { FactorySession } from './factory-session.js';
import type { Fleet } from './fleet.js';

/** How many of the most urgent unplaced jobs one pass considers for preemption. */
const PREEMPTION_CANDIDATES = 4;

export function candidateOf(session: FactorySession, recentProducts: readonly string[]): FactoryCandidate {
  const factory = session.factory!;
  return {
    factoryId: factory.factoryId,
    labels: factory.labels,
    slots: factory.slots,
    freeSlots: session.freeSlots,
    draining: session.current.t === 'draining',
    recentProducts,
    mayServe: (productId) => session.mayServe(productId),
  };
}

export interface PassResult {
  /** Offers made. */
  offered: number;
  /** Claims lost because the job was taken meanwhile (cancelled, another replica). */
  lost: number;
  /** Runnable jobs listed, and the page size asked for: a full page means there may be more. */
  listed: number;
  limit: number;
}

export async function dispatchPass(fleet: Fleet): Promise<PassResult> {
  const sessions = new Map(fleet.sessions().map((s) => [s.factory!.factoryId, s]));
  const free = [...sessions.values()].reduce((n, s) => n + s.freeSlots, 0);
  const preempting = fleet.settings.preemption;
  const limit = Math.min(1_000, Math.max(64, free * 8));
  const result: PassResult = { offered: 0, lost: 0, listed: 0, limit };
  if ((free === 0 && !preempting) || sessions.size === 0) return result;
  const now = fleet.clock.now();
  const runnable = await fleet.store.listRunnable(now, limit);
  result.listed = runnable.length;
  if (runnable.length === 0) return result;
  const scheduling = fleet.scheduling;
  const candidates = [...sessions.values()].map((s) => candidateOf(s, scheduling.recentProducts(s.factory!.factoryId)));
  const plan = free === 0 ? [] : planDispatch(runnable, candidates, scheduling.fairness(runnable), now, (job) => scheduling.weightsFor(job));
  const placed = new Set<string>();
  for (const { job, factory, score } of plan) {
    const session = sessions.get(factory.factoryId);
    if (!session || session.freeSlots <= 0) continue;
    try {
      const leased = await fleet.jobs.mutate(job.id, (current) => offer(current, factory.factoryId, now, fleet.settings, score));
      session.offer(leased);
      placed.add(job.id);
      result.offered++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err; // taken meanwhile (cancelled, another replica)
      result.lost++;
    }
  }
  if (preempting) await makeRoom(fleet, runnable.filter((j) => !placed.has(j.id)), sessions, now);
  return result;
}

/** Reason recorded on queued jobs that no connected factory could run. */
export const UNPLACEABLE_PREFIX = 'no connected factory can run this job';

/**
 * Marks runnable jobs that no connected factory passes (labels or enrollment scope) with a reason,
 * bounded to one page per call; the next offer clears it.
 */
export async function noteUnplaceable(fleet: Fleet, pageSize: number): Promise<void> {
  const sessions = fleet.sessions().filter((s) => s.current.t !== 'closed');
  const now = fleet.clock.now();
  for (const job of await fleet.store.listRunnable(now, pageSize)) {
    if (sessions.some((s) => s.mayServe(job.productId) && firstUnmetRequirement(job.requiredLabels, s.factory!.labels) === null)) continue;
    const reason =
      sessions.length === 0 ? `${UNPLACEABLE_PREFIX}: no factory is connected` : `${UNPLACEABLE_PREFIX}: ${describeUnmet(job, sessions[0]!)}`;
    await fleet.jobs.mutate(job.id, (current) => noteWaiting(current, reason, now)).catch((err: unknown) => {
      if (!(err instanceof DomainError)) throw err;
    });
  }
}

function describeUnmet(job: JobRecord, session: FactorySession): string {
  const unmet = firstUnmetRequirement(job.requiredLabels, session.factory!.labels);
  return unmet ? `none has ${describeRequirement(unmet)}` : `none may serve product ${job.productId}`;
}

/**
 * For the most urgent jobs left waiting: if every factory that could run one is full, ask a factory
 * to stop a job of lower priority (one preemption per waiting job at a time).
 */
async function makeRoom(fleet: Fleet, waiting: readonly JobRecord[], sessions: ReadonlyMap<string, FactorySession>, now: number): Promise<void> {
  // On a saturated fleet this runs on every dispatch request: read running jobs from the store only
  // for a waiting job that outranks something holding a lease.
  const floor = fleet.scheduling.lowestActivePriority();
  const urgent = [...waiting]
    .filter((j) => floor !== null && j.priority > floor)
    .sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt)
    .slice(0, PREEMPTION_CANDIDATES);
  for (const job of urgent) {
    if (fleet.preemptions.isPendingFor(job.id)) continue;
    const able = [...sessions.values()].filter(
      (s) => s.current.t === 'active' && s.mayServe(job.productId) && firstUnmetRequirement(job.requiredLabels, s.factory!.labels) === null,
    );
    if (able.length === 0 || able.some((s) => s.freeSlots > 0)) continue; // unplaceable, or a slot is free already
    const running: RunningCandidate[] = [];
    for (const session of able) {
      const candidate = candidateOf(session, []);
      for (const [jobId, held] of session.leases) {
        if (!held.running || fleet.preemptions.isVictim(jobId)) continue;
        const victim = await fleet.store.getJob(jobId);
        if (victim && victim.stage === 'running' && victim.epoch === held.epoch) running.push({ job: victim, factory: candidate });
      }
    }
    const victim = selectPreemptionVictim(job, running, now);
    if (!victim) continue;
    const session = sessions.get(victim.factory.factoryId)!;
    fleet.preemptions.start(victim.job.id, job.id, now);
    session.preempt(victim.job.id, victim.job.epoch, `job ${job.id} (priority ${job.priority}) needs the slot`);
  }
}

/**
 * One dispatch pass: plan placements for the free slots (domain/scheduler.ts), claim each job in the
 * store (epoch + 1, lease with an offer deadline) and offer it; then, when preemption is on, make
 * room for the most urgent job that has none.
 */
import { DomainError } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import { noteWaiting, offer, release, type JobChange } from '../domain/lifecycle.js';
import { firstUnmetRequirement } from '../domain/labels.js';
import { concurrencyGate, concurrencyWait, describeRequirement, planDispatch, SCORED_FACTORIES, selectPreemptionVictim, type FactoryCandidate, type Placement, type RunningCandidate } from '../domain/scheduler.js';
import { decisionOf } from '../domain/placement-decision.js';
import type { DecisionLog } from './decision-log.js';
import type { FactoryLink } from './factory-link.js';
import type { Scheduling } from './scheduling.js';
import type { SubmitClaimer } from './jobs.js';
import type { JobWrites } from './job-writes.js';
import type { Budgets } from './budgets.js';
import type { DispatchRates } from './dispatch-rates.js';
import { rateGate } from '../domain/dispatch-rate.js';
import type { Clock } from './clock.js';
import type { Leases } from './leases.js';
import type { FleetSettings } from './lease-settings.js';
import type { JobStore } from '../store/job-store.js';
import type { RunnableSource } from './runnable-source.js';

/**
 * What a dispatch pass works with: the connected factories, the job writes and the lease owner,
 * and the rules (scheduling, budgets). The fleet puts it together from its parts.
 */
export interface DispatchContext {
  sessions(): FactoryLink[];
  /** Up to `limit` sessions with a free slot, round-robin over the fleet. */
  sessionsWithFreeSlots(limit: number): FactoryLink[];
  readonly writes: JobWrites;
  readonly store: JobStore;
  /** The queued jobs this coordinator looks at: all of them, or its partitions' (runnable-source.ts). */
  readonly runnable: RunnableSource;
  readonly clock: Clock;
  readonly settings: FleetSettings;
  readonly budgets: Budgets;
  readonly rates: DispatchRates;
  readonly scheduling: Scheduling;
  readonly leases: Leases;
  /** Where each placement the store accepted is remembered, for evaluating scoring weights. */
  readonly decisions: DecisionLog;
}

/** How many of the most urgent unplaced jobs one pass considers for preemption. */
const PREEMPTION_CANDIDATES = 4;

/** Each session's candidate, made once: see candidateOf. */
const candidates = new WeakMap<FactoryLink, FactoryCandidate>();

/**
 * The scheduler's view of a session that said hello. It is live (free slots, draining and recent
 * products are read from the session when the planner asks) and made once per session, so a pass
 * or a submit over a fleet of thousands allocates nothing per factory, and the planner reads the
 * recent products only of the factories it scores.
 */
export function candidateOf(session: FactoryLink, scheduling: Scheduling): FactoryCandidate {
  const known = candidates.get(session);
  if (known) return known;
  const { factoryId, labels, slots } = session.factory!;
  const candidate: FactoryCandidate = {
    factoryId,
    labels,
    slots,
    get freeSlots() {
      return session.freeSlots;
    },
    get draining() {
      return session.current.t === 'draining';
    },
    get recentProducts() {
      return scheduling.recentProducts(factoryId);
    },
    mayServe: (productId) => session.mayServe(productId),
  };
  candidates.set(session, candidate);
  return candidate;
}

export interface PassResult {
  /** Offers made. */
  offered: number;
  /** Claims lost because the job was taken meanwhile (cancelled, another replica). */
  lost: number;
  /** Runnable jobs listed, and the page size asked for: a full page means there may be more. */
  listed: number;
  limit: number;
  /** The pass listed every runnable job (fewer than the limit) and offered each one: none is left. */
  emptied: boolean;
}

export async function dispatchPass(fleet: DispatchContext): Promise<PassResult> {
  const sessions = new Map(fleet.sessions().map((s) => [s.factory!.factoryId, s]));
  const free = [...sessions.values()].reduce((n, s) => n + s.freeSlots, 0);
  const preempting = fleet.settings.preemption;
  const limit = Math.min(1_000, Math.max(64, free * 8));
  const result: PassResult = { offered: 0, lost: 0, listed: 0, limit, emptied: false };
  if ((free === 0 && !preempting) || sessions.size === 0) return result;
  const now = fleet.clock.now();
  await fleet.budgets.refreshIfDue(); // the first pass after a start, or after a budget change, reads the spend first
  const runnable = await fleet.runnable(now, limit, free);
  result.listed = runnable.length;
  if (runnable.length === 0) return { ...result, emptied: true };
  const scheduling = fleet.scheduling;
  const factories = [...sessions.values()].map((s) => candidateOf(s, scheduling));
  const budgets = fleet.budgets.gate(now);
  const active = await activeByKey(fleet, runnable);
  const rates = await fleet.rates.allowance(runnable, now);
  const planned = free === 0 ? [] : planDispatch(runnable, factories, scheduling.fairness(runnable), now, (job) => scheduling.weightsFor(job), budgets, [concurrencyGate(active), rateGate(rates)]);
  // A rate-limited product's placements are claimed only with a token from its shared bucket.
  const plan = await fleet.rates.admit(planned, now);
  const placed = new Set<string>();
  // Every claim of the pass is issued at once, so the store commits them together (one group commit,
  // one fsync) instead of one after another. Slots are reserved here, as the claims are issued.
  const reserved = new Map<FactoryLink, number>();
  const claims: Promise<void>[] = [];
  for (const placement of plan) {
    const session = sessions.get(placement.factory.factoryId);
    const taken = session ? (reserved.get(session) ?? 0) : 0;
    if (!session || session.freeSlots - taken <= 0) continue;
    reserved.set(session, taken + 1);
    claims.push(claim(fleet, session, placement, now, result, placed));
  }
  await Promise.all(claims);
  result.emptied = runnable.length < limit && result.offered === runnable.length;
  // A job its budget, its concurrency key or its product's rate holds back must not make room for itself either.
  const keys = concurrencyGate(active);
  const rate = rateGate(rates);
  if (preempting) await makeRoom(fleet, runnable.filter((j) => !placed.has(j.id) && budgets.refusal(j) === null && keys.refusal(j) === null && rate.refusal(j) === null), sessions, now);
  return result;
}

/** Leases held per concurrency key of the listed jobs, from the store: every replica's count. */
function activeByKey(fleet: DispatchContext, jobs: readonly JobRecord[]): Promise<Map<string, number>> {
  const keys = [...new Set(jobs.flatMap((j) => (j.concurrencyKey !== undefined ? [j.concurrencyKey] : [])))];
  return keys.length === 0 ? Promise.resolve(new Map()) : fleet.store.countActiveByConcurrencyKey(keys);
}

/**
 * After claiming a job with a concurrency key: the count in the store, with our claim in it. Over
 * the limit means other claims landed meanwhile (another replica's pass); the claim is taken back
 * before its offer is sent. Whichever claim counts last sees every claim before it, so at most the
 * limit survive (two racing claims may both step back; the next pass places one).
 */
async function overLimit(fleet: DispatchContext, job: JobRecord): Promise<string | null> {
  if (job.concurrencyKey === undefined) return null;
  const held = (await fleet.store.countActiveByConcurrencyKey([job.concurrencyKey])).get(job.concurrencyKey) ?? 0;
  const limit = job.concurrencyLimit ?? 1;
  return held > limit ? concurrencyWait(job.concurrencyKey, held - 1, limit) : null;
}

/** Claims `job` for the session's factory (epoch + 1, offer deadline) and offers it; counts the outcome. */
async function claim(fleet: DispatchContext, session: FactoryLink, placement: Placement, now: number, result: PassResult, placed: Set<string>): Promise<void> {
  const factoryId = session.factory!.factoryId;
  const { job, score } = placement;
  try {
    // The listed record is the first guess: no read when it is still current (the usual case).
    const leased = await fleet.writes.mutate(job.id, (current) => offer(current, factoryId, now, fleet.settings, score), job);
    const over = await overLimit(fleet, leased);
    if (over !== null) {
      await fleet.writes.mutate(job.id, (current) => release(current, leased.epoch, fleet.clock.now(), 'unclaimed', over), leased);
      result.lost++;
      return;
    }
    await fleet.leases.apply({ t: 'offer', job: leased });
    recordDecision(fleet, placement, leased.epoch, now);
    placed.add(job.id);
    result.offered++;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err; // taken meanwhile (cancelled, another replica)
    result.lost++;
  }
}

/**
 * A job just submitted, placed at once when a factory has a free slot: the same filters, budgets
 * and scores as a pass, over this one job. Its slot is held from now; the offer is sent once the
 * claim (written right behind the job's insert, see Jobs.submit) is stored, and the slot is freed
 * if it is not. A pass would do the same a little later, one commit (and one fsync) later.
 * In a fleet larger than SCORED_FACTORIES the job is placed among a round-robin window of factories
 * with a free slot (Fleet.sessionsWithFreeSlots); when none of them can run it, a pass, which looks
 * at the whole fleet for the factories passing its filters, places it instead. `onLost`: the claim
 * was not stored.
 */
export function claimOnSubmit(fleet: DispatchContext, job: JobRecord, onLost: () => void): ReturnType<SubmitClaimer['claim']> {
  // Budget spend not yet (re)read: a pass reads it first, so leave the job to one. A concurrency
  // key and a dispatch-rate bucket are in the store, which a submit (deciding synchronously) cannot
  // read: a pass does.
  if (fleet.budgets.isRefreshDue() || job.concurrencyKey !== undefined || fleet.rates.limitOf(job.productId) !== null) return null;
  const free = fleet.sessionsWithFreeSlots(SCORED_FACTORIES);
  if (free.length === 0) return null;
  const now = fleet.clock.now();
  const scheduling = fleet.scheduling;
  const [placement] = planDispatch([job], free.map((s) => candidateOf(s, scheduling)), scheduling.fairness([job]), now, (j) => scheduling.weightsFor(j), fleet.budgets.gate(now));
  const session = placement && free.find((s) => s.factory!.factoryId === placement.factory.factoryId);
  if (!placement || !session) return null;
  let change: JobChange;
  try {
    change = offer(job, placement.factory.factoryId, now, fleet.settings, placement.score);
  } catch (err) {
    if (err instanceof DomainError) return null; // not offerable now (backing off): the pass decides later
    throw err;
  }
  void fleet.leases.apply({ t: 'claim', job: change.job });
  return {
    change,
    stored: (leased) => {
      void fleet.leases.apply({ t: 'offer', job: leased });
      recordDecision(fleet, placement, leased.epoch, now);
    },
    lost: () => {
      void fleet.leases.apply({ t: 'claim_lost', jobId: change.job.id, epoch: change.job.epoch });
      onLost(); // if the job was stored after all, a pass must find it
    },
  };
}

/** Remembers a placement the store accepted as attempt `epoch`, with the weights and A/B arm it used. */
function recordDecision(fleet: DispatchContext, placement: Placement, epoch: number, now: number): void {
  const { arm, weights } = fleet.scheduling.placementWeights(placement.job);
  fleet.decisions.placed(decisionOf(placement, epoch, arm, weights, now));
}

/** Reason recorded on queued jobs that no connected factory could run. */
export const UNPLACEABLE_PREFIX = 'no connected factory can run this job';

/**
 * Marks runnable jobs that no connected factory passes (labels or enrollment scope) with a reason,
 * bounded to one page per call; the next offer clears it. A replica dividing the work marks only
 * jobs of its own partitions (its factories are the ones that would run them).
 */
export async function noteUnplaceable(fleet: DispatchContext, pageSize: number): Promise<void> {
  // Only sessions past hello: one awaiting hello has no labels to match yet.
  const sessions = fleet.sessions().filter((s) => s.factory !== null);
  const now = fleet.clock.now();
  for (const job of await fleet.runnable(now, pageSize, 0)) {
    if (sessions.some((s) => s.mayServe(job.productId) && firstUnmetRequirement(job.requiredLabels, s.factory!.labels) === null)) continue;
    const reason =
      sessions.length === 0 ? `${UNPLACEABLE_PREFIX}: no factory is connected` : `${UNPLACEABLE_PREFIX}: ${describeUnmet(job, sessions[0]!)}`;
    await fleet.writes.mutate(job.id, (current) => noteWaiting(current, reason, now)).catch((err: unknown) => {
      if (!(err instanceof DomainError)) throw err;
    });
  }
}

function describeUnmet(job: JobRecord, session: FactoryLink): string {
  const unmet = firstUnmetRequirement(job.requiredLabels, session.factory!.labels);
  return unmet ? `none has ${describeRequirement(unmet)}` : `none may serve product ${job.productId}`;
}

/**
 * For the most urgent jobs left waiting: if every factory that could run one is full, ask a factory
 * to stop a job of lower priority (one preemption per waiting job at a time).
 */
async function makeRoom(fleet: DispatchContext, waiting: readonly JobRecord[], sessions: ReadonlyMap<string, FactoryLink>, now: number): Promise<void> {
  // On a saturated fleet this runs on every dispatch request: read running jobs from the store only
  // for a waiting job that outranks something holding a lease.
  const floor = fleet.scheduling.lowestActivePriority();
  const urgent = [...waiting]
    .filter((j) => floor !== null && j.priority > floor)
    .sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt)
    .slice(0, PREEMPTION_CANDIDATES);
  const book = fleet.leases.book;
  for (const job of urgent) {
    if (book.isPreemptingFor(job.id)) continue;
    const able = [...sessions.values()].filter(
      (s) => s.current.t === 'active' && s.mayServe(job.productId) && firstUnmetRequirement(job.requiredLabels, s.factory!.labels) === null,
    );
    if (able.length === 0 || able.some((s) => s.freeSlots > 0)) continue; // unplaceable, or a slot is free already
    const running: RunningCandidate[] = [];
    for (const session of able) {
      const candidate = candidateOf(session, fleet.scheduling);
      for (const jobId of session.jobIds()) {
        const held = book.lease(jobId);
        if (held?.phase !== 'running' || held.stop !== null) continue;
        const victim = await fleet.store.getJob(jobId);
        if (victim && victim.stage === 'running' && victim.epoch === held.epoch) running.push({ job: victim, factory: candidate });
      }
    }
    const victim = selectPreemptionVictim(job, running, now);
    if (!victim) continue;
    await fleet.leases.apply({ t: 'preempt', jobId: victim.job.id, epoch: victim.job.epoch, forJobId: job.id, reason: `job ${job.id} (priority ${job.priority}) needs the slot`, now });
  }
}

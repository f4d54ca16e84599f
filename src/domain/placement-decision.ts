/**
 * What a placement is remembered by for offline evaluation of scoring weights: the signals the
 * choice was made on (the chosen factory's and the best few it beat), the weights and the A/B arm
 * used, how long the job waited, and, once the attempt ends, how it ended.
 */
import type { AttemptOutcome, JobRecord } from './job.js';
import type { CandidateSignals, Placement, SchedulingWeights } from './scheduler.js';
import type { WeightsArm } from './weights-experiment.js';

export interface DecisionOutcome {
  result: AttemptOutcome;
  /** From the offer to the attempt's end. */
  durationMs: number;
  /** What the attempt cost, when its factory reported it. */
  cost: number | null;
  endedAt: number;
}

export interface PlacementDecision {
  jobId: string;
  /** The attempt's epoch: with the job id, the decision's key. */
  epoch: number;
  productId: string;
  decidedAt: number;
  arm: WeightsArm;
  weights: SchedulingWeights;
  /** How long the job had been runnable when it was placed. */
  waitMs: number;
  chosen: CandidateSignals;
  rejected: CandidateSignals[];
  /** Null until the attempt ends. */
  outcome: DecisionOutcome | null;
}

/** The outcome of one attempt, keyed like its decision. */
export interface AttemptEnd {
  jobId: string;
  epoch: number;
  /** The job's product: where a partitioned store (Cosmos) finds the decision without a query. */
  productId: string;
  outcome: DecisionOutcome;
}

/** The decision for a placement the store has just accepted as the job's attempt `epoch`. */
export function decisionOf(placement: Placement, epoch: number, arm: WeightsArm, weights: SchedulingWeights, now: number): PlacementDecision {
  const { job, features } = placement;
  return {
    jobId: job.id,
    epoch,
    productId: job.productId,
    decidedAt: now,
    arm,
    weights,
    waitMs: queueWaitMs(job, now),
    chosen: features.chosen,
    rejected: features.rejected,
    outcome: null,
  };
}

/** Since the job last became runnable: its creation, its requested start, or its last attempt's end. */
export function queueWaitMs(job: JobRecord, now: number): number {
  const lastEnd = job.attempts.reduce((latest, a) => Math.max(latest, a.endedAt ?? 0), 0);
  return Math.max(0, now - Math.max(job.createdAt, Math.min(job.notBefore, now), lastEnd));
}

/** The attempts that ended in the change that produced `job` (their end is the change's time). */
export function attemptsEndedIn(job: JobRecord): AttemptEnd[] {
  const ended: AttemptEnd[] = [];
  for (const a of job.attempts) {
    if (a.endedAt !== job.updatedAt || a.outcome === null) continue;
    ended.push({ jobId: job.id, epoch: a.epoch, productId: job.productId, outcome: { result: a.outcome, durationMs: Math.max(0, a.endedAt - a.offeredAt), cost: a.cost ?? null, endedAt: a.endedAt } });
  }
  return ended;
}

/**
 * Offline evaluation of scoring weights on recorded placements (the direct method): each decision
 * is replayed under the candidate weights, which choose among the factories recorded for it (the
 * chosen one and its runners-up). When the candidate picks the factory that was chosen, the observed
 * outcome counts; when it picks another, the outcome is estimated from the outcomes recorded when
 * that factory was chosen, or, with too few of those, when factories with the same signals were.
 * The expected change (candidate minus what happened) comes with a seeded bootstrap interval.
 *
 * Its bias is the usual one of counterfactual estimates (docs/weights.md): the outcome model only
 * knows what the recorded weights made happen; the A/B arms (compareArms) have no such bias.
 */
import { bootstrapDifference, bootstrapMean, mean, type MeanWithInterval } from './bootstrap.js';
import type { AttemptOutcome } from './job.js';
import { failedPrecondition } from './errors.js';
import type { PlacementDecision } from './placement-decision.js';
import { WEIGHT_NAMES, type CandidateSignals, type SchedulingWeights } from './scheduler.js';
import { seededRandom } from './seeded-random.js';
import type { WeightsArm } from './weights-experiment.js';

/** Outcomes that say nothing about the factory (an operator's cancel, a preemption, an offer handed back). */
const UNINFORMATIVE: ReadonlySet<AttemptOutcome> = new Set(['cancelled', 'preempted', 'released']);

/** Decisions with an informative outcome an evaluation needs at least. */
export const MIN_EVALUATION_DECISIONS = 30;

/** A factory (or a class of like factories) needs this many recorded outcomes to stand for itself. */
const MIN_SUPPORT = 5;

export interface MetricChange {
  /** Mean of what happened under the recorded weights. */
  baseline: number;
  /** Mean expected under the candidate weights. */
  candidate: number;
  /** candidate - baseline, with its 95% interval. */
  change: MeanWithInterval;
}

export interface WeightsEvaluation {
  /** Decisions with an informative outcome (the rest are not counted). */
  decisions: number;
  /** Of those, the share where the candidate picks the factory that was chosen. */
  agreement: number;
  /** Picks of another factory whose outcome rested on every recorded outcome (no like factory had enough). */
  unsupported: number;
  successRate: MetricChange;
  /** From the job becoming runnable to the attempt's end: the queue wait plus the run. */
  turnaroundMs: MetricChange;
  /** Per attempt, over the decisions whose cost was reported (null when none was). */
  cost: MetricChange | null;
}

export interface EvaluationOptions {
  seed?: number;
  resamples?: number;
}

/** Replays `decisions` under `weights`; FAILED_PRECONDITION when too few have outcomes to say anything. */
export function evaluateWeights(decisions: readonly PlacementDecision[], weights: SchedulingWeights, options: EvaluationOptions = {}): WeightsEvaluation {
  const replay = prepareReplay(decisions);
  if (replay.length < MIN_EVALUATION_DECISIONS) {
    throw failedPrecondition(`an evaluation needs at least ${MIN_EVALUATION_DECISIONS} placements with an outcome; there are ${replay.length}`);
  }
  return evaluatePrepared(replay, weights, options);
}

/** One decision ready to replay: its candidates and, for each, the outcome observed or estimated. */
export interface ReplayCase {
  candidates: CandidateSignals[];
  /** By candidate index: 0 is the chosen factory, observed; the rest are estimates. */
  outcomes: ExpectedOutcome[];
  /** Whether each estimate rested on every recorded outcome only. */
  unsupported: boolean[];
}

interface ExpectedOutcome {
  success: number;
  turnaroundMs: number;
  cost: number | null;
}

/** The decisions with an informative outcome, each with every candidate's outcome, observed or estimated. */
export function prepareReplay(decisions: readonly PlacementDecision[]): ReplayCase[] {
  const usable = decisions.filter((d) => d.outcome !== null && !UNINFORMATIVE.has(d.outcome.result));
  const model = new OutcomeModel(usable);
  return usable.map((d) => {
    const observed: ExpectedOutcome = { success: d.outcome!.result === 'succeeded' ? 1 : 0, turnaroundMs: d.waitMs + d.outcome!.durationMs, cost: d.outcome!.cost };
    const estimates = d.rejected.map((c) => model.estimate(c));
    return {
      candidates: [d.chosen, ...d.rejected],
      outcomes: [observed, ...estimates.map((e) => ({ success: e.success, turnaroundMs: d.waitMs + e.durationMs, cost: e.cost }))],
      unsupported: [false, ...estimates.map((e) => e.unsupported)],
    };
  });
}

/** Evaluates weights on prepared cases (the search reuses them for every set it tries). */
export function evaluatePrepared(cases: readonly ReplayCase[], weights: SchedulingWeights, options: EvaluationOptions = {}): WeightsEvaluation {
  const random = seededRandom(options.seed ?? 1);
  const picks = cases.map((c) => pickUnder(c.candidates, weights));
  const deltas = changes(cases, picks);
  const costCases = cases.flatMap((c, i) => (c.outcomes[0]!.cost !== null && c.outcomes[picks[i]!]!.cost !== null ? [i] : []));
  const metric = (baseline: number[], delta: number[]): MetricChange => {
    const change = bootstrapMean(delta, random, options.resamples);
    return { baseline: mean(baseline), candidate: mean(baseline) + change.mean, change };
  };
  return {
    decisions: cases.length,
    agreement: picks.filter((p) => p === 0).length / cases.length,
    unsupported: picks.filter((p, i) => cases[i]!.unsupported[p]).length,
    successRate: metric(cases.map((c) => c.outcomes[0]!.success), deltas.success),
    turnaroundMs: metric(cases.map((c) => c.outcomes[0]!.turnaroundMs), deltas.turnaroundMs),
    cost: costCases.length === 0 ? null : metric(costCases.map((i) => cases[i]!.outcomes[0]!.cost!), costCases.map((i) => cases[i]!.outcomes[picks[i]!]!.cost! - cases[i]!.outcomes[0]!.cost!)),
  };
}

/** Per case, what the candidate's pick changes against what happened. */
export function changes(cases: readonly ReplayCase[], picks: readonly number[]): { success: number[]; turnaroundMs: number[] } {
  const success: number[] = [];
  const turnaroundMs: number[] = [];
  cases.forEach((c, i) => {
    const picked = c.outcomes[picks[i]!]!;
    success.push(picked.success - c.outcomes[0]!.success);
    turnaroundMs.push(picked.turnaroundMs - c.outcomes[0]!.turnaroundMs);
  });
  return { success, turnaroundMs };
}

/**
 * The candidate `weights` would choose, as the scheduler does: the highest total, rounded as the
 * scorer rounds it, ties to the smaller factory id.
 */
export function pickUnder(candidates: readonly CandidateSignals[], weights: SchedulingWeights): number {
  let best = 0;
  let bestTotal = -Infinity;
  candidates.forEach((c, i) => {
    let total = 0;
    for (const name of WEIGHT_NAMES) total += weights[name] * c.signals[name];
    total = Math.round(total * 1000) / 1000;
    if (total > bestTotal || (total === bestTotal && c.factoryId < candidates[best]!.factoryId)) {
      best = i;
      bestTotal = total;
    }
  });
  return best;
}

interface Tally {
  n: number;
  successes: number;
  durationMs: number;
  costs: number;
  costSum: number;
}

/**
 * The outcome expected on a factory that was not chosen: the mean of the outcomes when it was;
 * with fewer than MIN_SUPPORT of those, of factories with the same factory-side signals (affinity,
 * cost class, load in quarters); with fewer still, of every recorded outcome.
 */
class OutcomeModel {
  private readonly byFactory = new Map<string, Tally>();
  private readonly byClass = new Map<string, Tally>();
  private readonly all = emptyTally();

  constructor(decisions: readonly PlacementDecision[]) {
    for (const d of decisions) {
      const o = d.outcome!;
      for (const tally of [this.tally(this.byFactory, d.chosen.factoryId), this.tally(this.byClass, classOf(d.chosen)), this.all]) {
        tally.n++;
        tally.successes += o.result === 'succeeded' ? 1 : 0;
        tally.durationMs += o.durationMs;
        if (o.cost !== null) {
          tally.costs++;
          tally.costSum += o.cost;
        }
      }
    }
  }

  estimate(candidate: CandidateSignals): { success: number; durationMs: number; cost: number | null; unsupported: boolean } {
    const own = this.byFactory.get(candidate.factoryId);
    const like = this.byClass.get(classOf(candidate));
    const tally = own && own.n >= MIN_SUPPORT ? own : like && like.n >= MIN_SUPPORT ? like : this.all;
    return { success: tally.successes / tally.n, durationMs: tally.durationMs / tally.n, cost: tally.costs === 0 ? null : tally.costSum / tally.costs, unsupported: tally === this.all };
  }

  private tally(map: Map<string, Tally>, key: string): Tally {
    let tally = map.get(key);
    if (!tally) map.set(key, (tally = emptyTally()));
    return tally;
  }
}

function emptyTally(): Tally {
  return { n: 0, successes: 0, durationMs: 0, costs: 0, costSum: 0 };
}

function classOf(c: CandidateSignals): string {
  return `${c.signals.affinity}|${c.signals.costClass}|${Math.min(3, Math.floor(c.signals.load * 4))}`;
}

/** One arm's outcomes in an A/B run of weights. */
export interface ArmStats {
  arm: WeightsArm;
  placements: number;
  /** Placements with an informative outcome. */
  decided: number;
  successRate: MeanWithInterval;
  waitMs: MeanWithInterval;
  turnaroundMs: MeanWithInterval;
  cost: MeanWithInterval | null;
}

export interface ArmComparison {
  control: ArmStats;
  candidate: ArmStats;
  /** candidate - control, each with its 95% interval. */
  successRate: MeanWithInterval;
  waitMs: MeanWithInterval;
  turnaroundMs: MeanWithInterval;
  cost: MeanWithInterval | null;
}

/**
 * The A/B comparison: each arm's observed means and the differences, with bootstrap intervals. The
 * arms are assigned by job id, at random with respect to the jobs, so no outcome model is involved.
 */
export function compareArms(decisions: readonly PlacementDecision[], options: EvaluationOptions = {}): ArmComparison {
  const random = seededRandom(options.seed ?? 1);
  const of = (arm: WeightsArm): PlacementDecision[] => decisions.filter((d) => d.arm === arm);
  const series = (ds: PlacementDecision[]) => {
    const decided = ds.filter((d) => d.outcome !== null && !UNINFORMATIVE.has(d.outcome.result));
    return {
      placements: ds.length,
      decided: decided.length,
      success: decided.map((d) => (d.outcome!.result === 'succeeded' ? 1 : 0)),
      wait: ds.map((d) => d.waitMs),
      turnaround: decided.map((d) => d.waitMs + d.outcome!.durationMs),
      cost: decided.flatMap((d) => (d.outcome!.cost === null ? [] : [d.outcome!.cost])),
    };
  };
  const [a, b] = [series(of('control')), series(of('candidate'))];
  const stats = (arm: WeightsArm, s: typeof a): ArmStats => ({
    arm,
    placements: s.placements,
    decided: s.decided,
    successRate: bootstrapMean(s.success, random, options.resamples),
    waitMs: bootstrapMean(s.wait, random, options.resamples),
    turnaroundMs: bootstrapMean(s.turnaround, random, options.resamples),
    cost: s.cost.length === 0 ? null : bootstrapMean(s.cost, random, options.resamples),
  });
  return {
    control: stats('control', a),
    candidate: stats('candidate', b),
    successRate: bootstrapDifference(a.success, b.success, random, options.resamples),
    waitMs: bootstrapDifference(a.wait, b.wait, random, options.resamples),
    turnaroundMs: bootstrapDifference(a.turnaround, b.turnaround, random, options.resamples),
    cost: a.cost.length === 0 || b.cost.length === 0 ? null : bootstrapDifference(a.cost, b.cost, random, options.resamples),
  };
}

/**
 * `weights recommend`: a seeded search over the weights that can change where a job goes, scored
 * by the offline replay (weights-eval.ts), proposing a set only when its gain's interval excludes 0.
 *
 * Only affinity, load and costClass differ between the factories of one placement; priority, aging
 * and fairShare are the same on every factory of a decision, so they decide which job goes first,
 * never where it goes, and a replay of placements cannot judge them: they are left as they are.
 */
import { failedPrecondition, invalidArgument } from './errors.js';
import type { PlacementDecision } from './placement-decision.js';
import type { SchedulingWeights, WeightName } from './scheduler.js';
import { seededRandom } from './seeded-random.js';
import { changes, evaluatePrepared, pickUnder, prepareReplay, type ReplayCase, type WeightsEvaluation } from './weights-eval.js';
import { mean } from './bootstrap.js';

export const SEARCHED_TERMS: readonly WeightName[] = ['affinity', 'load', 'costClass'];
/** The values each searched term may take: a log-like grid from off to strong. */
const GRID = [0, 0.5, 1, 2, 3, 5, 10, 20, 50, 100];

export const OBJECTIVES = ['success', 'turnaround', 'cost'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/**
 * Decisions with an outcome a recommendation needs at least: with fewer, a bootstrap interval of a
 * success rate is some ±10 points wide and a search over hundreds of sets finds noise.
 */
export const MIN_RECOMMEND_DECISIONS = 200;

export interface SearchOptions {
  objective?: Objective;
  seed?: number;
  /** Random sets tried before the coordinate search refines the best. */
  samples?: number;
  resamples?: number;
}

export interface Recommendation {
  /** True when the best set's gain has an interval above 0; otherwise the current weights stand. */
  recommended: boolean;
  objective: Objective;
  weights: SchedulingWeights;
  evaluation: WeightsEvaluation;
  /** How many weight sets were tried. */
  tried: number;
}

export function recommendWeights(decisions: readonly PlacementDecision[], current: SchedulingWeights, options: SearchOptions = {}): Recommendation {
  const objective = options.objective ?? 'success';
  if (!(OBJECTIVES as readonly string[]).includes(objective)) throw invalidArgument(`objective ${String(objective)} is not one of ${OBJECTIVES.join(', ')}`);
  const cases = prepareReplay(decisions);
  if (cases.length < MIN_RECOMMEND_DECISIONS) {
    throw failedPrecondition(`a recommendation needs at least ${MIN_RECOMMEND_DECISIONS} placements with an outcome; there are ${cases.length} (${MIN_RECOMMEND_DECISIONS - cases.length} more)`);
  }
  const random = seededRandom(options.seed ?? 1);
  const seen = new Map<string, number>();
  const score = (w: SchedulingWeights): number => {
    const key = SEARCHED_TERMS.map((t) => w[t]).join(',');
    let gain = seen.get(key);
    if (gain === undefined) seen.set(key, (gain = gainOf(cases, w, objective)));
    return gain;
  };
  let best = current;
  let bestGain = score(current);
  const consider = (w: SchedulingWeights): void => {
    const gain = score(w);
    if (gain > bestGain + 1e-12) [best, bestGain] = [w, gain];
  };
  for (let i = 0; i < (options.samples ?? 200); i++) {
    const w = { ...current };
    for (const term of SEARCHED_TERMS) w[term] = GRID[Math.floor(random() * GRID.length)]!;
    consider(w);
  }
  // Coordinate search from the best: one term at a time over the grid, until a sweep changes nothing.
  for (let sweep = 0; sweep < 5; sweep++) {
    const before = best;
    for (const term of SEARCHED_TERMS) for (const value of GRID) consider({ ...best, [term]: value });
    if (before === best) break;
  }
  const evaluation = evaluatePrepared(cases, best, { seed: options.seed ?? 1, ...(options.resamples ? { resamples: options.resamples } : {}) });
  const interval = objectiveInterval(evaluation, objective);
  return { recommended: best !== current && interval !== null && interval.low > 0, objective, weights: best, evaluation, tried: seen.size };
}

/** The objective's gain (higher is better): success up, turnaround or cost down. */
function gainOf(cases: readonly ReplayCase[], weights: SchedulingWeights, objective: Objective): number {
  const picks = cases.map((c) => pickUnder(c.candidates, weights));
  if (objective === 'cost') {
    const deltas = cases.flatMap((c, i) => (c.outcomes[0]!.cost !== null && c.outcomes[picks[i]!]!.cost !== null ? [c.outcomes[picks[i]!]!.cost! - c.outcomes[0]!.cost!] : []));
    return -mean(deltas);
  }
  const d = changes(cases, picks);
  return objective === 'success' ? mean(d.success) : -mean(d.turnaroundMs);
}

/** The gain's interval in the objective's direction (null when cost was never reported). */
function objectiveInterval(e: WeightsEvaluation, objective: Objective): { low: number; high: number } | null {
  if (objective === 'success') return { low: e.successRate.change.low, high: e.successRate.change.high };
  const metric = objective === 'cost' ? e.cost : e.turnaroundMs;
  return metric === null ? null : { low: -metric.change.high, high: -metric.change.low };
}

/**
 * A generated history of placements where the better weights are known: factories labelled
 * cost=low (costClass 1) fail 60% of their jobs, the others 5%, and the default weights favour
 * the cheap ones. Each placement is among two cheap and two plain factories with random affinity
 * and load, chosen under the weights `weightsOf` gives, with a seeded outcome.
 */
import type { PlacementDecision } from '../../src/domain/placement-decision.js';
import { DEFAULT_WEIGHTS, type CandidateSignals, type SchedulingWeights } from '../../src/domain/scheduler.js';
import { seededRandom } from '../../src/domain/seeded-random.js';
import { pickUnder } from '../../src/domain/weights-eval.js';

const T0 = 1_760_000_000_000;
const CHEAP_FACTORIES = ['cheap-1', 'cheap-2', 'cheap-3'];
const PLAIN_FACTORIES = ['plain-1', 'plain-2', 'plain-3'];
/** cost=low factories succeed 40% of the time, the others 95%. */
const successChance = (factoryId: string): number => (factoryId.startsWith('cheap') ? 0.4 : 0.95);

function candidate(factoryId: string, random: () => number): CandidateSignals {
  return {
    factoryId,
    signals: { priority: 0, aging: 0, fairShare: 0, affinity: random() < 0.3 ? 1 : 0, load: Math.round(random() * 4) / 4, costClass: factoryId.startsWith('cheap') ? 1 : 0 },
  };
}

/** `count` placements made under `weightsOf(index)`, each among two cheap and two plain factories. */
export function history(count: number, seed: number, weightsOf: (i: number) => { arm: 'control' | 'candidate'; weights: SchedulingWeights } = () => ({ arm: 'control', weights: DEFAULT_WEIGHTS }), productId = 'p', start = T0): PlacementDecision[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const pool = [CHEAP_FACTORIES[i % 3]!, CHEAP_FACTORIES[(i + 1) % 3]!, PLAIN_FACTORIES[i % 3]!, PLAIN_FACTORIES[(i + 2) % 3]!];
    const candidates = pool.map((f) => candidate(f, random));
    const { arm, weights } = weightsOf(i);
    const picked = pickUnder(candidates, weights);
    const chosen = candidates[picked]!;
    const succeeded = random() < successChance(chosen.factoryId);
    const durationMs = (succeeded ? 60_000 : 20_000) + Math.floor(random() * 10_000);
    return {
      jobId: `job-${i}`,
      epoch: 1,
      productId,
      decidedAt: start + i * 1_000,
      arm,
      weights,
      waitMs: 5_000,
      chosen,
      rejected: candidates.filter((_, k) => k !== picked),
      outcome: { result: succeeded ? 'succeeded' : 'failed', durationMs, cost: chosen.factoryId.startsWith('cheap') ? 1 : 3, endedAt: start + i * 1_000 + durationMs },
    };
  });
}


/**
 * Offline evaluation of scoring weights on a generated history where the better weights are known:
 * factories labelled cost=low fail most of their jobs, so the default weights (which favour them)
 * lose to weights that stop favouring them, and the replay must say so with an interval excluding 0;
 * the recorded weights replay to no change at all; the search finds the better set; the A/B arms'
 * comparison sees a real difference; too little data is refused with how much is needed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTS, type SchedulingWeights } from '../../src/domain/scheduler.js';
import { seededRandom } from '../../src/domain/seeded-random.js';
import { compareArms, evaluateWeights } from '../../src/domain/weights-eval.js';
import { MIN_RECOMMEND_DECISIONS, recommendWeights } from '../../src/domain/weights-search.js';
import { history } from '../support/weights-history.js';
import { domainError } from './helpers.js';

const NO_COST_PREFERENCE: SchedulingWeights = { ...DEFAULT_WEIGHTS, costClass: 0 };

describe('evaluateWeights on a history where the better weights are known', () => {
  const decisions = history(600, 7);

  it('weights that stop favouring the failing class come out better, with an interval excluding 0', () => {
    const e = evaluateWeights(decisions, NO_COST_PREFERENCE, { seed: 3 });
    expect(e.decisions).toBe(600);
    expect(e.successRate.change.mean).toBeGreaterThan(0.05);
    expect(e.successRate.change.low).toBeGreaterThan(0);
    expect(e.successRate.candidate).toBeGreaterThan(e.successRate.baseline);
    // The plain factories cost more: the replay says that too.
    expect(e.cost!.change.low).toBeGreaterThan(0);
    expect(e.agreement).toBeLessThan(0.9);
  });

  it('weights that favour the failing class even more come out no better', () => {
    const e = evaluateWeights(decisions, { ...DEFAULT_WEIGHTS, costClass: 100 }, { seed: 3 });
    expect(e.successRate.change.high).toBeLessThanOrEqual(0);
  });

  it('the recorded weights replay to exactly what happened', () => {
    const e = evaluateWeights(decisions, DEFAULT_WEIGHTS, { seed: 3 });
    expect(e.agreement).toBe(1);
    expect(e.successRate.change).toMatchObject({ mean: 0, low: 0, high: 0 });
    expect(e.turnaroundMs.change).toMatchObject({ mean: 0, low: 0, high: 0 });
  });

  it('is deterministic for a seed', () => {
    expect(evaluateWeights(decisions, NO_COST_PREFERENCE, { seed: 9 })).toEqual(evaluateWeights(decisions, NO_COST_PREFERENCE, { seed: 9 }));
  });

  it('leaves out attempts that say nothing about the factory (cancelled, preempted, released) and those still running', () => {
    const noisy = decisions.map((d, i) => (i % 4 === 0 ? { ...d, outcome: { ...d.outcome!, result: 'cancelled' as const } } : i % 4 === 1 ? { ...d, outcome: null } : d));
    expect(evaluateWeights(noisy, NO_COST_PREFERENCE).decisions).toBe(300);
  });

  it('refuses too few placements with an outcome, saying how many are needed', () => {
    const err = domainError(() => evaluateWeights(decisions.slice(0, 10), NO_COST_PREFERENCE));
    expect(err.code).toBe('failed_precondition');
    expect(err.message).toContain('at least 30');
    expect(err.message).toContain('there are 10');
  });
});

describe('recommendWeights', () => {
  it('finds weights that no longer favour the failing class, and recommends them with an interval above 0', () => {
    const r = recommendWeights(history(600, 11), DEFAULT_WEIGHTS, { seed: 5 });
    expect(r.recommended).toBe(true);
    expect(r.weights.costClass).toBeLessThan(r.weights.load + r.weights.affinity);
    expect(r.evaluation.successRate.change.low).toBeGreaterThan(0);
    // Terms that cannot change where a job goes are left alone.
    expect(r.weights.priority).toBe(DEFAULT_WEIGHTS.priority);
    expect(r.tried).toBeGreaterThan(20);
  });

  it('does not recommend a change when the current weights are already the best', () => {
    const decisions = history(600, 13, () => ({ arm: 'control', weights: NO_COST_PREFERENCE }));
    // A history made under good weights, where every factory has the same odds: nothing to gain.
    const even = decisions.map((d) => ({ ...d, outcome: { ...d.outcome!, result: 'succeeded' as const } }));
    const r = recommendWeights(even, NO_COST_PREFERENCE, { seed: 5 });
    expect(r.recommended).toBe(false);
  });

  it(`refuses fewer than ${MIN_RECOMMEND_DECISIONS} placements, saying how many more are needed`, () => {
    const err = domainError(() => recommendWeights(history(150, 1), DEFAULT_WEIGHTS));
    expect(err.code).toBe('failed_precondition');
    expect(err.message).toContain(`at least ${MIN_RECOMMEND_DECISIONS}`);
    expect(err.message).toContain('50 more');
  });

  it('refuses an unknown objective', () => {
    const err = domainError(() => recommendWeights(history(300, 1), DEFAULT_WEIGHTS, { objective: 'speed' as never }));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toContain('objective speed');
  });
});

describe('compareArms', () => {
  it('sees the candidate arm succeed more, with an interval excluding 0, from observed outcomes alone', () => {
    const random = seededRandom(21);
    const decisions = history(800, 17, () => (random() < 0.3 ? { arm: 'candidate', weights: NO_COST_PREFERENCE } : { arm: 'control', weights: DEFAULT_WEIGHTS }));
    const c = compareArms(decisions, { seed: 2 });
    expect(c.control.placements + c.candidate.placements).toBe(800);
    expect(c.candidate.placements).toBeGreaterThan(180);
    expect(c.successRate.low).toBeGreaterThan(0);
    expect(c.candidate.successRate.mean).toBeGreaterThan(c.control.successRate.mean);
  });

  it('reports an empty arm as empty rather than failing', () => {
    const c = compareArms(history(50, 2));
    expect(c.candidate.placements).toBe(0);
    expect(c.successRate.n).toBe(0);
  });
});

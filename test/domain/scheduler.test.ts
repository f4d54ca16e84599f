/**
 * The scheduler's pure functions: hard filters before scores, deterministic scores, aging that lets
 * every job win eventually, fair share converging to the weights, weights validated, and preemption
 * picking the right victim.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobRecord, LabelRequirement } from '../../src/domain/job.js';
import { newJob } from '../../src/domain/lifecycle.js';
import {
  DEFAULT_WEIGHTS,
  explain,
  planDispatch,
  RECORDED_RUNNERS_UP,
  resolveWeights,
  SCORED_FACTORIES,
  scoreCandidate,
  selectPreemptionVictim,
  type FactoryCandidate,
  type FairShareState,
} from '../../src/domain/scheduler.js';
import { meetsRequirements } from '../../src/domain/labels.js';
import { domainError, spec, T0 } from './helpers.js';

const NO_FAIRNESS: FairShareState = { runningByProduct: new Map(), demandWeights: new Map() };
const weightsFor = () => DEFAULT_WEIGHTS;

function job(id: string, opts: { priority?: number; product?: string; labels?: LabelRequirement[]; at?: number } = {}): JobRecord {
  return newJob(spec({ priority: opts.priority ?? 0, productId: opts.product ?? 'p', requiredLabels: opts.labels ?? [] }), id, opts.at ?? T0, 'test').job;
}

function factory(id: string, labels: Record<string, string> = {}, freeSlots = 1, slots = freeSlots): FactoryCandidate {
  return { factoryId: id, labels, slots, freeSlots, draining: false, recentProducts: [] };
}

const labelArb = fc.record({
  key: fc.constantFrom('os', 'gpu', 'mem'),
  operator: fc.constantFrom('equals', 'in', 'not_in', 'exists', 'not_exists', 'gte', 'lte') as fc.Arbitrary<LabelRequirement['operator']>,
  values: fc.array(fc.constantFrom('linux', 'mac', '1', '8', '64'), { minLength: 1, maxLength: 2 }),
}).map((r): LabelRequirement => ({ ...r, values: r.operator === 'exists' || r.operator === 'not_exists' ? [] : r.operator === 'in' || r.operator === 'not_in' ? r.values : [r.values[0]!] }));
const factoryLabelsArb = fc.dictionary(fc.constantFrom('os', 'gpu', 'mem'), fc.constantFrom('linux', 'mac', '1', '8', '64'));

describe('hard filters before scores', () => {
  it('never places a job on a factory failing a hard filter, nor beyond free slots (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ priority: fc.integer({ min: -5, max: 5 }), labels: fc.array(labelArb, { maxLength: 2 }), product: fc.constantFrom('a', 'b', 'c') }), { maxLength: 30 }),
        fc.array(fc.record({ labels: factoryLabelsArb, free: fc.integer({ min: 0, max: 3 }), draining: fc.boolean() }), { maxLength: 6 }),
        (jobs, factories) => {
          const runnable = jobs.map((j, i) => job(`j${i}`, { priority: j.priority, labels: j.labels, product: j.product, at: T0 + i }));
          const candidates = factories.map((f, i) => ({ ...factory(`f${i}`, f.labels, f.free, 3), draining: f.draining }));
          const plan = planDispatch(runnable, candidates, NO_FAIRNESS, T0 + 60_000, weightsFor);
          const used = new Map<string, number>();
          for (const p of plan) {
            const f = candidates.find((c) => c.factoryId === p.factory.factoryId)!;
            expect(f.draining).toBe(false);
            expect(meetsRequirements(p.job.requiredLabels, f.labels)).toBe(true);
            used.set(f.factoryId, (used.get(f.factoryId) ?? 0) + 1);
          }
          for (const [id, n] of used) expect(n).toBeLessThanOrEqual(candidates.find((c) => c.factoryId === id)!.freeSlots);
          expect(new Set(plan.map((p) => p.job.id)).size).toBe(plan.length);
        },
      ),
    );
  });

  it('explains which label failed, and scores only factories that pass', () => {
    const gpu: LabelRequirement = { key: 'gpu', operator: 'equals', values: ['a100'] };
    const [a, b] = explain(job('x', { labels: [gpu] }), [factory('cpu', { os: 'linux' }), factory('gpu', { gpu: 'a100' })], NO_FAIRNESS, T0, DEFAULT_WEIGHTS);
    expect(a).toMatchObject({ factoryId: 'cpu', passed: false, score: null });
    expect(a!.checks.find((c) => c.name === 'labels')!.detail).toBe('label gpu=a100 not met (factory has gpu=<none>)');
    expect(b).toMatchObject({ factoryId: 'gpu', passed: true });
    expect(b!.score!.total).toBeGreaterThan(0);
  });
});

describe('scores', () => {
  it('are deterministic and equal the sum of their terms (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), fc.integer({ min: 0, max: 100_000_000 }), fc.integer({ min: 0, max: 8 }), (priority, waited, free) => {
        const j = job('d', { priority });
        const f = { ...factory('f', { cost: 'low' }, free, 8), recentProducts: ['p'] };
        const a = scoreCandidate(j, f, NO_FAIRNESS, T0 + waited, DEFAULT_WEIGHTS);
        const b = scoreCandidate(j, f, NO_FAIRNESS, T0 + waited, DEFAULT_WEIGHTS);
        expect(a).toEqual(b);
        const sum = Object.values(a.terms).reduce((x, y) => x + y, 0);
        expect(Math.abs(sum - a.total)).toBeLessThan(0.01);
      }),
    );
  });

  it('aging makes every job eventually win over newer jobs of higher priority (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 999 }), fc.integer({ min: 1, max: 2000 }), (low, gap) => {
        const old = job('old', { priority: low, at: T0 });
        // Enough waiting for aging to overcome the priority gap: weight ratio priority/aging minutes per point.
        const minutes = ((DEFAULT_WEIGHTS.priority * gap) / DEFAULT_WEIGHTS.aging) + 1;
        const now = T0 + minutes * 60_000;
        const fresh = job('fresh', { priority: low + gap, at: now });
        const [placement] = planDispatch([fresh, old], [factory('f')], NO_FAIRNESS, now, weightsFor);
        expect(placement!.job.id).toBe('old');
      }),
    );
  });

  it('fair share converges to the product weights over long random runs (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 1_000_000 }), (wa, wb, seed) => {
        // Two products flood the queue; one slot at a time frees up; jobs finish at random.
        // mulberry32: a small PRNG that stays exact in 32-bit integer arithmetic.
        let state = seed >>> 0;
        const random = (): number => {
          state = (state + 0x6d2b79f5) >>> 0;
          let t = state;
          t = Math.imul(t ^ (t >>> 15), t | 1);
          t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const running: string[] = [];
        let shareOfA = 0;
        let samples = 0;
        let n = 0;
        for (let step = 0; step < 400; step++) {
          if (running.length >= 10) running.splice(Math.floor(random() * running.length), 1);
          const runnable = [job(`a${n++}`, { product: 'a' }), job(`b${n++}`, { product: 'b' })];
          const runningByProduct = new Map<string, number>([['a', running.filter((p) => p === 'a').length], ['b', running.filter((p) => p === 'b').length]]);
          const fairness = { runningByProduct, demandWeights: new Map([['a', wa], ['b', wb]]) };
          const [p] = planDispatch(runnable, [factory('f')], fairness, T0, weightsFor);
          running.push(p!.job.productId);
          if (step >= 50 && running.length === 10) {
            shareOfA += running.filter((x) => x === 'a').length / 10;
            samples++;
          }
        }
        // The running mix (what fair share governs) averages to the weights, within one slot of ten.
        const share = shareOfA / samples;
        expect(Math.abs(share - wa / (wa + wb))).toBeLessThanOrEqual(0.1);
      }),
      { numRuns: 12 },
    );
  });

  it('rejects weights out of bounds or unknown, naming the field', () => {
    expect(domainError(() => resolveWeights(DEFAULT_WEIGHTS, null, { priority: -1 }))).toMatchObject({ code: 'invalid_argument', message: 'weights.priority -1 must be from 0 to 1000' });
    expect(domainError(() => resolveWeights(DEFAULT_WEIGHTS, { aging: 1e9 }, null)).message).toContain('product weights.aging');
    expect(domainError(() => resolveWeights(DEFAULT_WEIGHTS, null, { speed: 1 } as never)).message).toContain('weights.speed is not a scoring weight');
    expect(resolveWeights(DEFAULT_WEIGHTS, { aging: 5 }, { priority: 1 })).toEqual({ ...DEFAULT_WEIGHTS, aging: 5, priority: 1 });
  });
});

describe('placement in a large fleet', () => {
  /** A factory that counts how often the planner reads its recent products: once per score. */
  function counted(id: string, labels: Record<string, string> = {}): FactoryCandidate & { scored: number } {
    const f = { ...factory(id, labels), scored: 0 };
    return Object.defineProperty(f, 'recentProducts', { get: () => (f.scored++, []) });
  }

  it('scores at most SCORED_FACTORIES factories per placement however large the fleet', () => {
    const fleet = Array.from({ length: 2_000 }, (_, i) => counted(`f${String(i).padStart(4, '0')}`));
    const plan = planDispatch([job('a'), job('b')], fleet, NO_FAIRNESS, T0, weightsFor);
    expect(plan).toHaveLength(2);
    // Each placement scores its window, then builds the breakdown of the factory it picked and
    // records the signals of that one and its runners-up.
    expect(fleet.reduce((n, f) => n + f.scored, 0)).toBeLessThanOrEqual(2 * (SCORED_FACTORIES + 2 + RECORDED_RUNNERS_UP));
  });

  it('records the signals of the chosen factory and of its best runners-up, best first', () => {
    const fleet = [factory('plain'), factory('cheap', { cost: 'low' }), factory('dear', { cost: 'high' }), ...Array.from({ length: 6 }, (_, i) => factory(`half${i}`, {}, 1, 2))];
    const [placement] = planDispatch([job('a', { priority: 2 })], fleet, NO_FAIRNESS, T0, weightsFor);
    const { chosen, rejected } = placement!.features;
    expect(chosen).toEqual({ factoryId: 'cheap', signals: { priority: 2, aging: 0, affinity: 0, load: 1, fairShare: 0, costClass: 1 } });
    expect(rejected.map((r) => r.factoryId)).toEqual(['plain', 'half0', 'half1', 'half2']);
    expect(rejected).toHaveLength(RECORDED_RUNNERS_UP);
    expect(rejected[1]!.signals.load).toBe(0.5);
  });

  it('still finds the few factories that pass the filters, and picks the best of them', () => {
    const gpu: LabelRequirement = { key: 'gpu', operator: 'exists', values: [] };
    const fleet = Array.from({ length: 1_000 }, (_, i) => factory(`cpu${i}`));
    fleet.splice(137, 0, factory('gpu-standard', { gpu: 'a100' }));
    fleet.splice(811, 0, factory('gpu-cheap', { gpu: 'a100', cost: 'low' }));
    const [placement] = planDispatch([job('train', { labels: [gpu] })], fleet, NO_FAIRNESS, T0, weightsFor);
    expect(placement!.factory.factoryId).toBe('gpu-cheap');
  });

  it('spreads jobs over the fleet, never beyond free slots, and plans the same way twice (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: SCORED_FACTORIES + 1, max: 600 }), fc.integer({ min: 1, max: 300 }), (size, jobs) => {
        const fleet = Array.from({ length: size }, (_, i) => factory(`f${i}`, {}, 1));
        const runnable = Array.from({ length: jobs }, (_, i) => job(`j${i}`, { at: T0 + i }));
        const plan = planDispatch(runnable, fleet, NO_FAIRNESS, T0, weightsFor);
        expect(plan).toHaveLength(Math.min(size, jobs));
        expect(new Set(plan.map((p) => p.factory.factoryId)).size).toBe(plan.length);
        expect(planDispatch(runnable, fleet, NO_FAIRNESS, T0, weightsFor)).toEqual(plan);
      }),
      { numRuns: 30 },
    );
  });

  it('scores the picked factory exactly as scoreCandidate does', () => {
    const fleet = Array.from({ length: 300 }, (_, i) => factory(`f${i}`, { cost: ['low', 'high', 'standard'][i % 3]! }, 1 + (i % 4), 4));
    for (const p of planDispatch([job('x', { priority: 3 }), job('y', { product: 'q' })], fleet, NO_FAIRNESS, T0 + 90_000, weightsFor)) {
      expect(p.score).toEqual(scoreCandidate(p.job, p.factory, NO_FAIRNESS, T0 + 90_000, DEFAULT_WEIGHTS));
    }
  });
});

describe('preemption victim', () => {
  const runningJob = (id: string, priority: number, startedAt: number, extra: Partial<JobRecord> = {}) => ({ ...job(id, { priority }), stage: 'running' as const, startedAt, ...extra });
  it('takes the lowest priority, then the least work lost, and never an equal or higher priority', () => {
    const f = factory('f', {}, 0, 3);
    const waiting = job('urgent', { priority: 10 });
    const victim = selectPreemptionVictim(
      waiting,
      [
        { job: runningJob('old-low', 1, T0), factory: f },
        { job: runningJob('new-low', 1, T0 + 5_000), factory: f },
        { job: runningJob('lower-but-equal', 10, T0 + 9_000), factory: f },
        { job: runningJob('mid', 5, T0 + 9_000), factory: f },
      ],
      T0 + 10_000,
    );
    expect(victim?.job.id).toBe('new-low');
    expect(selectPreemptionVictim(job('w', { priority: 1 }), [{ job: runningJob('v', 1, T0), factory: f }], T0)).toBeNull();
  });

  it('protects a job preempted twice in a row, and ignores factories the waiting job cannot use', () => {
    const waiting = job('urgent', { priority: 10, labels: [{ key: 'gpu', operator: 'exists', values: [] }] });
    const gpu = factory('gpu', { gpu: '1' }, 0);
    const cpu = factory('cpu', {}, 0);
    const thrashed = runningJob('thrashed', 0, T0, { preemptionStreak: 2, lastPreemptedAt: T0 });
    expect(selectPreemptionVictim(waiting, [{ job: thrashed, factory: gpu }, { job: runningJob('on-cpu', 0, T0), factory: cpu }], T0 + 1_000)).toBeNull();
    expect(selectPreemptionVictim(waiting, [{ job: thrashed, factory: gpu }], T0 + 11 * 60_000)?.job.id).toBe('thrashed');
  });
});

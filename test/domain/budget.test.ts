/**
 * Budget rules: UTC period boundaries, the state and the reason queued jobs show, the dispatch check
 * (paused, exhausted, an estimate that does not fit), a pass never placing beyond the budget, the
 * wall-clock count and stop, the burndown, and bad input refused naming the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BudgetGate,
  budgetState,
  burndown,
  defaultBudgetConfig,
  dispatchRefusal,
  pause,
  periodBounds,
  resume,
  runningTimeMs,
  setLimits,
  spendOf,
  validateCost,
  wallClockOverrun,
  type BudgetConfig,
  type BudgetPeriod,
  type BudgetStanding,
  type SpendRecord,
} from '../../src/domain/budget.js';
import type { JobRecord } from '../../src/domain/job.js';
import { accept, complete, expire, offer, preempted, requeue, stopForBudget } from '../../src/domain/lifecycle.js';
import { DEFAULT_WEIGHTS, planDispatch, type FactoryCandidate } from '../../src/domain/scheduler.js';
import { expectCode, queued, RETRY, running, T0, TIMINGS } from './helpers.js';

const config = (over: Partial<BudgetConfig> = {}): BudgetConfig => ({ ...defaultBudgetConfig(), ...over });
const standing = (over: Partial<BudgetStanding> = {}, cfg: Partial<BudgetConfig> = {}): BudgetStanding => ({ productId: 'acme', config: config(cfg), spent: 0, reserved: 0, ...over });

describe('periodBounds', () => {
  it('gives calendar periods in UTC: day, ISO week from Monday, month', () => {
    const at = Date.UTC(2026, 10, 25, 23, 59, 59, 999); // Wednesday 25 November 2026
    expect(periodBounds('day', at)).toEqual({ start: Date.UTC(2026, 10, 25), end: Date.UTC(2026, 10, 26) });
    expect(periodBounds('week', at)).toEqual({ start: Date.UTC(2026, 10, 23), end: Date.UTC(2026, 10, 30) });
    expect(periodBounds('month', at)).toEqual({ start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) });
    expect(periodBounds('month', Date.UTC(2026, 11, 31, 12))).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
    expect(periodBounds('week', Date.UTC(2026, 10, 29, 12)).start).toBe(Date.UTC(2026, 10, 23)); // Sunday belongs to the week before
  });

  it('always contains the instant, and the next period starts where this one ends', () => {
    const periods: BudgetPeriod[] = ['day', 'week', 'month'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom(...periods), (now, period) => {
        const { start, end } = periodBounds(period, now);
        expect(start).toBeLessThanOrEqual(now);
        expect(now).toBeLessThan(end);
        expect(periodBounds(period, end).start).toBe(end);
        expect(periodBounds(period, start)).toEqual({ start, end });
      }),
    );
  });
});

describe('state and dispatch', () => {
  it('a product without limits is OK and every job may run', () => {
    expect(budgetState(standing({ spent: 1e6 }))).toEqual({ state: 'ok', reason: '' });
    expect(dispatchRefusal(standing({ spent: 1e6 }), 50)).toBeNull();
  });

  it('paused wins over everything, with the reason operators gave', () => {
    const s = standing({}, { paused: true, pauseReason: 'cost review', pausedBy: 'alice' });
    expect(budgetState(s)).toEqual({ state: 'paused', reason: 'product acme is paused: cost review' });
    expect(dispatchRefusal(s, 0)).toBe('product acme is paused: cost review');
    expect(budgetState(standing({}, { paused: true, pausedBy: 'alice' })).reason).toBe('product acme is paused by alice');
  });

  it('is exhausted once spent plus reserved reaches the limit', () => {
    expect(budgetState(standing({ spent: 99.5 }, { costLimit: 100 })).state).toBe('ok');
    expect(budgetState(standing({ spent: 101.5 }, { costLimit: 100 }))).toEqual({ state: 'exhausted', reason: 'budget exhausted: 101.5 of 100 spent this day' });
    expect(budgetState(standing({ spent: 90, reserved: 10 }, { costLimit: 100, period: 'week' })).reason).toBe(
      'budget exhausted: 90 (+10 reserved by running jobs) of 100 spent this week',
    );
  });

  it('refuses a job whose estimate does not fit what is left, and takes one that fits exactly', () => {
    const s = standing({ spent: 60, reserved: 30 }, { costLimit: 100 });
    expect(dispatchRefusal(s, 10)).toBeNull();
    expect(dispatchRefusal(s, 10.5)).toBe('budget: estimated cost 10.5 does not fit the 10 left of 100 this day');
  });

  it('one pass never reserves more than the limit: each placement counts against the rest', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.array(fc.double({ min: 0.5, max: 30, noNaN: true }), { minLength: 1, maxLength: 12 }),
        (limit, spentRaw, estimates) => {
          const spent = Math.min(spentRaw, limit);
          const jobs = estimates.map((e, i) => ({ ...queued({ estimatedCost: e }), id: `j${i}` }));
          const gate = new BudgetGate(() => standing({ spent }, { costLimit: limit }));
          const factories: FactoryCandidate[] = [{ factoryId: 'f', labels: {}, slots: 20, freeSlots: 20, draining: false, recentProducts: [] }];
          const plan = planDispatch(jobs, factories, { runningByProduct: new Map(), demandWeights: new Map() }, T0, () => DEFAULT_WEIGHTS, gate);
          const reserved = plan.reduce((n, p) => n + (p.job.estimatedCost ?? 0), 0);
          expect(spent + reserved).toBeLessThanOrEqual(limit + 1e-9);
        },
      ),
    );
  });

  it('a paused product gets no placement at all, and others still do', () => {
    const jobs = [{ ...queued({ productId: 'acme' }), id: 'a' }, { ...queued({ productId: 'other' }), id: 'b' }];
    const gate = new BudgetGate((p) => (p === 'acme' ? standing({}, { paused: true }) : null));
    const factories: FactoryCandidate[] = [{ factoryId: 'f', labels: {}, slots: 4, freeSlots: 4, draining: false, recentProducts: [] }];
    const plan = planDispatch(jobs, factories, { runningByProduct: new Map(), demandWeights: new Map() }, T0, () => DEFAULT_WEIGHTS, gate);
    expect(plan.map((p) => p.job.id)).toEqual(['b']);
  });
});

describe('configuration changes', () => {
  it('refuses negative, non-finite and absurd limits naming the field', () => {
    expect(expectCode(() => setLimits(config(), { costLimit: -1, period: 'day', jobWallClockLimitMs: null }), 'invalid_argument').message).toBe('cost_limit -1 must not be negative');
    expect(expectCode(() => setLimits(config(), { costLimit: Number.NaN, period: 'day', jobWallClockLimitMs: null }), 'invalid_argument').message).toBe('cost_limit NaN must be a finite number');
    expect(expectCode(() => setLimits(config(), { costLimit: Infinity, period: 'day', jobWallClockLimitMs: null }), 'invalid_argument').message).toContain('finite');
    expect(expectCode(() => setLimits(config(), { costLimit: 1e13, period: 'day', jobWallClockLimitMs: null }), 'invalid_argument').message).toContain('above the maximum');
    expect(expectCode(() => setLimits(config(), { costLimit: 1, period: 'day', jobWallClockLimitMs: -5_000 }), 'invalid_argument').message).toBe('job_wall_clock_limit -5s must not be negative');
    expect(expectCode(() => setLimits(config(), { costLimit: 1, period: 'day', jobWallClockLimitMs: 500 }), 'invalid_argument').message).toBe(
      'job_wall_clock_limit 0.5s must be from 1s to 30 days (unset means no limit)',
    );
    expect(expectCode(() => validateCost(-0.01, 'estimated_cost'), 'invalid_argument').message).toBe('estimated_cost -0.01 must not be negative');
  });

  it('setting limits keeps the pause; pause and resume are idempotent and keep who paused first', () => {
    const paused = pause(config(), 'alice', 'review', T0);
    expect(setLimits(paused, { costLimit: 5, period: 'week', jobWallClockLimitMs: 60_000 })).toMatchObject({ paused: true, pausedBy: 'alice', costLimit: 5, period: 'week', jobWallClockLimitMs: 60_000 });
    expect(pause(paused, 'bob', '', T0 + 1)).toBe(paused);
    expect(pause(paused, 'bob', 'still reviewing', T0 + 1)).toMatchObject({ pausedBy: 'alice', pausedAt: T0, pauseReason: 'still reviewing' });
    const resumed = resume(paused);
    expect(resumed).toMatchObject({ paused: false, pauseReason: '', pausedBy: '', pausedAt: null });
    expect(resume(resumed)).toBe(resumed);
    expect(expectCode(() => pause(config(), 'a', 'x'.repeat(501), T0), 'invalid_argument').message).toBe('reason is 501 characters; at most 500 are allowed');
  });
});

describe('spend on the job', () => {
  it('is recorded with the result, on the attempt and the job, and a spend record comes out of it', () => {
    const job = running('f1', { estimatedCost: 2 });
    const done = complete(job, 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: '', cost: 1.25 }, T0 + 5_000, RETRY, 0).job;
    expect(done.cost).toBe(1.25);
    expect(done.attempts[0]!.cost).toBe(1.25);
    expect(spendOf(done)).toEqual([{ jobId: done.id, productId: 'prod-a', title: 'build', epoch: 1, cost: 1.25, at: T0 + 5_000 }]);
  });

  it('adds up over attempts, and an attempt without a cost adds nothing', () => {
    const first = complete(running(), 'f1', 1, { outcome: 'failed', exitCode: 1, message: '', cost: 1 }, T0 + 10, RETRY, 0).job;
    const again = accept(offer({ ...first, notBefore: T0 }, 'f1', T0 + 2_000_000, TIMINGS).job, 'f1', 2, T0 + 2_000_000, TIMINGS).job;
    const second = complete(again, 'f1', 2, { outcome: 'succeeded', exitCode: 0, message: '', cost: 0.5 }, T0 + 2_000_010, RETRY, 0).job;
    expect(second.cost).toBe(1.5);
    expect(spendOf(second).map((r) => r.cost)).toEqual([1, 0.5]);
    const free = complete(running(), 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: '' }, T0 + 10, RETRY, 0).job;
    expect(free.cost).toBeUndefined();
    expect(spendOf(free)).toEqual([]);
  });
});

describe('wall-clock budget', () => {
  it('counts running time over the attempts since submit or requeue', () => {
    const first = expire(running(), T0 + 20_000, RETRY, 0, 'lost').job; // ran 20 s
    const again = accept(offer({ ...first, notBefore: T0 }, 'f1', T0 + 30_000, TIMINGS).job, 'f1', 2, T0 + 30_000, TIMINGS).job;
    expect(runningTimeMs(again, T0 + 45_000)).toBe(35_000);
    expect(wallClockOverrun(again, 40_000, T0 + 45_000)).toBeNull();
    expect(wallClockOverrun(again, 30_000, T0 + 45_000)).toBe('wall-clock budget 30s exceeded (ran 35s)');
    expect(wallClockOverrun(again, null, T0 + 45_000)).toBeNull();
    const failed = complete(again, 'f1', 2, { outcome: 'failed', exitCode: 1, message: '' }, T0 + 50_000, RETRY, 0).job;
    const back = requeue({ ...failed, stage: 'failed' }, T0 + 60_000, 'alice', '').job;
    expect(runningTimeMs(back, T0 + 70_000)).toBe(0);
  });

  it('a stop asks the factory to cancel, then ends the job failed with the reason, without a retry', () => {
    const job = running('f1', { maxAttempts: 3 });
    const stop = stopForBudget(job, T0 + 31_000, 'wall-clock budget 30s exceeded (ran 31s)')!;
    expect(stop.event).toMatchObject({ kind: 'cancel_requested', actor: 'budget', message: 'wall-clock budget 30s exceeded (ran 31s)' });
    expect(stopForBudget(stop.job, T0 + 32_000, 'again')).toBeNull();
    const ended = complete(stop.job, 'f1', 1, { outcome: 'cancelled', exitCode: -15, message: 'stopped' }, T0 + 32_000, RETRY, 0).job;
    expect(ended).toMatchObject({ stage: 'failed', reason: 'wall-clock budget 30s exceeded (ran 31s)' });
    expect(preempted(stop.job, 'f1', 1, T0 + 33_000, '').job).toMatchObject({ stage: 'failed', reason: 'wall-clock budget 30s exceeded (ran 31s)' });
    const lost = expire(stop.job, T0 + 99_000, RETRY, 0, 'silent').job;
    expect(lost).toMatchObject({ stage: 'failed', reason: 'wall-clock budget 30s exceeded (ran 31s)' });
    const back = requeue(ended, T0 + 40_000, 'alice', '').job;
    expect(back.budgetStopReason).toBeUndefined();
    expect(JSON.parse(JSON.stringify(back))).not.toHaveProperty('budgetStopReason');
  });

  it('only a running job can be stopped', () => {
    expectCode(() => stopForBudget(queued(), T0, 'x'), 'failed_precondition');
  });
});

describe('burndown', () => {
  const day = (d: number, h = 12): number => Date.UTC(2026, 10, d, h);
  const rec = (jobId: string, at: number, cost: number, epoch = 1): SpendRecord => ({ jobId, productId: 'acme', title: `t-${jobId}`, epoch, cost, at });

  it('lists every day from the start through today, zeros included, and jobs largest first', () => {
    const { start, end } = periodBounds('week', day(25));
    const chart = burndown([rec('a', day(23), 2), rec('b', day(25), 5), rec('a', day(25, 13), 1, 2), rec('old', day(20), 100)], start, end, day(25, 18));
    expect(chart.spent).toBe(8);
    expect(chart.daily).toEqual([
      { date: '2026-11-23', cost: 2, jobCount: 1 },
      { date: '2026-11-24', cost: 0, jobCount: 0 },
      { date: '2026-11-25', cost: 6, jobCount: 2 },
    ]);
    expect(chart.jobs).toEqual([
      { jobId: 'b', title: 't-b', cost: 5 },
      { jobId: 'a', title: 't-a', cost: 3 },
    ]);
  });

  it('the days add up to the spend, which adds up to the jobs', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ job: fc.constantFrom('a', 'b', 'c'), at: fc.integer({ min: day(1, 0), max: day(30, 23) }), cost: fc.integer({ min: 1, max: 1000 }) })), (rows) => {
        const { start, end } = periodBounds('month', day(15));
        const chart = burndown(rows.map((r, i) => rec(r.job, r.at, r.cost, i)), start, end, day(30, 23));
        const sum = (xs: { cost: number }[]): number => xs.reduce((n, x) => n + x.cost, 0);
        expect(sum(chart.daily)).toBe(chart.spent);
        expect(sum(chart.jobs)).toBe(chart.spent);
        expect(chart.daily).toHaveLength(30);
      }),
    );
  });
});

/** Keeps the job type honest: a record copied through JSON (as every store does) keeps its spend. */
it('spend survives a JSON round trip', () => {
  const done: JobRecord = complete(running(), 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: '', cost: 3 }, T0 + 1, RETRY, 0).job;
  expect(spendOf(JSON.parse(JSON.stringify(done)) as JobRecord)).toEqual(spendOf(done));
});

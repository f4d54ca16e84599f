/** meterCost: a running attempt's reported total, fenced by holder and epoch, stopping at the ceiling. */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { spendOf } from '../../src/domain/budget.js';
import { accept, complete, meterCost, newJob, offer } from '../../src/domain/lifecycle.js';
import { RETRY, spec, T0, TIMINGS } from './helpers.js';

function running(costCeiling?: number) {
  const { job } = newJob(spec(costCeiling === undefined ? {} : { costCeiling }), 'job-1', T0, 'test');
  return accept(offer(job, 'f1', T0, TIMINGS).job, 'f1', 1, T0, TIMINGS).job;
}

describe('meterCost', () => {
  it("moves the attempt's and the job's cost, counts as spend now, and ignores a total that did not grow", () => {
    const first = meterCost(running(), 'f1', 1, 1.5, T0 + 1_000)!;
    expect(first.event).toBeNull();
    expect(first.job).toMatchObject({ cost: 1.5, stage: 'running' });
    expect(spendOf(first.job)).toEqual([expect.objectContaining({ epoch: 1, cost: 1.5, at: T0 + 1_000 })]);
    expect(meterCost(first.job, 'f1', 1, 1.5, T0 + 2_000)).toBeNull();
    expect(meterCost(first.job, 'f1', 1, 1.0, T0 + 2_000)).toBeNull();
    // The result's total replaces the metered one: counted once.
    const done = complete(first.job, 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: 'ok', cost: 2 }, T0 + 3_000, RETRY, 0.5);
    expect(done.job.cost).toBe(2);
  });

  it('refuses a report from a factory or an epoch that does not hold the lease', () => {
    const job = running();
    expect(() => meterCost(job, 'f2', 1, 1, T0)).toThrow(DomainError);
    expect(() => meterCost(job, 'f1', 2, 1, T0)).toThrow(DomainError);
  });

  it('stops the attempt at its ceiling with the reason, once', () => {
    const below = meterCost(running(5), 'f1', 1, 4.99, T0 + 1_000)!;
    expect(below.job.cancelRequestedAt).toBeNull();
    const stopped = meterCost(below.job, 'f1', 1, 5.02, T0 + 2_000)!;
    expect(stopped.job).toMatchObject({ budgetStopReason: 'cost ceiling 5.00 reached at 5.02', reason: 'cost ceiling 5.00 reached at 5.02', cancelRequestedAt: T0 + 2_000, cost: 5.02 });
    expect(stopped.event?.kind).toBe('cancel_requested');
    const later = meterCost(stopped.job, 'f1', 1, 6, T0 + 3_000)!;
    expect(later.event).toBeNull(); // still metered, not stopped twice
    expect(later.job.budgetStopReason).toBe('cost ceiling 5.00 reached at 5.02');
  });
});

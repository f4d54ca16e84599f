/** The burndown numbers of the budgets page (src/web/app/budget-model.ts), run in Node. */
import { describe, expect, it } from 'vitest';
import { burndown, utcDate } from '../../src/web/app/budget-model.js';

const at = (iso: string): number => Date.parse(iso);

describe('burndown', () => {
  const weekStart = at('2026-11-23T00:00:00Z'); // a Monday
  const weekEnd = at('2026-11-30T00:00:00Z');

  it('has a day for every day of the period, with spend so far and nothing for days to come', () => {
    const data = burndown(weekStart, weekEnd, [
      { date: '2026-11-23', cost: 10, jobCount: 2 },
      { date: '2026-11-25', cost: 5.5, jobCount: 1 },
    ], 100, at('2026-11-25T12:00:00Z'));
    expect(data.days.map((d) => d.date)).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29']);
    expect(data.days.map((d) => d.cost)).toEqual([10, 0, 5.5, null, null, null, null]);
    expect(data.days.map((d) => d.remaining)).toEqual([90, 90, 84.5, null, null, null, null]);
    expect(data.spent).toBe(15.5);
    expect(data.top).toBe(100);
  });

  it('never shows less than nothing left, and scales to spend beyond the limit', () => {
    const data = burndown(weekStart, weekEnd, [{ date: '2026-11-23', cost: 130, jobCount: 4 }], 100, at('2026-11-23T08:00:00Z'));
    expect(data.days[0]).toMatchObject({ cumulative: 130, remaining: 0 });
    expect(data.top).toBe(130);
  });

  it('without a limit, follows the total and scales to it', () => {
    const day = at('2026-11-25T00:00:00Z');
    const data = burndown(day, day + 86_400_000, [{ date: '2026-11-25', cost: 3, jobCount: 1 }], 0, day + 3_600_000);
    expect(data.days).toEqual([{ date: '2026-11-25', cost: 3, jobCount: 1, cumulative: 3, remaining: 0 }]);
    expect(data.top).toBe(3);
  });

  it('ignores days outside the period and still has a scale with no spend at all', () => {
    const data = burndown(weekStart, weekEnd, [{ date: '2026-11-01', cost: 50, jobCount: 1 }], 0, at('2026-11-24T00:00:00Z'));
    expect(data.spent).toBe(0);
    expect(data.top).toBe(1);
  });

  it('names days in UTC', () => {
    expect(utcDate(at('2026-11-25T23:59:59Z'))).toBe('2026-11-25');
  });
});

/**
 * The numbers behind a product's burndown chart, from a Budget (AdminService.GetBudget/ListBudgets):
 * one entry per UTC day of the current period (days still to come included, empty), the spend of
 * each day, the running total, and what is left of the limit after each day. Pure, so it is tested
 * in Node.
 */
import type { BudgetDay } from '../../../gen/ts/gigafactory/fleet/v1/budget_pb.js';

const DAY_MS = 86_400_000;

export interface BurndownDay {
  /** "YYYY-MM-DD" (UTC). */
  date: string;
  /** Spend that day; null for a day that has not come yet. */
  cost: number | null;
  jobCount: number;
  /** Spend from the start of the period to the end of this day; null for days to come. */
  cumulative: number | null;
  /** The limit minus `cumulative` (0 when there is no limit); null for days to come. */
  remaining: number | null;
}

export interface Burndown {
  days: BurndownDay[];
  limit: number;
  spent: number;
  /** The largest value the chart's y axis must show. */
  top: number;
}

export function utcDate(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * `start` and `end` bound the period (ms); `daily` is the coordinator's per-day spend. Days the
 * coordinator reports outside the period are ignored; days it leaves out count as no spend.
 */
export function burndown(start: number, end: number, daily: readonly Pick<BudgetDay, 'date' | 'cost' | 'jobCount'>[], limit: number, now: number): Burndown {
  const byDate = new Map(daily.map((d) => [d.date, d]));
  const today = utcDate(now);
  const days: BurndownDay[] = [];
  let cumulative = 0;
  for (let at = Date.UTC(...utcParts(start)); at < end && days.length < 62; at += DAY_MS) {
    const date = utcDate(at);
    if (date > today) {
      days.push({ date, cost: null, jobCount: 0, cumulative: null, remaining: null });
      continue;
    }
    const day = byDate.get(date);
    cumulative += day?.cost ?? 0;
    days.push({ date, cost: day?.cost ?? 0, jobCount: day?.jobCount ?? 0, cumulative, remaining: limit > 0 ? Math.max(0, limit - cumulative) : 0 });
  }
  const biggestDay = Math.max(0, ...days.map((d) => d.cost ?? 0));
  return { days, limit, spent: cumulative, top: Math.max(limit, cumulative, biggestDay) || 1 };
}

function utcParts(at: number): [number, number, number] {
  const d = new Date(at);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}

/**
 * Budgets per product: a cost limit per calendar period (UTC), a wall-clock limit per job, and an
 * operator's pause. Pure rules: where a period starts and ends, whether a product's jobs may be
 * dispatched and why not, how much running time a job has used, and the burndown (spend per day and
 * per job) drawn from the spend records the store keeps. The coordinator supplies the numbers.
 */
import { invalidArgument } from './errors.js';
import type { JobRecord } from './job.js';

export const BUDGET_PERIODS = ['day', 'week', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

export type BudgetState = 'ok' | 'paused' | 'exhausted';

/** What an operator configures for a product (stored with its settings). */
export interface BudgetConfig {
  /** Cost allowed per period; 0 = no cost limit. */
  costLimit: number;
  period: BudgetPeriod;
  /** Total running time allowed per job (over its attempts since submit or requeue); null = none. */
  jobWallClockLimitMs: number | null;
  paused: boolean;
  pauseReason: string;
  pausedBy: string;
  pausedAt: number | null;
  /** The cost ceiling of a job submitted without one; absent or 0: none. */
  jobCostCeiling?: number;
  /** Reaching the cost limit stops the product's running jobs (absent or false: they finish). */
  stopRunningWhenExhausted?: boolean;
}

export function defaultBudgetConfig(): BudgetConfig {
  return { costLimit: 0, period: 'day', jobWallClockLimitMs: null, paused: false, pauseReason: '', pausedBy: '', pausedAt: null };
}

/** Whether the configuration restricts anything (a product without one needs no checks). */
export function restricts(config: BudgetConfig): boolean {
  return config.costLimit > 0 || config.jobWallClockLimitMs !== null || config.paused;
}

/** The most a cost limit, an estimate or a reported cost may be: far above any real bill, below float trouble. */
export const MAX_COST = 1e12;
/** The longest wall-clock limit: 30 days. */
export const MAX_WALL_CLOCK_MS = 30 * 24 * 3_600_000;

/** Throws INVALID_ARGUMENT naming `field` unless `value` is a finite cost from 0 to MAX_COST. */
export function validateCost(value: number, field: string): number {
  if (!Number.isFinite(value)) throw invalidArgument(`${field} ${value} must be a finite number`);
  if (value < 0) throw invalidArgument(`${field} ${value} must not be negative`);
  if (value > MAX_COST) throw invalidArgument(`${field} ${value} is above the maximum of ${MAX_COST}`);
  return value;
}

/** Throws INVALID_ARGUMENT unless a wall-clock limit (null: none) is from 1 s to 30 days. */
export function validateWallClockLimit(ms: number | null, field: string): number | null {
  if (ms === null) return null;
  if (ms < 0) throw invalidArgument(`${field} ${formatDuration(ms)} must not be negative`);
  if (!Number.isFinite(ms) || ms < 1_000 || ms > MAX_WALL_CLOCK_MS) {
    throw invalidArgument(`${field} ${formatDuration(ms)} must be from 1s to 30 days (unset means no limit)`);
  }
  return ms;
}

/** The longest pause reason kept. */
export const MAX_PAUSE_REASON = 500;

/** The configuration after SetBudget: new limits, the pause left as it is. */
export interface BudgetLimits {
  costLimit: number;
  period: BudgetPeriod;
  jobWallClockLimitMs: number | null;
  jobCostCeiling?: number;
  stopRunningWhenExhausted?: boolean;
}

export function setLimits(current: BudgetConfig, limits: BudgetLimits): BudgetConfig {
  const ceiling = validateCost(limits.jobCostCeiling ?? 0, 'job_cost_ceiling');
  const { jobCostCeiling: _ceiling, stopRunningWhenExhausted: _stop, ...rest } = current;
  return {
    ...rest,
    costLimit: validateCost(limits.costLimit, 'cost_limit'),
    period: limits.period,
    jobWallClockLimitMs: validateWallClockLimit(limits.jobWallClockLimitMs, 'job_wall_clock_limit'),
    ...(ceiling > 0 ? { jobCostCeiling: ceiling } : {}),
    ...(limits.stopRunningWhenExhausted ? { stopRunningWhenExhausted: true } : {}),
  };
}

/** Why the product's running jobs must stop now (its cost limit reached, and it says to stop them), or null. */
export function exhaustedStop(s: BudgetStanding): string | null {
  if (!s.config.stopRunningWhenExhausted || s.config.costLimit <= 0 || s.spent < s.config.costLimit) return null;
  return `budget exhausted: ${money(s.spent)} of ${money(s.config.costLimit)} spent this ${s.config.period}`;
}

/** Pausing again keeps the first pause's time and actor (idempotent), with the newest reason if given. */
export function pause(current: BudgetConfig, actor: string, reason: string, now: number): BudgetConfig {
  const why = reason.trim();
  if (why.length > MAX_PAUSE_REASON) throw invalidArgument(`reason is ${why.length} characters; at most ${MAX_PAUSE_REASON} are allowed`);
  if (current.paused) return why && why !== current.pauseReason ? { ...current, pauseReason: why } : current;
  return { ...current, paused: true, pauseReason: why, pausedBy: actor, pausedAt: now };
}

export function resume(current: BudgetConfig): BudgetConfig {
  return current.paused ? { ...current, paused: false, pauseReason: '', pausedBy: '', pausedAt: null } : current;
}

/** The calendar period containing `now`, in UTC: [start, end). Weeks start on Monday (ISO). */
export function periodBounds(period: BudgetPeriod, now: number): { start: number; end: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (period) {
    case 'day':
      return { start: Date.UTC(y, m, day), end: Date.UTC(y, m, day + 1) };
    case 'week': {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      return { start: Date.UTC(y, m, day - sinceMonday), end: Date.UTC(y, m, day - sinceMonday + 7) };
    }
    case 'month':
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
}

/** A product's budget with the numbers that decide its state. */
export interface BudgetStanding {
  productId: string;
  config: BudgetConfig;
  /** Cost recorded in the current period. */
  spent: number;
  /** Estimated cost of the product's jobs holding leases now. */
  reserved: number;
}

/** OK, paused or exhausted, with the sentence queued jobs show as their reason (empty when OK). */
export function budgetState(s: BudgetStanding): { state: BudgetState; reason: string } {
  if (s.config.paused) {
    const why = s.config.pauseReason ? `: ${s.config.pauseReason}` : s.config.pausedBy ? ` by ${s.config.pausedBy}` : '';
    return { state: 'paused', reason: `product ${s.productId} is paused${why}` };
  }
  const { costLimit, period } = s.config;
  if (costLimit > 0 && s.spent + s.reserved >= costLimit) {
    const reserved = s.reserved > 0 ? ` (+${money(s.reserved)} reserved by running jobs)` : '';
    return { state: 'exhausted', reason: `budget exhausted: ${money(s.spent)}${reserved} of ${money(costLimit)} spent this ${period}` };
  }
  return { state: 'ok', reason: '' };
}

/**
 * Why a job with this estimate may not be dispatched now, or null when it may: the product is
 * paused or exhausted, or the estimate does not fit what is left. The spend can overshoot the limit
 * by what the jobs already running report beyond their estimates; never by a job started after the
 * limit was reached.
 */
export function dispatchRefusal(s: BudgetStanding, estimate: number): string | null {
  const { state, reason } = budgetState(s);
  if (state !== 'ok') return reason;
  const { costLimit, period } = s.config;
  if (costLimit > 0 && s.spent + s.reserved + estimate > costLimit) {
    const left = costLimit - s.spent - s.reserved;
    return `budget: estimated cost ${money(estimate)} does not fit the ${money(left)} left of ${money(costLimit)} this ${period}`;
  }
  return null;
}

/**
 * The budget check of one dispatch pass: standings are read once, and each placement adds its job's
 * estimate to its product's reservation, so one pass cannot place more than the budget allows.
 */
export class BudgetGate {
  readonly #extra = new Map<string, number>();
  /** Each product's standing, read once per pass. */
  readonly #standings = new Map<string, BudgetStanding | null>();

  constructor(private readonly standingOf: (productId: string) => BudgetStanding | null) {}

  /** Why `job` may not be placed now, or null. */
  refusal(job: JobRecord): string | null {
    let standing = this.#standings.get(job.productId);
    if (standing === undefined) {
      standing = this.standingOf(job.productId);
      this.#standings.set(job.productId, standing);
    }
    if (!standing) return null;
    const reserved = standing.reserved + (this.#extra.get(job.productId) ?? 0);
    return dispatchRefusal({ ...standing, reserved }, job.estimatedCost ?? 0);
  }

  /** Records a placement made in this pass. */
  reserve(job: JobRecord): void {
    this.#extra.set(job.productId, (this.#extra.get(job.productId) ?? 0) + (job.estimatedCost ?? 0));
  }
}

/**
 * Running time that counts against a job's wall-clock budget: every attempt started since the job
 * was submitted or last requeued, from start to end (to `now` while it runs). Offers that were
 * never accepted do not count.
 */
export function runningTimeMs(job: JobRecord, now: number): number {
  const since = job.requeuedAt ?? 0;
  let total = 0;
  for (const a of job.attempts) {
    if (a.startedAt === null || a.startedAt < since) continue;
    total += Math.max(0, (a.endedAt ?? now) - a.startedAt);
  }
  return total;
}

/** The reason a running job is stopped when it used up its wall-clock budget, or null while within. */
export function wallClockOverrun(job: JobRecord, limitMs: number | null, now: number): string | null {
  if (limitMs === null || job.stage !== 'running') return null;
  const used = runningTimeMs(job, now);
  return used > limitMs ? `wall-clock budget ${formatDuration(limitMs)} exceeded (ran ${formatDuration(used)})` : null;
}

/** One attempt's recorded cost: what the burndown and the period's spend are summed from. */
export interface SpendRecord {
  jobId: string;
  productId: string;
  title: string;
  epoch: number;
  cost: number;
  /** When the attempt's result was accepted. */
  at: number;
}

/** The spend records a job carries: each ended attempt that reported a cost above 0. */
export function spendOf(job: JobRecord): SpendRecord[] {
  const out: SpendRecord[] = [];
  for (const a of job.attempts) {
    // A running attempt's spend so far counts at its latest report (lifecycle.ts meterCost).
    const at = a.endedAt ?? a.costAt;
    if (a.cost && a.cost > 0 && at !== undefined) {
      out.push({ jobId: job.id, productId: job.productId, title: job.title, epoch: a.epoch, cost: a.cost, at });
    }
  }
  return out;
}

/** The order every store returns spend records in: time, then job id (code units), then epoch. */
export function spendOrder(a: SpendRecord, b: SpendRecord): number {
  return a.at - b.at || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0) || a.epoch - b.epoch;
}

export interface DailySpend {
  /** YYYY-MM-DD, UTC. */
  date: string;
  cost: number;
  jobCount: number;
}

export interface JobSpend {
  jobId: string;
  title: string;
  cost: number;
}

export interface Burndown {
  spent: number;
  /** Every UTC day from the period's start through the day of `now` (or the period's last day). */
  daily: DailySpend[];
  /** Per job, largest first (then by id). */
  jobs: JobSpend[];
}

const DAY_MS = 86_400_000;

/** Sums the records that fall in [start, end) into the period's spend, per day and per job. */
export function burndown(records: readonly SpendRecord[], start: number, end: number, now: number): Burndown {
  const daily: DailySpend[] = [];
  const last = Math.min(end - 1, Math.max(start, now));
  for (let t = start; t <= last; t += DAY_MS) daily.push({ date: utcDate(t), cost: 0, jobCount: 0 });
  const byDate = new Map(daily.map((d) => [d.date, d]));
  const byJob = new Map<string, JobSpend>();
  let spent = 0;
  for (const r of records) {
    if (r.at < start || r.at >= end) continue;
    spent += r.cost;
    const day = byDate.get(utcDate(r.at));
    if (day) {
      day.cost += r.cost;
      day.jobCount++;
    }
    const job = byJob.get(r.jobId) ?? { jobId: r.jobId, title: r.title, cost: 0 };
    job.cost += r.cost;
    byJob.set(r.jobId, job);
  }
  const jobs = [...byJob.values()].sort((a, b) => b.cost - a.cost || a.jobId.localeCompare(b.jobId));
  return { spent, daily, jobs };
}

export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "30s", "1m30s", "2h", as operators write durations. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  const parts = [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${Number(s.toFixed(3))}s` : ''];
  return sign + parts.join('');
}

/** Costs as operators read them: at most 4 decimals, no float noise. */
export function money(n: number): string {
  return String(Math.round(n * 10_000) / 10_000);
}

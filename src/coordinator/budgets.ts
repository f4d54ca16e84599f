/**
 * Budgets as the coordinator keeps them: configuration beside the product's settings (Scheduling
 * holds them; SetBudget, PauseBudget and ResumeBudget are compare-and-set writes of that record),
 * and a running total of each limited product's spend in its current period for the dispatch check.
 *
 * The running total is keyed by (job, epoch), so the two ways it learns of spend cannot count one
 * attempt twice: results committed on this coordinator (the job feed), and a periodic read of the
 * store's spend records (every refreshMs), which brings in other replicas' results. Reservations
 * (estimates of jobs holding leases) are this coordinator's own leases. So with several replicas a
 * product can overshoot its limit by what the others started or finished since the last refresh.
 */
import {
  BudgetGate,
  budgetState,
  burndown,
  defaultBudgetConfig,
  dispatchRefusal,
  exhaustedStop,
  periodBounds,
  restricts,
  spendOf,
  wallClockOverrun,
  type BudgetConfig,
  type BudgetStanding,
  type BudgetState,
  type Burndown,
  type SpendRecord,
} from '../domain/budget.js';
import { DomainError } from '../domain/errors.js';
import type { JobRecord, JobSpec } from '../domain/job.js';
import { RevisionConflict, type JobStore } from '../store/job-store.js';
import type { ProductSettings } from '../store/settings-store.js';
import type { Clock } from './clock.js';
import type { JobUpdate } from './job-feed.js';
import type { Scheduling } from './scheduling.js';

/** How often the running totals are re-read from the store (other replicas' spend). */
export const BUDGET_REFRESH_MS = 5_000;
/** GetBudget reads the product's jobs holding leases in pages of this size, at most this many pages. */
const RESERVED_PAGE = 500;
const RESERVED_MAX_PAGES = 20;

/** Everything GetBudget shows for one product. */
export interface BudgetView {
  productId: string;
  config: BudgetConfig;
  state: BudgetState;
  stateReason: string;
  spent: number;
  reserved: number;
  periodStart: number;
  periodEnd: number;
  burndown: Burndown;
  revision: number;
  updatedBy: string;
  updatedAt: number;
}

/** One product's known spend in its current period. */
interface PeriodSpend {
  start: number;
  end: number;
  /** "jobId epoch" → cost. */
  byAttempt: Map<string, number>;
}

export class Budgets {
  private readonly spend = new Map<string, PeriodSpend>();
  private lastRefreshAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: JobStore,
    private readonly scheduling: Scheduling,
    private readonly clock: Clock,
    private readonly refreshMs: number = BUDGET_REFRESH_MS,
  ) {}

  config(productId: string): BudgetConfig {
    return this.scheduling.productSettings(productId).budget ?? defaultBudgetConfig();
  }

  /** The product's standing for the dispatch check, or null when its budget restricts nothing. */
  standing(productId: string, now: number = this.clock.now()): BudgetStanding | null {
    const config = this.config(productId);
    if (!restricts(config)) return null;
    return { productId, config, spent: this.spentNow(productId, config, now), reserved: this.scheduling.reservedFor(productId) };
  }

  /** A fresh gate for one dispatch pass. */
  gate(now: number): BudgetGate {
    return new BudgetGate((productId) => this.standing(productId, now));
  }

  /** The spec with its product's default cost ceiling when it sets none of its own. */
  withDefaultCeiling<S extends JobSpec>(spec: S): S {
    const ceiling = this.config(spec.productId).jobCostCeiling;
    return spec.costCeiling === undefined && ceiling ? { ...spec, costCeiling: ceiling } : spec;
  }

  /** Why the product's running jobs must stop now for its exhausted budget, or null (see exhaustedStop). */
  exhaustedStop(productId: string): string | null {
    const standing = this.standing(productId);
    return standing ? exhaustedStop(standing) : null;
  }

  /** Why a queued job is not dispatched for its budget, or null. */
  refusal(job: JobRecord): string | null {
    const standing = this.standing(job.productId);
    return standing ? dispatchRefusal(standing, job.estimatedCost ?? 0) : null;
  }

  /**
   * The job as a reader should see it: a queued job held back by its product's budget says so in
   * its reason. Computed when read, so pausing a product writes nothing to its queued jobs.
   */
  annotate(job: JobRecord): JobRecord {
    if (job.stage !== 'queued') return job;
    const refusal = this.refusal(job);
    return refusal ? { ...job, reason: refusal } : job;
  }

  /**
   * Changes a product's budget configuration with compare-and-set on its settings record (retrying
   * on top of another replica's change). Nothing is written when `edit` returns the same object.
   */
  async change(productId: string, actor: string, edit: (current: BudgetConfig, now: number) => BudgetConfig): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const settings = this.scheduling.productSettings(productId);
      const current = settings.budget ?? defaultBudgetConfig();
      const now = this.clock.now();
      const next = edit(current, now);
      if (next === current) return; // idempotent pause or resume: nothing to write
      try {
        await this.scheduling.update({ ...settings, budget: next, revision: settings.revision + 1, updatedAt: now, updatedBy: actor });
        this.lastRefreshAt = Number.NEGATIVE_INFINITY; // a new period or limit: re-read the spend before the next check
        return;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
        if (attempt >= 3) throw new DomainError('conflict', `settings of ${productId} changed meanwhile; try again`);
        await this.scheduling.load(); // another replica changed them: reload and apply ours on top
      }
    }
  }

  /** Follows committed changes on this coordinator: an attempt's reported cost counts at once. */
  observe({ job }: JobUpdate): void {
    this.noteSpend(job);
  }

  /** Counts the job's spend as written: ended attempts' costs and running ones' costs so far. */
  noteSpend(job: JobRecord): void {
    if (!job.cost) return;
    for (const record of spendOf(job)) this.remember(record);
  }

  /** Whether refreshIfDue would read the store now: a caller that cannot wait for it holds off. */
  isRefreshDue(): boolean {
    return this.clock.now() - this.lastRefreshAt >= this.refreshMs;
  }

  /** Re-reads the spend of every product with a cost limit, when refreshMs has passed. */
  async refreshIfDue(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastRefreshAt < this.refreshMs) return;
    this.lastRefreshAt = now;
    for (const settings of this.scheduling.configuredProducts()) {
      const config = settings.budget;
      if (!config || config.costLimit <= 0) continue;
      const { start, end } = periodBounds(config.period, now);
      const records = await this.store.listSpend({ productId: settings.productId, from: start, to: end });
      for (const record of records) this.remember(record);
    }
  }

  /**
   * Running jobs held by this coordinator's factories that used up their product's wall-clock
   * budget, with the reason to stop each. Reads a job only when its product has a wall-clock limit.
   */
  async overruns(runningJobIds: Iterable<string>): Promise<{ job: JobRecord; reason: string }[]> {
    const now = this.clock.now();
    const out: { job: JobRecord; reason: string }[] = [];
    for (const jobId of runningJobIds) {
      const productId = this.scheduling.activeProduct(jobId);
      if (productId === undefined) continue;
      const limit = this.config(productId).jobWallClockLimitMs;
      if (limit === null) continue;
      const job = await this.store.getJob(jobId);
      const reason = job && job.budgetStopReason === undefined ? wallClockOverrun(job, limit, now) : null;
      if (job && reason) out.push({ job, reason });
    }
    return out;
  }

  /** GetBudget: configuration, state and burndown, read from the store (every replica's spend). */
  async view(productId: string): Promise<BudgetView> {
    const now = this.clock.now();
    const settings = this.scheduling.productSettings(productId);
    const config = settings.budget ?? defaultBudgetConfig();
    const { start, end } = periodBounds(config.period, now);
    const records = await this.store.listSpend({ productId, from: start, to: end });
    for (const record of records) this.remember(record);
    return this.viewOf(settings, config, records, await this.reservedInStore(productId), start, end, now);
  }

  /** ListBudgets: every product with a budget configured or spend today (or in its period). */
  async list(): Promise<BudgetView[]> {
    const now = this.clock.now();
    const products = new Set(this.scheduling.configuredProducts().filter((s) => s.budget).map((s) => s.productId));
    const today = periodBounds('day', now);
    for (const record of await this.store.listSpend({ from: today.start, to: today.end })) products.add(record.productId);
    const views: BudgetView[] = [];
    for (const productId of [...products].sort()) views.push(await this.view(productId));
    return views;
  }

  private viewOf(settings: ProductSettings, config: BudgetConfig, records: SpendRecord[], reserved: number, start: number, end: number, now: number): BudgetView {
    const chart = burndown(records, start, end, now);
    const { state, reason } = budgetState({ productId: settings.productId, config, spent: chart.spent, reserved });
    return {
      productId: settings.productId,
      config,
      state,
      stateReason: reason,
      spent: chart.spent,
      reserved,
      periodStart: start,
      periodEnd: end,
      burndown: chart,
      revision: settings.revision,
      updatedBy: settings.updatedBy,
      updatedAt: settings.updatedAt,
    };
  }

  /** The estimates of the product's jobs holding leases on any replica (bounded read). */
  private async reservedInStore(productId: string): Promise<number> {
    let reserved = 0;
    let after: { createdAt: number; id: string } | undefined;
    for (let page = 0; page < RESERVED_MAX_PAGES; page++) {
      const result = await this.store.listJobs({ productId, stages: ['leased', 'running'], limit: RESERVED_PAGE, ...(after ? { after } : {}) });
      for (const job of result.jobs) reserved += job.estimatedCost ?? 0;
      if (!result.next) break;
      after = result.next;
    }
    return reserved;
  }

  private spentNow(productId: string, config: BudgetConfig, now: number): number {
    if (config.costLimit <= 0) return 0;
    const period = this.periodSpend(productId, config, now);
    let sum = 0;
    for (const cost of period.byAttempt.values()) sum += cost;
    return sum;
  }

  /** The product's running total for the period containing `now`, started afresh when a new period begins. */
  private periodSpend(productId: string, config: BudgetConfig, now: number): PeriodSpend {
    const { start, end } = periodBounds(config.period, now);
    let period = this.spend.get(productId);
    if (!period || period.start !== start || period.end !== end) {
      period = { start, end, byAttempt: new Map() };
      this.spend.set(productId, period);
    }
    return period;
  }

  private remember(record: SpendRecord): void {
    const current = this.periodSpend(record.productId, this.config(record.productId), this.clock.now());
    if (record.at < current.start || record.at >= current.end) return; // another period's spend
    current.byAttempt.set(`${record.jobId} ${record.epoch}`, record.cost);
  }
}

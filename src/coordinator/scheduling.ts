/**
 * What the dispatcher needs to score and explain placements, kept current cheaply: the weights in
 * effect per product (defaults, product settings, the job's own overrides), running jobs per product
 * for fair share (from the job feed, no store scan), and the products each factory ran recently.
 */
import { DomainError, notFound } from '../domain/errors.js';
import { RevisionConflict } from '../store/job-store.js';
import type { JobRecord } from '../domain/job.js';
import {
  DEFAULT_WEIGHTS,
  explain,
  resolveWeights,
  type Explanation,
  type FactoryCandidate,
  type FairShareState,
  type FilterCheck,
  type SchedulingWeights,
} from '../domain/scheduler.js';
import { armOf, type WeightsArm } from '../domain/weights-experiment.js';
import { defaultProductSettings, type ProductSettings, type SettingsStore } from '../store/settings-store.js';
import type { JobUpdate } from './job-feed.js';

/** How many recent products a factory remembers for affinity. */
const RECENT_PRODUCTS = 4;

export class Scheduling {
  private readonly settings = new Map<string, ProductSettings>();
  /** Jobs leased or running now, by id: fair share's "actual" side, and preemption's floor. */
  private readonly active = new Map<string, { productId: string; priority: number; estimatedCost: number }>();
  private readonly recent = new Map<string, string[]>();

  constructor(
    /** Also where the products' dispatch-rate buckets live (DispatchRates). */
    readonly store: SettingsStore,
    readonly defaults: SchedulingWeights = DEFAULT_WEIGHTS,
  ) {}

  /** Loads every product's settings once at start; later changes go through `update`. */
  async load(): Promise<void> {
    for (const s of await this.store.listProductSettings()) this.settings.set(s.productId, s);
  }

  productSettings(productId: string): ProductSettings {
    return this.settings.get(productId) ?? defaultProductSettings(productId);
  }

  /** Stores new settings with compare-and-set and makes them effective at once. */
  async update(next: ProductSettings): Promise<ProductSettings> {
    await this.store.putProductSettings(next);
    this.settings.set(next.productId, next);
    return next;
  }

  /**
   * Changes a product's settings with compare-and-set: `edit` gets the current settings and returns
   * the next (revision + 1); after another replica's change it is reloaded and asked again.
   */
  async edit(productId: string, edit: (current: ProductSettings) => ProductSettings): Promise<ProductSettings> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.update(edit(this.productSettings(productId)));
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
        if (attempt >= 3) throw new DomainError('conflict', `settings of ${productId} changed meanwhile; try again`);
        await this.load();
      }
    }
  }

  weightsFor(job: JobRecord): SchedulingWeights {
    return this.placementWeights(job).weights;
  }

  /**
   * The weights a placement of `job` uses and its A/B arm: in the candidate arm, the experiment's
   * weights over the product's. The job's own weights win in either arm.
   */
  placementWeights(job: JobRecord): { arm: WeightsArm; weights: SchedulingWeights } {
    const settings = this.productSettings(job.productId);
    const arm = armOf(job.id, settings.experiment);
    const product = arm === 'candidate' ? { ...settings.weights, ...settings.experiment!.weights } : settings.weights;
    return { arm, weights: resolveWeights(this.defaults, product, job.weights ?? null) };
  }

  /** Fair-share inputs for a pass over `runnable`: running counts and the share weights of products with work. */
  fairness(runnable: readonly JobRecord[]): FairShareState {
    const runningByProduct = new Map<string, number>();
    for (const { productId } of this.active.values()) runningByProduct.set(productId, (runningByProduct.get(productId) ?? 0) + 1);
    const demandWeights = new Map<string, number>();
    for (const product of new Set([...runnable.map((j) => j.productId), ...runningByProduct.keys()])) {
      demandWeights.set(product, this.productSettings(product).shareWeight);
    }
    return { runningByProduct, demandWeights };
  }

  /** The lowest priority among jobs holding leases, or null when none do: nothing above it can preempt. */
  lowestActivePriority(): number | null {
    let lowest: number | null = null;
    for (const { priority } of this.active.values()) if (lowest === null || priority < lowest) lowest = priority;
    return lowest;
  }

  /** Budgets: the estimated cost of a product's jobs holding leases on this coordinator. */
  reservedFor(productId: string): number {
    let sum = 0;
    for (const held of this.active.values()) if (held.productId === productId) sum += held.estimatedCost;
    return sum;
  }

  /** The product of a job holding a lease on this coordinator (undefined when none does). */
  activeProduct(jobId: string): string | undefined {
    return this.active.get(jobId)?.productId;
  }

  /** Every product configured in the settings store (as last loaded). */
  configuredProducts(): ProductSettings[] {
    return [...this.settings.values()];
  }

  recentProducts(factoryId: string): string[] {
    return this.recent.get(factoryId) ?? [];
  }

  /** Follows committed changes: which jobs hold leases, and which products each factory ran. */
  observe({ job }: JobUpdate): void {
    this.track(job);
  }

  /** Records a job's current lease state (also for resumed leases, which publish no event). */
  track(job: JobRecord): void {
    if (job.stage === 'leased' || job.stage === 'running') {
      this.active.set(job.id, { productId: job.productId, priority: job.priority, estimatedCost: job.estimatedCost ?? 0 });
      const factoryId = job.lease?.factoryId;
      if (factoryId && job.stage === 'running') {
        const list = [job.productId, ...(this.recent.get(factoryId) ?? []).filter((p) => p !== job.productId)].slice(0, RECENT_PRODUCTS);
        this.recent.set(factoryId, list);
      }
    } else {
      this.active.delete(job.id);
    }
  }

  explain(
    job: JobRecord | null,
    jobId: string,
    factories: readonly FactoryCandidate[],
    runnable: readonly JobRecord[],
    now: number,
    budgetRefusal: string | null = null,
    rate: FilterCheck | null = null,
  ): Explanation[] {
    if (!job) throw notFound(`job ${jobId} not found`);
    const explanations = explain(job, factories, this.fairness([job, ...runnable]), now, this.weightsFor(job), budgetRefusal, rate);
    return explanations.sort((a, b) => Number(b.passed) - Number(a.passed) || (b.score?.total ?? 0) - (a.score?.total ?? 0) || a.factoryId.localeCompare(b.factoryId));
  }
}

/**
 * Per-product dispatch rate limits as the coordinator applies them: the limit lives in the
 * product's settings (Scheduling), the bucket in the settings store (one record per product, shared
 * by replicas). A pass reads each limited product's bucket to plan within it, then takes the tokens
 * its placements need with compare-and-set before claiming any job: a placement whose token another
 * replica took first is dropped. So every offer of a limited product's job spent a token from the
 * one bucket, and over any T ms at most burst + jobs × T / per of its jobs are offered, fleet-wide.
 * A token taken for a claim that is then lost (the job was cancelled meanwhile) is not given back:
 * the bound errs on the side of fewer starts.
 */
import { freshBucket, nextStartAt, rateLimitWait, startsAllowed, takeStarts, type DispatchBucket, type DispatchRateLimit } from '../domain/dispatch-rate.js';
import type { JobRecord } from '../domain/job.js';
import { RevisionConflict } from '../store/job-store.js';
import type { SettingsStore } from '../store/settings-store.js';
import type { Scheduling } from './scheduling.js';

/** Compare-and-set attempts per product per pass before giving up (the next pass tries again). */
const TAKE_ATTEMPTS = 4;

/** What a pass may place per limited product, and the sentence for a job that must wait. */
export type RateAllowance = Map<string, { starts: number; refusal: string }>;

export class DispatchRates {
  constructor(
    private readonly scheduling: Pick<Scheduling, 'productSettings'>,
    private readonly store: Pick<SettingsStore, 'getDispatchBucket' | 'putDispatchBucket'>,
  ) {}

  limitOf(productId: string): DispatchRateLimit | null {
    return this.scheduling.productSettings(productId).dispatchRate ?? null;
  }

  /** The starts each rate-limited product among `jobs` may have now, from its stored bucket. */
  async allowance(jobs: readonly Pick<JobRecord, 'productId'>[], now: number): Promise<RateAllowance> {
    const allowance: RateAllowance = new Map();
    for (const productId of new Set(jobs.map((j) => j.productId))) {
      const limit = this.limitOf(productId);
      if (!limit) continue;
      const bucket = await this.bucket(productId, limit, now);
      allowance.set(productId, { starts: startsAllowed(bucket, limit, now), refusal: rateLimitWait(productId, limit, nextStartAt(bucket, limit, now), now) });
    }
    return allowance;
  }

  /** Why a job of `productId` waits for the rate now, or null when a start is free (ExplainScore). */
  async refusal(productId: string, now: number): Promise<string | null> {
    const allowed = (await this.allowance([{ productId }], now)).get(productId);
    return allowed && allowed.starts === 0 ? allowed.refusal : null;
  }

  /**
   * Takes a token for each placement of a limited product, in plan order, and returns the
   * placements that got one (every placement of an unlimited product).
   */
  async admit<P extends { job: Pick<JobRecord, 'productId'> }>(plan: readonly P[], now: number): Promise<P[]> {
    const wanted = new Map<string, number>();
    for (const { job } of plan) if (this.limitOf(job.productId)) wanted.set(job.productId, (wanted.get(job.productId) ?? 0) + 1);
    const granted = new Map<string, number>();
    for (const [productId, count] of wanted) granted.set(productId, await this.take(productId, count, now));
    return plan.filter(({ job }) => {
      const left = granted.get(job.productId);
      if (left === undefined) return true;
      granted.set(job.productId, left - 1);
      return left > 0;
    });
  }

  /** Takes up to `wanted` starts from the product's bucket with compare-and-set; how many it got. */
  private async take(productId: string, wanted: number, now: number): Promise<number> {
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      const limit = this.limitOf(productId);
      if (!limit) return wanted;
      const { next, granted } = takeStarts(await this.bucket(productId, limit, now), limit, wanted, now);
      if (granted === 0) return 0;
      try {
        await this.store.putDispatchBucket(next);
        return granted;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err; // another replica took starts meanwhile: read again
      }
    }
    return 0;
  }

  private async bucket(productId: string, limit: DispatchRateLimit, now: number): Promise<DispatchBucket> {
    return (await this.store.getDispatchBucket(productId)) ?? freshBucket(productId, limit, now);
  }
}

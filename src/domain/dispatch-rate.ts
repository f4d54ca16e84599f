/**
 * Per-product dispatch rate limits: at most `jobs` job starts (offers) per `perMs`, with bursts of
 * up to `burst`. A token bucket whose state is a plain record the store keeps (one per product,
 * replaced with compare-and-set), so every replica draws from the same bucket: over any interval of
 * T ms a product's jobs are offered at most burst + jobs × T / perMs times, however many replicas
 * dispatch. Pure: time is passed in; the coordinator reads and writes the record.
 */
import { invalidArgument } from './errors.js';
import { humanDuration } from './scheduler.js';

/** What an operator configures for a product (stored with its settings). */
export interface DispatchRateLimit {
  /** Job starts allowed per `perMs`; at least 1. */
  jobs: number;
  /** The window the rate is stated over: from 1 s to 1 day. */
  perMs: number;
  /** The most starts at once after a quiet spell; from 1 to MAX_BURST (defaults to `jobs`). */
  burst: number;
}

/** A product's bucket as stored: tokens left at `at`. */
export interface DispatchBucket {
  productId: string;
  tokens: number;
  /** When `tokens` was computed (ms since the epoch). */
  at: number;
  /** +1 on every change; 0 for a bucket never stored (full). */
  revision: number;
}

export const MAX_RATE_JOBS = 1_000_000;
export const MAX_BURST = 1_000_000;
const MIN_PER_MS = 1_000;
const MAX_PER_MS = 86_400_000;

/** Throws INVALID_ARGUMENT naming the field unless the limit is usable. */
export function validateDispatchRate(limit: DispatchRateLimit, field: string): DispatchRateLimit {
  if (!Number.isInteger(limit.jobs) || limit.jobs < 1 || limit.jobs > MAX_RATE_JOBS) throw invalidArgument(`${field}.jobs ${limit.jobs} must be a whole number from 1 to ${MAX_RATE_JOBS}`);
  if (!Number.isFinite(limit.perMs) || limit.perMs < MIN_PER_MS || limit.perMs > MAX_PER_MS) throw invalidArgument(`${field}.per ${limit.perMs / 1000}s must be from 1s to 1 day`);
  if (!Number.isInteger(limit.burst) || limit.burst < 1 || limit.burst > MAX_BURST) throw invalidArgument(`${field}.burst ${limit.burst} must be a whole number from 1 to ${MAX_BURST}`);
  return limit;
}

/** A bucket never used: full. */
export function freshBucket(productId: string, limit: DispatchRateLimit, now: number): DispatchBucket {
  return { productId, tokens: limit.burst, at: now, revision: 0 };
}

/** Tokens in the bucket at `now`: what was left, plus what flowed in since, up to the burst. */
export function tokensAt(bucket: DispatchBucket, limit: DispatchRateLimit, now: number): number {
  const flowed = (Math.max(0, now - bucket.at) * limit.jobs) / limit.perMs;
  return Math.min(limit.burst, bucket.tokens + flowed);
}

/** Whole starts the bucket allows at `now`. */
export function startsAllowed(bucket: DispatchBucket, limit: DispatchRateLimit, now: number): number {
  return Math.floor(tokensAt(bucket, limit, now));
}

/** Takes up to `wanted` whole tokens: the next record and how many were granted. */
export function takeStarts(bucket: DispatchBucket, limit: DispatchRateLimit, wanted: number, now: number): { next: DispatchBucket; granted: number } {
  const tokens = tokensAt(bucket, limit, now);
  const granted = Math.max(0, Math.min(wanted, Math.floor(tokens)));
  return { next: { productId: bucket.productId, tokens: tokens - granted, at: Math.max(now, bucket.at), revision: bucket.revision + 1 }, granted };
}

/** When the next whole token is in (now when one is). */
export function nextStartAt(bucket: DispatchBucket, limit: DispatchRateLimit, now: number): number {
  const tokens = tokensAt(bucket, limit, now);
  return tokens >= 1 ? now : now + Math.ceil(((1 - tokens) * limit.perMs) / limit.jobs);
}

/** "5 per 1m, burst 10": the limit as people read it. */
export function describeDispatchRate(limit: DispatchRateLimit): string {
  return `${limit.jobs} per ${humanDuration(limit.perMs)}, burst ${limit.burst}`;
}

/** Why a product's job waits for its rate limit, as ExplainScore and the scheduler say it. */
export function rateLimitWait(productId: string, limit: DispatchRateLimit, until: number, now: number): string {
  return `rate limited until ${new Date(until).toISOString()} (in ${humanDuration(until - now)}): product ${productId} starts at most ${describeDispatchRate(limit)}`;
}

/**
 * The rate filter of one dispatch pass: each product may place as many jobs as its bucket held
 * when the pass began (`allowed`); each placement takes one for the rest of the pass. Products
 * absent from `allowed` have no limit.
 */
export interface RateGate {
  refusal(job: { productId: string }): string | null;
  reserve(job: { productId: string }): void;
}

export function rateGate(allowed: ReadonlyMap<string, { starts: number; refusal: string }>): RateGate {
  const left = new Map([...allowed].map(([product, { starts }]) => [product, starts]));
  return {
    refusal(job) {
      const starts = left.get(job.productId);
      return starts === undefined || starts > 0 ? null : allowed.get(job.productId)!.refusal;
    },
    reserve(job) {
      const starts = left.get(job.productId);
      if (starts !== undefined) left.set(job.productId, starts - 1);
    },
  };
}

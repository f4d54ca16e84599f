/**
 * Exponential back-off with jitter, shared by job retries (coordinator) and reconnects (agent).
 * Pure: the caller passes the random number, so simulations replay exactly.
 */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Upper bound on any delay. */
  maxMs: number;
}

export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 5 * 60_000 };

/**
 * Delay before retry number `retry` (1 for the first). "Equal jitter": half the exponential step is
 * fixed and half is random, so retries spread out yet never come back immediately.
 * @param random a number in [0, 1)
 */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.max(0, Math.min(retry - 1, 30));
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(step / 2 + (step / 2) * random);
}

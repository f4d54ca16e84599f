/**
 * A token bucket: `ratePerSecond` tokens flow in up to `capacity`; a request takes `cost`. Pure (time
 * is passed in), so rate limits are tested with a fake clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Takes `cost` tokens and returns 0, or takes nothing and returns the ms until `cost` would fit. */
  take(cost: number, now: number): number {
    this.refill(now);
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return 0;
    }
    return Math.ceil(((Math.min(cost, this.capacity) - this.tokens) / this.ratePerSecond) * 1000);
  }

  /**
   * Takes `cost` tokens even when that leaves the bucket in debt, and returns how long the caller
   * should wait for the debt to be paid back (0 when there was enough). For backpressure: the work
   * is done, later.
   */
  borrow(cost: number, now: number): number {
    this.refill(now);
    this.tokens -= cost;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}

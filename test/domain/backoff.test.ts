/** Exponential back-off with equal jitter: bounds, growth, the cap, and determinism. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RETRY_BACKOFF, type BackoffPolicy } from '../../src/domain/backoff.js';

const POLICY: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

describe('backoffDelayMs', () => {
  it('first retry: half the base fixed, half random', () => {
    expect(backoffDelayMs(1, POLICY, 0)).toBe(500);
    expect(backoffDelayMs(1, POLICY, 0.5)).toBe(750);
    expect(backoffDelayMs(1, POLICY, 0.999_999)).toBe(1_000);
  });

  it('doubles per retry', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, POLICY, 0))).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
  });

  it('never exceeds the cap, even for huge retry numbers', () => {
    expect(backoffDelayMs(7, POLICY, 0)).toBe(30_000); // 64 s step capped at 60 s
    expect(backoffDelayMs(7, POLICY, 0.999_999)).toBe(60_000);
    expect(backoffDelayMs(10_000, POLICY, 0.5)).toBe(45_000);
    expect(Number.isFinite(backoffDelayMs(Number.MAX_SAFE_INTEGER, POLICY, 0.5))).toBe(true);
  });

  it('treats retry 0 and negatives as the first retry', () => {
    expect(backoffDelayMs(0, POLICY, 0)).toBe(500);
    expect(backoffDelayMs(-5, POLICY, 0)).toBe(500);
  });

  it('is a pure function of its inputs (simulations replay exactly)', () => {
    expect(backoffDelayMs(3, POLICY, 0.123)).toBe(backoffDelayMs(3, POLICY, 0.123));
  });

  it('has sane defaults: 1 s base, 5 min cap', () => {
    expect(DEFAULT_RETRY_BACKOFF).toEqual({ baseMs: 1_000, maxMs: 300_000 });
  });

  it('stays within [step/2, step], grows with retry and with the random number', () => {
    const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        random,
        random,
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (retry, r1, r2, baseMs, extra) => {
          const policy = { baseMs, maxMs: baseMs + extra };
          const step = Math.min(policy.maxMs, baseMs * 2 ** Math.min(retry - 1, 30));
          const delay = backoffDelayMs(retry, policy, r1);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(step));
          expect(delay).toBeLessThanOrEqual(policy.maxMs);
          const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
          expect(backoffDelayMs(retry, policy, lo)).toBeLessThanOrEqual(backoffDelayMs(retry, policy, hi));
          expect(backoffDelayMs(retry, policy, r1)).toBeLessThanOrEqual(backoffDelayMs(retry + 1, policy, r1));
        },
      ),
    );
  });
});

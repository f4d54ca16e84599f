/**
 * Dispatch rate limits: the token bucket allows a burst, then the rate; never more than
 * burst + rate × T starts over any interval T, however the takes fall (a property over random
 * schedules); two replicas drawing from one stored bucket together stay within the same bound;
 * limits are validated naming the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DispatchRates } from '../../src/coordinator/dispatch-rates.js';
import { freshBucket, nextStartAt, rateGate, rateLimitWait, startsAllowed, takeStarts, validateDispatchRate, type DispatchRateLimit } from '../../src/domain/dispatch-rate.js';
import { defaultProductSettings } from '../../src/store/settings-store.js';
import { MemorySettingsStore } from '../../src/store/memory/memory-settings-store.js';
import { domainError, T0 } from './helpers.js';

const limit: DispatchRateLimit = { jobs: 2, perMs: 1_000, burst: 3 };

/** Every (earliest, latest) pair of starts obeys count ≤ burst + jobs × span / per. */
function withinBound(starts: readonly number[], l: DispatchRateLimit): boolean {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) if (j - i + 1 > l.burst + (l.jobs * (sorted[j]! - sorted[i]!)) / l.perMs + 1e-9) return false;
  }
  return true;
}

describe('the dispatch-rate bucket', () => {
  it('allows the burst at once, then one start per 1/rate', () => {
    let bucket = freshBucket('p', limit, T0);
    expect(startsAllowed(bucket, limit, T0)).toBe(3);
    const first = takeStarts(bucket, limit, 5, T0);
    expect(first.granted).toBe(3);
    bucket = first.next;
    expect(bucket.revision).toBe(1);
    expect(startsAllowed(bucket, limit, T0)).toBe(0);
    expect(nextStartAt(bucket, limit, T0)).toBe(T0 + 500);
    expect(startsAllowed(bucket, limit, T0 + 499)).toBe(0);
    expect(startsAllowed(bucket, limit, T0 + 500)).toBe(1);
    expect(startsAllowed(bucket, limit, T0 + 60_000)).toBe(3); // never more than the burst
  });

  it('never allows more than burst + rate × T over any interval T, whatever the schedule', () => {
    fc.assert(
      fc.property(
        fc.record({ jobs: fc.integer({ min: 1, max: 20 }), perMs: fc.integer({ min: 1_000, max: 60_000 }), burst: fc.integer({ min: 1, max: 20 }) }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 10 })), { maxLength: 60 }),
        (l, steps) => {
          let bucket = freshBucket('p', l, T0);
          let now = T0;
          const starts: number[] = [];
          for (const [gap, wanted] of steps) {
            now += gap;
            const { next, granted } = takeStarts(bucket, l, wanted, now);
            bucket = next;
            for (let i = 0; i < granted; i++) starts.push(now);
          }
          return withinBound(starts, l);
        },
      ),
    );
  });

  it('says until when a product is rate limited', () => {
    const { next } = takeStarts(freshBucket('p', limit, T0), limit, 3, T0);
    expect(rateLimitWait('p', limit, nextStartAt(next, limit, T0 + 100), T0 + 100)).toBe(
      `rate limited until ${new Date(T0 + 500).toISOString()} (in 1s): product p starts at most 2 per 1s, burst 3`,
    );
  });

  it('gates one pass: a product places no more than its bucket held, others are not limited', () => {
    const gate = rateGate(new Map([['p', { starts: 1, refusal: 'wait' }]]));
    expect(gate.refusal({ productId: 'p' })).toBeNull();
    gate.reserve({ productId: 'p' });
    expect(gate.refusal({ productId: 'p' })).toBe('wait');
    expect(gate.refusal({ productId: 'q' })).toBeNull();
  });

  it('refuses an unusable limit naming the field', () => {
    expect(domainError(() => validateDispatchRate({ jobs: 0, perMs: 1_000, burst: 1 }, 'dispatch_rate_limit'))).toMatchObject({
      code: 'invalid_argument',
      message: 'dispatch_rate_limit.jobs 0 must be a whole number from 1 to 1000000',
    });
    expect(domainError(() => validateDispatchRate({ jobs: 1, perMs: 500, burst: 1 }, 'dispatch_rate_limit')).message).toBe('dispatch_rate_limit.per 0.5s must be from 1s to 1 day');
    expect(domainError(() => validateDispatchRate({ jobs: 1, perMs: 1_000, burst: 2_000_000 }, 'dispatch_rate_limit')).message).toMatch(/^dispatch_rate_limit.burst 2000000 must be/);
  });
});

describe('two replicas over one stored bucket', () => {
  it('together start no more than one bucket allows, racing on every take', async () => {
    const store = new MemorySettingsStore();
    const settings = { productSettings: (productId: string) => ({ ...defaultProductSettings(productId), ...(productId === 'p' ? { dispatchRate: limit } : {}) }) };
    const replicas = [new DispatchRates(settings, store), new DispatchRates(settings, store)];
    const starts: number[] = [];
    for (let now = T0; now < T0 + 10_000; now += 250) {
      const plans = await Promise.all(replicas.map((r) => r.admit(Array.from({ length: 4 }, () => ({ job: { productId: 'p' } })), now)));
      for (const admitted of plans) for (let i = 0; i < admitted.length; i++) starts.push(now);
      const unlimited = await replicas[0]!.admit([{ job: { productId: 'q' } }], now);
      expect(unlimited).toHaveLength(1);
    }
    expect(withinBound(starts, limit)).toBe(true);
    expect(starts.length).toBeGreaterThanOrEqual(3 + 2 * 9); // the limit, not the races, held them back
  });
});

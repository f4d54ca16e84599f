/**
 * Percentile bootstrap intervals: resample the observations with replacement, recompute the mean,
 * and read the 2.5th and 97.5th percentiles. Seeded, so the same data and seed give the same interval.
 */

export interface MeanWithInterval {
  mean: number;
  /** The 95% interval of the mean. */
  low: number;
  high: number;
  n: number;
}

export const DEFAULT_RESAMPLES = 1_000;

export function bootstrapMean(values: readonly number[], random: () => number, resamples = DEFAULT_RESAMPLES): MeanWithInterval {
  const n = values.length;
  if (n === 0) return { mean: 0, low: 0, high: 0, n: 0 };
  const means = resampledMeans(values, random, resamples);
  return { mean: mean(values), ...percentiles(means), n };
}

/** The interval of mean(b) - mean(a), the two groups resampled independently. */
export function bootstrapDifference(a: readonly number[], b: readonly number[], random: () => number, resamples = DEFAULT_RESAMPLES): MeanWithInterval {
  if (a.length === 0 || b.length === 0) return { mean: 0, low: 0, high: 0, n: 0 };
  const ma = resampledMeans(a, random, resamples);
  const mb = resampledMeans(b, random, resamples);
  return { mean: mean(b) - mean(a), ...percentiles(mb.map((m, i) => m - ma[i]!)), n: a.length + b.length };
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? 0 : sum / values.length;
}

function resampledMeans(values: readonly number[], random: () => number, resamples: number): number[] {
  const n = values.length;
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means.push(sum / n);
  }
  return means;
}

function percentiles(samples: number[]): { low: number; high: number } {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))]!;
  return { low: at(0.025), high: at(0.975) };
}

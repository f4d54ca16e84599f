/**
 * Dispatch cost per decision as the queue and the fleet grow: the pure planner
 * (domain/scheduler.ts planDispatch) over the page of runnable jobs a pass examines, for
 * 100 / 1,000 / 10,000 queued jobs × 10 / 100 / 1,000 factories. A decision is one placement.
 * The queue size matters only up to the page a pass lists (8 × free slots, at most 1,000): the
 * planner never sees the whole queue, which is the point being measured.
 */
import type { JobRecord, LabelRequirement } from '../src/domain/job.js';
import { newJob } from '../src/domain/lifecycle.js';
import { DEFAULT_WEIGHTS, planDispatch, type FactoryCandidate, type FairShareState } from '../src/domain/scheduler.js';
import { Latency, progress, progressDone, type LatencySummary } from './stats.js';

export interface SchedulerCell {
  queued: number;
  factories: number;
  /** Jobs the planner examined per pass (the dispatcher's page). */
  examined: number;
  decisionsPerSecond: number;
  decisionMs: LatencySummary;
}

const PAGE_CAP = 1_000;
const OS = ['linux', 'mac', 'windows'];

function jobs(count: number, products: number, now: number): JobRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const labels: LabelRequirement[] = i % 3 === 0 ? [{ key: 'os', operator: 'equals', values: [OS[i % OS.length]!] }] : [];
    return newJob(
      { productId: `p${i % products}`, title: 't', command: ['true'], env: {}, requiredLabels: labels, priority: i % 7, idempotencyKey: '', maxAttempts: 3, timeoutMs: 60_000 },
      `job_${String(i).padStart(8, '0')}`,
      now - (count - i) * 10,
      'bench',
    ).job;
  });
}

function fleet(count: number): FactoryCandidate[] {
  return Array.from({ length: count }, (_, i) => ({
    factoryId: `f${i}`,
    labels: { os: OS[i % OS.length]!, cost: i % 5 === 0 ? 'low' : 'standard' },
    slots: 4,
    freeSlots: 1,
    draining: false,
    recentProducts: [`p${i % 10}`],
  }));
}

export function runSchedulerBench(queues: readonly number[], fleets: readonly number[], secondsPerCell: number): SchedulerCell[] {
  const cells: SchedulerCell[] = [];
  const now = Date.now();
  for (const queued of queues) {
    for (const factories of fleets) {
      progress(`scheduler: ${queued} queued × ${factories} factories`);
      const candidates = fleet(factories);
      const free = candidates.reduce((n, f) => n + f.freeSlots, 0);
      const examined = Math.min(queued, PAGE_CAP, Math.max(64, free * 8));
      const page = jobs(examined, 10, now);
      const fairness: FairShareState = { runningByProduct: new Map([['p0', 5]]), demandWeights: new Map(Array.from({ length: 10 }, (_, i) => [`p${i}`, 1])) };
      const latency = new Latency();
      let decisions = 0;
      const started = performance.now();
      while (performance.now() - started < secondsPerCell * 1000) {
        const t0 = performance.now();
        const plan = planDispatch(page, candidates, fairness, now, () => DEFAULT_WEIGHTS);
        const ms = performance.now() - t0;
        const placed = Math.max(1, plan.length);
        for (let i = 0; i < placed; i++) latency.recordMs(ms / placed);
        decisions += placed;
      }
      cells.push({ queued, factories, examined, decisionsPerSecond: decisions / ((performance.now() - started) / 1000), decisionMs: latency.summary() });
    }
  }
  progressDone();
  return cells;
}

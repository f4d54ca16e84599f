/**
 * The autoscaling signal: queued jobs that no connected factory could ever run, grouped by what they
 * require, so an autoscaler knows which kind of factory to add. Pure: the caller brings the jobs and
 * the connected factories' labels.
 */
import type { JobRecord, LabelRequirement } from './job.js';
import { meetsRequirements } from './labels.js';

export interface UnplaceableDemand {
  requiredLabels: LabelRequirement[];
  /** Stable text of the requirements, e.g. "gpu=a100,os=linux"; "" for jobs that require nothing. */
  requirementsKey: string;
  queuedJobs: number;
  oldestWaitMs: number;
}

export function unplaceableDemand(
  queued: readonly JobRecord[],
  factoryLabels: readonly Readonly<Record<string, string>>[],
  now: number,
): UnplaceableDemand[] {
  const byKey = new Map<string, UnplaceableDemand>();
  for (const job of queued) {
    if (factoryLabels.some((labels) => meetsRequirements(job.requiredLabels, labels))) continue;
    const key = requirementsKey(job.requiredLabels);
    const demand = byKey.get(key) ?? { requiredLabels: job.requiredLabels, requirementsKey: key, queuedJobs: 0, oldestWaitMs: 0 };
    demand.queuedJobs++;
    demand.oldestWaitMs = Math.max(demand.oldestWaitMs, now - job.createdAt);
    byKey.set(key, demand);
  }
  return [...byKey.values()].sort((a, b) => b.queuedJobs - a.queuedJobs || a.requirementsKey.localeCompare(b.requirementsKey));
}

const OPERATOR_TEXT: Record<LabelRequirement['operator'], string> = {
  equals: '=',
  in: ' in ',
  not_in: ' not in ',
  exists: '',
  not_exists: '',
  gte: '>=',
  lte: '<=',
};

/** One canonical text per set of requirements, whatever their order. */
export function requirementsKey(requirements: readonly LabelRequirement[]): string {
  return requirements
    .map((r) => {
      if (r.operator === 'exists') return r.key;
      if (r.operator === 'not_exists') return `!${r.key}`;
      return `${r.key}${OPERATOR_TEXT[r.operator]}${[...r.values].sort().join('|')}`;
    })
    .sort()
    .join(',');
}

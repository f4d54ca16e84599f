/**
 * Which factory gets a job. Hard filters first (labels, a free slot, not draining); among those that
 * pass, the one with the most free slots, so load spreads. The weighted scoring of the scheduling
 * issue replaces the tie-break, not the filters.
 */
import type { JobRecord } from './job.js';
import { meetsRequirements } from './labels.js';

export interface DispatchCandidate {
  factoryId: string;
  labels: Readonly<Record<string, string>>;
  freeSlots: number;
}

export function pickFactory<C extends DispatchCandidate>(job: JobRecord, candidates: readonly C[]): C | null {
  let best: C | null = null;
  for (const c of candidates) {
    if (c.freeSlots <= 0 || !meetsRequirements(job.requiredLabels, c.labels)) continue;
    if (!best || c.freeSlots > best.freeSlots) best = c;
  }
  return best;
}

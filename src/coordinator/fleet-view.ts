/** Read models over the fleet for operators: connected factories and unplaceable demand. */
import type { JobRecord } from '../domain/job.js';
import { unplaceableDemand, type UnplaceableDemand } from '../domain/scaling.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { Fleet } from './fleet.js';

/** The scan for the scaling signal stops here; beyond it the figures are a lower bound. */
export const SCALING_SCAN_LIMIT = 10_000;

export interface FactoryView {
  factoryId: string;
  labels: Record<string, string>;
  slots: number;
  freeSlots: number;
  agentVersion: string;
  draining: boolean;
  connectedAt: number;
  lastSeenAt: number;
  jobIds: string[];
}

export interface ScalingSignal {
  demands: UnplaceableDemand[];
  examinedJobs: number;
  computedAt: number;
}

export class FleetView {
  constructor(
    private readonly fleet: Fleet,
    private readonly store: JobStore,
    private readonly clock: Clock,
  ) {}

  factories(): FactoryView[] {
    return this.fleet
      .sessions()
      .map((s) => {
        const f = s.factory!;
        return {
          factoryId: f.factoryId,
          labels: f.labels,
          slots: f.slots,
          freeSlots: s.freeSlots,
          agentVersion: f.agentVersion,
          draining: s.current.t === 'draining',
          connectedAt: s.connectedAt,
          lastSeenAt: s.lastSeenAt,
          jobIds: s.jobIds(),
        };
      })
      .sort((a, b) => a.factoryId.localeCompare(b.factoryId));
  }

  async scalingSignal(): Promise<ScalingSignal> {
    const queued: JobRecord[] = [];
    let after;
    do {
      const page = await this.store.listJobs({ stages: ['queued'], limit: 500, ...(after ? { after } : {}) });
      queued.push(...page.jobs);
      after = page.next;
    } while (after && queued.length < SCALING_SCAN_LIMIT);
    const now = this.clock.now();
    const labels = this.fleet.sessions().map((s) => s.factory!.labels);
    return { demands: unplaceableDemand(queued, labels, now), examinedJobs: queued.length, computedAt: now };
  }
}

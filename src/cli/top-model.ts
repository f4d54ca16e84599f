/**
 * What `gigafactory top` knows about the fleet: the factories as last listed, the jobs that wait or
 * run, and the jobs that failed in the last hour. Filled from ListFactories and ListJobs, then moved
 * by WatchJobs events. A snapshot and the live feed can cross (a page read before an event that
 * changed one of its jobs arrives after it), so every copy of a job is taken only when its revision
 * is newer than the newest one seen.
 */
import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { FactoryState, type Factory } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { JobStage, type Job, type JobEvent } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';

/** How far back the failure counts look. */
export const FAILURE_WINDOW_MS = 3_600_000;

/** The stages a job waits or runs in: top's subject. Every other stage is final. */
export const ACTIVE_STAGES = [JobStage.QUEUED, JobStage.BLOCKED, JobStage.LEASED, JobStage.RUNNING, JobStage.AWAITING_REVIEW] as const;
/** The endings counted as failures: the run failed, or every attempt lost its lease. */
export const FAILED_STAGES = [JobStage.FAILED, JobStage.DEAD] as const;

const ACTIVE: ReadonlySet<JobStage> = new Set(ACTIVE_STAGES);
const FAILED: ReadonlySet<JobStage> = new Set(FAILED_STAGES);

/** One product's line in the queue panel. */
export interface ProductRow {
  productId: string;
  /** Queued and offerable now. */
  queued: number;
  /** Queued, but not before a time still ahead: run_at, delay or a retry's back-off. */
  scheduled: number;
  blocked: number;
  /** Leased (offered, not yet accepted) or running. */
  running: number;
  review: number;
  failedLastHour: number;
}

export interface FleetSummary {
  connected: number;
  draining: number;
  disconnected: number;
  slots: number;
  usedSlots: number;
  queued: number;
  scheduled: number;
  running: number;
  failedLastHour: number;
}

interface Seen {
  revision: bigint;
  /** When an ended job was seen ending, so its entry can be forgotten after the window. */
  endedAt: number | null;
}

export class TopModel {
  factories: Factory[] = [];
  /** True when the last load stopped at its page limit: the counts are then lower bounds. */
  capped = false;
  private readonly active = new Map<string, Job>();
  /** Failed or dead jobs that ended within the window: id → when and which product. */
  private readonly failures = new Map<string, { at: number; productId: string }>();
  private readonly seen = new Map<string, Seen>();

  /** Takes a job as it is at its revision; returns whether what top shows changed. */
  take(job: Job, now: number): boolean {
    const known = this.seen.get(job.id);
    if (known && known.revision >= job.revision) return false;
    if (ACTIVE.has(job.stage)) {
      this.seen.set(job.id, { revision: job.revision, endedAt: null });
      this.failures.delete(job.id);
      this.active.set(job.id, job);
      return true;
    }
    this.seen.set(job.id, { revision: job.revision, endedAt: now });
    const wasActive = this.active.delete(job.id);
    const at = ms(job.endTime) ?? now;
    if (FAILED.has(job.stage) && at >= now - FAILURE_WINDOW_MS) {
      this.failures.set(job.id, { at, productId: job.productId });
      return true;
    }
    return wasActive;
  }

  /** Moves the job an event carries (a replayed event carries none). */
  apply(event: JobEvent, now: number): boolean {
    return event.job ? this.take(event.job, now) : false;
  }

  /** Forgets failures and ended jobs older than the window; returns whether a count changed. */
  prune(now: number): boolean {
    const from = now - FAILURE_WINDOW_MS;
    let changed = false;
    for (const [id, f] of this.failures) {
      if (f.at < from) changed = this.failures.delete(id) || changed;
    }
    for (const [id, s] of this.seen) {
      if (s.endedAt !== null && s.endedAt < from) this.seen.delete(id);
    }
    return changed;
  }

  /** The queue by product, busiest first; `product` narrows it to names containing that text. */
  products(now: number, product = ''): ProductRow[] {
    const rows = new Map<string, ProductRow>();
    const row = (productId: string): ProductRow => {
      let r = rows.get(productId);
      if (!r) rows.set(productId, (r = { productId, queued: 0, scheduled: 0, blocked: 0, running: 0, review: 0, failedLastHour: 0 }));
      return r;
    };
    for (const job of this.active.values()) {
      if (!matches(job.productId, product)) continue;
      const r = row(job.productId);
      if (job.stage === JobStage.QUEUED) {
        if (waitsUntil(job) > now) r.scheduled++;
        else r.queued++;
      } else if (job.stage === JobStage.BLOCKED) r.blocked++;
      else if (job.stage === JobStage.AWAITING_REVIEW) r.review++;
      else r.running++;
    }
    for (const f of this.failures.values()) if (matches(f.productId, product)) row(f.productId).failedLastHour++;
    const total = (r: ProductRow): number => r.queued + r.scheduled + r.blocked + r.running + r.review;
    return [...rows.values()].sort((a, b) => total(b) - total(a) || b.failedLastHour - a.failedLastHour || a.productId.localeCompare(b.productId));
  }

  /** Leased and running jobs, longest-running first (offered ones, not started yet, last). */
  running(product = ''): Job[] {
    const jobs = [...this.active.values()].filter((j) => (j.stage === JobStage.RUNNING || j.stage === JobStage.LEASED) && matches(j.productId, product));
    const started = (j: Job): number => ms(j.startTime) ?? Number.POSITIVE_INFINITY;
    return jobs.sort((a, b) => started(a) - started(b) || a.id.localeCompare(b.id));
  }

  summary(now: number, product = ''): FleetSummary {
    const state = (s: FactoryState): number => this.factories.filter((f) => f.state === s).length;
    const live = this.factories.filter((f) => f.state !== FactoryState.DISCONNECTED);
    const rows = this.products(now, product);
    const sum = (pick: (r: ProductRow) => number): number => rows.reduce((n, r) => n + pick(r), 0);
    return {
      connected: state(FactoryState.CONNECTED),
      draining: state(FactoryState.DRAINING),
      disconnected: state(FactoryState.DISCONNECTED),
      slots: live.reduce((n, f) => n + f.slots, 0),
      usedSlots: live.reduce((n, f) => n + (f.slots - f.freeSlots), 0),
      queued: sum((r) => r.queued),
      scheduled: sum((r) => r.scheduled),
      running: sum((r) => r.running),
      failedLastHour: sum((r) => r.failedLastHour),
    };
  }
}

/** When a queued job may be offered: the later of its run_at and its back-off. */
function waitsUntil(job: Job): number {
  return Math.max(ms(job.runAt) ?? 0, ms(job.notBeforeTime) ?? 0);
}

function matches(productId: string, filter: string): boolean {
  return filter === '' || productId.includes(filter);
}

export function ms(ts: Timestamp | undefined): number | null {
  return ts ? timestampMs(ts) : null;
}

/**
 * What the overview shows about jobs, kept current from the shared WatchJobs stream: the jobs that
 * wait or run (queue depth by product and stage) and the jobs that finished in the last hour
 * (throughput, failure rate). Loaded once from ListJobs, then moved by events.
 */
import { JobStage, type Job, type JobEvent } from '../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { ACTIVE_STAGES, FINAL_STAGES, isFinal, ms } from './format.js';
import { jobService } from './rpc.js';

export const WINDOW_MS = 3_600_000;
const PAGE_SIZE = 500;
/** Scan limits: the overview reads at most this many pages of each kind when it (re)loads. */
const MAX_ACTIVE_PAGES = 10;
const MAX_FINISHED_PAGES = 4;

export interface Finished {
  at: number;
  stage: JobStage;
  productId: string;
}

export interface QueueRow {
  productId: string;
  counts: Record<number, number>;
  total: number;
}

export interface Bucket {
  start: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface HourSummary {
  succeeded: number;
  failed: number;
  cancelled: number;
  buckets: Bucket[];
}

export class FleetModel {
  readonly active = new Map<string, Job>();
  readonly finished = new Map<string, Finished>();
  /** True when a scan stopped at its page limit, so counts are lower bounds. */
  activeCapped = false;
  finishedCapped = false;

  /** Moves one job; returns whether anything the overview shows changed. */
  apply(event: JobEvent): boolean {
    const job = event.job;
    if (!job) return false;
    if (!isFinal(job.stage)) {
      this.active.set(job.id, job);
      return true;
    }
    const had = this.active.delete(job.id);
    const at = ms(job.endTime) ?? ms(event.time) ?? Date.now();
    if (at >= Date.now() - WINDOW_MS) {
      this.finished.set(job.id, { at, stage: job.stage, productId: job.productId });
      return true;
    }
    return had;
  }

  queueByProduct(): QueueRow[] {
    const rows = new Map<string, QueueRow>();
    for (const job of this.active.values()) {
      let row = rows.get(job.productId);
      if (!row) rows.set(job.productId, (row = { productId: job.productId, counts: {}, total: 0 }));
      row.counts[job.stage] = (row.counts[job.stage] ?? 0) + 1;
      row.total++;
    }
    return [...rows.values()].sort((a, b) => b.total - a.total || a.productId.localeCompare(b.productId));
  }

  stageTotals(): Record<number, number> {
    const totals: Record<number, number> = {};
    for (const job of this.active.values()) totals[job.stage] = (totals[job.stage] ?? 0) + 1;
    return totals;
  }

  /** The last hour in twelve five-minute buckets, oldest first. */
  lastHour(now: number, bucketCount = 12): HourSummary {
    const from = now - WINDOW_MS;
    const width = WINDOW_MS / bucketCount;
    const buckets: Bucket[] = Array.from({ length: bucketCount }, (_, i) => ({ start: from + i * width, succeeded: 0, failed: 0, cancelled: 0 }));
    const summary: HourSummary = { succeeded: 0, failed: 0, cancelled: 0, buckets };
    for (const [id, f] of this.finished) {
      if (f.at < from) {
        this.finished.delete(id);
        continue;
      }
      const bucket = buckets[Math.min(bucketCount - 1, Math.floor((f.at - from) / width))]!;
      if (f.stage === JobStage.SUCCEEDED) (summary.succeeded++, bucket.succeeded++);
      else if (f.stage === JobStage.CANCELLED) (summary.cancelled++, bucket.cancelled++);
      else (summary.failed++, bucket.failed++);
    }
    return summary;
  }
}

export async function loadFleetModel(signal: AbortSignal): Promise<FleetModel> {
  const model = new FleetModel();
  const now = Date.now();
  const [activeCapped, finishedCapped] = await Promise.all([
    scan([...ACTIVE_STAGES], MAX_ACTIVE_PAGES, signal, (job) => {
      model.active.set(job.id, job);
      return true;
    }),
    scan([...FINAL_STAGES], MAX_FINISHED_PAGES, signal, (job) => {
      const at = ms(job.endTime) ?? ms(job.updateTime);
      if (at !== null && at >= now - WINDOW_MS) model.finished.set(job.id, { at, stage: job.stage, productId: job.productId });
      // Newest first by creation: a job created a day ago is very unlikely to have ended this hour.
      return (ms(job.createTime) ?? now) >= now - 24 * WINDOW_MS;
    }),
  ]);
  model.activeCapped = activeCapped;
  model.finishedCapped = finishedCapped;
  return model;
}

/** Pages through ListJobs; `take` returns false to stop early. Resolves true when capped. */
async function scan(stages: JobStage[], maxPages: number, signal: AbortSignal, take: (job: Job) => boolean): Promise<boolean> {
  let pageToken = '';
  for (let page = 0; page < maxPages; page++) {
    const res = await jobService.listJobs({ stages, pageSize: PAGE_SIZE, pageToken }, { signal });
    let more = true;
    for (const job of res.jobs) more = take(job) && more;
    if (!res.nextPageToken || !more) return false;
    pageToken = res.nextPageToken;
  }
  return true;
}

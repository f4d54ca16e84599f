/**
 * JobStore is the only way any code reaches durable state. It is shaped for a document store
 * (Cosmos, partitioned by product) as much as for SQL:
 * - one job is one record; every transition is one compare-and-set on its revision;
 * - the epoch lives in the record and never goes backwards, so a write computed from a stale read
 *   (a zombie factory's result) loses the compare-and-set;
 * - events and log chunks are appended beside the job, idempotently by their natural keys, so no
 *   transition needs a multi-record transaction.
 */
import type { SpendRecord } from '../domain/budget.js';
import type { JobEventRecord, JobRecord, JobStage, LogChunkRecord } from '../domain/job.js';
import type { JobOrder } from '../domain/job-search.js';

/** Thrown by replaceJob when the stored revision is not the expected one (someone else won). */
export class RevisionConflict extends Error {
  constructor(
    readonly jobId: string,
    readonly expectedRevision: number,
  ) {
    super(`job ${jobId} changed since revision ${expectedRevision}`);
    this.name = 'RevisionConflict';
  }
}

/** Where a page of ListJobs starts: after this (value, createdAt, id) in the query's order. */
export interface JobCursor {
  createdAt: number;
  id: string;
  /** The last job's order value, when the order is by another field than create time. */
  value?: number | string;
}

export interface JobQuery {
  productId?: string;
  stages?: readonly JobStage[];
  /** Jobs with a requirement on this label key ... */
  labelKey?: string;
  /** ... whose values include this value (when set). */
  labelValue?: string;
  /** Jobs whose searched texts contain this, already folded (domain/job-search.ts). */
  text?: string;
  /** Newest first when absent. */
  order?: JobOrder;
  limit: number;
  after?: JobCursor;
}

export interface JobPage {
  jobs: JobRecord[];
  /** Set when there may be more jobs after the last one returned. */
  next: JobCursor | null;
}

/** How many jobs one product has in one stage. */
export interface JobCount {
  productId: string;
  stage: JobStage;
  count: number;
}

/** Spend records with from <= at < to, of one product or (no productId) of every product. */
export interface SpendQuery {
  productId?: string;
  from: number;
  to: number;
}

export type AppendLogResult = 'stored' | 'duplicate' | 'stale_epoch' | 'not_found';

/** Where to resume reading logs: strictly after this chunk. */
export interface LogPosition {
  epoch: number;
  sequence: number;
}

export interface JobStore {
  /**
   * Stores a new job and its 'submitted' event; resolves only once both are durable. When the job
   * has an idempotency key already used in its product, stores nothing and returns the first job.
   */
  insertJob(job: JobRecord, event: JobEventRecord): Promise<{ job: JobRecord; created: boolean }>;

  getJob(id: string): Promise<JobRecord | null>;

  /**
   * The job holding an idempotency key in a product, as it is now: the job insertJob would return
   * for that key instead of storing another. Null when the key is free or empty.
   */
  findJobByIdempotencyKey(productId: string, idempotencyKey: string): Promise<JobRecord | null>;

  /**
   * Compare-and-set: writes `next` only if the stored job is at `next.revision - 1` and its epoch is
   * not newer than `next.epoch`; otherwise throws RevisionConflict. Appends `event` when given.
   */
  replaceJob(next: JobRecord, event: JobEventRecord | null): Promise<void>;

  /** Jobs filtered, in the query's order (newest first: createdAt desc, id desc). */
  listJobs(query: JobQuery): Promise<JobPage>;

  /** Queued jobs with notBefore <= now, best first: priority desc, then createdAt asc, then id. */
  listRunnable(now: number, limit: number): Promise<JobRecord[]>;

  /** Leased or running jobs whose lease expired at or before `now`, oldest expiry first. */
  listExpiredLeases(now: number, limit: number): Promise<JobRecord[]>;

  /** Leased or running jobs held by one factory. */
  listLeasedTo(factoryId: string): Promise<JobRecord[]>;

  /**
   * How many jobs with each of `keys` as concurrency key hold a lease (leased or running), across
   * every product; keys with none are left out. Read from the store, so it holds across replicas.
   */
  countActiveByConcurrencyKey(keys: readonly string[]): Promise<Map<string, number>>;

  /** Job counts by product and stage (only non-zero counts), for metrics and the overview. */
  countJobs(): Promise<JobCount[]>;

  /**
   * The cost each attempt reported (domain/budget.ts spendOf) within a time range, oldest first:
   * what budgets sum. Answered from an index on (product, time), never by reading every job.
   */
  listSpend(query: SpendQuery): Promise<SpendRecord[]>;

  /** A job's events, oldest first. */
  listEvents(jobId: string): Promise<JobEventRecord[]>;

  /**
   * Appends a log chunk unless one with the same (jobId, epoch, sequence) exists ('duplicate').
   * Fenced: refused ('stale_epoch') unless chunk.epoch is the job's current epoch.
   */
  appendLog(chunk: LogChunkRecord): Promise<AppendLogResult>;

  /** A job's chunks in order (epoch, then sequence), strictly after `after` when given. */
  readLogs(jobId: string, after: LogPosition | null, limit: number): Promise<LogChunkRecord[]>;

  /** Flushes and releases the store. */
  close(): Promise<void>;
}

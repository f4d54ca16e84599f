/**
 * The job as the coordinator reasons about it: plain data, times as epoch milliseconds, no I/O.
 * The protobuf `Job` is its wire form (see api/convert.ts); the store keeps exactly this shape, so
 * one job is one record and every transition is one compare-and-set on it.
 */
import type { ReviewRouting } from './review.js';
import type { JobInput } from './job-inputs.js';

export const JOB_STAGES = [
  'queued',
  'blocked',
  'leased',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'dead',
  'awaiting_review',
  'shipped',
  'rejected',
] as const;
export type JobStage = (typeof JOB_STAGES)[number];

/**
 * Stages where a job has ended. Only an operator's requeue moves a job out of one (and never out of
 * succeeded or shipped).
 */
export const FINAL_STAGES: ReadonlySet<JobStage> = new Set(['succeeded', 'failed', 'cancelled', 'dead', 'shipped', 'rejected']);

/** Final stages that count as success for a job's dependents and its parent. */
export const SUCCESS_STAGES: ReadonlySet<JobStage> = new Set(['succeeded', 'shipped']);

/** Final stages that count as failure for a job's dependents and its parent. */
export const UNSUCCESSFUL_STAGES: ReadonlySet<JobStage> = new Set(['failed', 'cancelled', 'dead', 'rejected']);

/** What a blocked job does when a dependency ends without success. */
export const DEPENDENCY_FAILURE_POLICIES = ['cancel_dependents', 'leave_blocked'] as const;
export type DependencyFailurePolicy = (typeof DEPENDENCY_FAILURE_POLICIES)[number];

export function isFinal(stage: JobStage): boolean {
  return FINAL_STAGES.has(stage);
}

export const LABEL_OPERATORS = ['equals', 'in', 'not_in', 'exists', 'not_exists', 'gte', 'lte'] as const;
export type LabelOperator = (typeof LABEL_OPERATORS)[number];

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export const ATTEMPT_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
  'lease_expired',
  'cancelled',
  'preempted',
  'released',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One lease of the job to a factory. */
export interface AttemptRecord {
  epoch: number;
  factoryId: string;
  offeredAt: number;
  startedAt: number | null;
  endedAt: number | null;
  outcome: AttemptOutcome | null;
  exitCode: number | null;
  message: string;
  /** The dispatcher's winning score for this placement, term by term (absent when not recorded). */
  decision?: { total: number; terms: Record<string, number> } | null;
  /** What the attempt cost, as its factory reported while it ran and with the result (absent: nothing reported). */
  cost?: number;
  /** When a running attempt last reported its cost (its spend counts at this time until it ends). */
  costAt?: number;
}

export interface LeaseRecord {
  factoryId: string;
  epoch: number;
  /** While leased: the offer deadline. While running: when the lease lapses without a heartbeat. */
  expiresAt: number;
}

export interface JobRecord {
  id: string;
  productId: string;
  title: string;
  command: string[];
  env: Record<string, string>;
  requiredLabels: LabelRequirement[];
  priority: number;
  /** Empty when the client gave none. */
  idempotencyKey: string;
  maxAttempts: number;
  timeoutMs: number;
  stage: JobStage;
  /** Fencing token: +1 on every lease grant. */
  epoch: number;
  /** Accepted leases that ended in a way that counts (not preemption, not release). */
  attemptCount: number;
  attempts: AttemptRecord[];
  lease: LeaseRecord | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Not offered before this time (back-off after a failure or a lost lease). */
  notBefore: number;
  exitCode: number | null;
  result: string;
  cancelRequestedAt: number | null;
  /** Compare-and-set token: +1 on every change. */
  revision: number;
  /** Why the job is where it is, when that is not obvious. */
  reason: string;
  /** Preemptions since the job last ran to an outcome; two in a row protect it for a while. */
  preemptionStreak: number;
  lastPreemptedAt: number | null;
  /** This job's scoring weight overrides (over the product's and the defaults); absent = none. */
  weights?: Partial<Record<string, number>>;
  /**
   * Workflow links and options (absent on plain jobs, so older records stay valid). The job waits
   * (blocked) until every job in dependsOn has succeeded or been shipped.
   */
  dependsOn?: string[];
  /** Jobs whose dependsOn names this one: the reverse links, so a finished job finds its waiters. */
  dependents?: string[];
  /** The job this one was added under (AddChildren). */
  parentId?: string;
  /** Jobs added under this one. */
  children?: string[];
  /** A successful attempt goes to awaiting_review instead of succeeded. */
  requireReview?: boolean;
  /** A successful attempt waits (blocked) for every child to succeed. */
  completeWithChildren?: boolean;
  /** True while the job is blocked because its own work succeeded and its children have not. */
  awaitingChildren?: boolean;
  /** What happens when a dependency ends without success; absent means cancel_dependents. */
  onDependencyFailure?: DependencyFailurePolicy;
  /** The submitter's estimate of one attempt's cost, reserved against the budget while it runs. */
  estimatedCost?: number;
  /** The sum of the attempts' reported costs (absent: none reported). */
  cost?: number;
  /** The most one attempt may cost; reaching it stops the attempt (absent: no ceiling). */
  costCeiling?: number;
  /**
   * Set when the coordinator stopped a running job for its product's budget (wall-clock): the
   * factory's confirmation then ends the job failed with this reason instead of cancelled.
   */
  budgetStopReason?: string | undefined;
  /** When an operator last requeued the job: its wall-clock budget counts running time from here. */
  requeuedAt?: number;
  /** The tracker item the job was made from (TrackerService); its changes are echoed to the tracker. */
  tracker?: TrackerLink;
  /**
   * When the submit asked the job to run (run_at, or submit time + delay); absent for a job that
   * may run at once. notBefore starts here; releasing a blocked job never moves it earlier.
   */
  runAt?: number;
  /** At most concurrencyLimit jobs with this key hold a lease at once (absent: no key). */
  concurrencyKey?: string;
  concurrencyLimit?: number;
  /** The schedule whose run this job is (absent: submitted directly). */
  scheduleId?: string;
  /** Who must approve the work and who has (absent: any operator ships it). */
  review?: ReviewRouting;
  /** Artifacts of dependencies fetched into the work dir before each attempt (`from` is a job id). */
  inputs?: JobInput[];
}

/** Where a job came from in an issue tracker. The external id never changes for a job. */
export interface TrackerLink {
  externalId: string;
  /** The item's web address; empty when the tracker gave none. */
  url: string;
  /** The item's labels as last ingested (template values, not factory requirements). */
  labels: Record<string, string>;
}

/** A job event: (jobId, revision) identifies it, so appending it twice stores it once. */
export interface JobEventRecord {
  jobId: string;
  productId: string;
  revision: number;
  epoch: number;
  fromStage: JobStage | null;
  toStage: JobStage;
  kind: string;
  actor: string;
  message: string;
  at: number;
}

export const LOG_STREAMS = ['stdout', 'stderr'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** A piece of an attempt's output: (jobId, epoch, sequence) identifies it. */
export interface LogChunkRecord {
  jobId: string;
  epoch: number;
  sequence: number;
  stream: LogStream;
  data: Uint8Array;
  at: number;
}

/** What a client may choose when it submits a job; the rest is the coordinator's. */
export interface JobSpec {
  productId: string;
  title: string;
  command: string[];
  env: Record<string, string>;
  requiredLabels: LabelRequirement[];
  priority: number;
  idempotencyKey: string;
  maxAttempts: number;
  timeoutMs: number;
  /** This job's scoring weight overrides (over the product's and the defaults); absent = none. */
  weights?: Partial<Record<string, number>>;
  /** Ids of jobs this one waits for (each must exist). */
  dependsOn?: string[];
  /** What happens when a dependency ends without success; absent means cancel_dependents. */
  onDependencyFailure?: DependencyFailurePolicy;
  /** A successful attempt goes to awaiting_review instead of succeeded. */
  requireReview?: boolean;
  /** A successful attempt waits for every child (AddChildren) to succeed. */
  completeWithChildren?: boolean;
  /** The estimated cost of one attempt (finite, not negative); absent or 0 means none given. */
  estimatedCost?: number;
  /** The most one attempt may cost while it runs (finite, not negative); absent or 0 means none. */
  costCeiling?: number;
  /** Set by tracker ingest only. */
  tracker?: TrackerLink;
  /** Run no earlier than this time (epoch ms); at most one of runAt and delayMs. */
  runAt?: number;
  /** Run no earlier than this long after the submit. */
  delayMs?: number;
  /** At most concurrencyLimit (default 1) jobs with this key hold a lease at once. */
  concurrencyKey?: string;
  concurrencyLimit?: number;
  /** Set by the schedule ticker only. */
  scheduleId?: string;
  /** Who may approve the work (API key names, "group:<name>"); implies requireReview. */
  reviewers?: string[];
  /** Approvals needed (N of the reviewers); absent: the product's default, or 1. */
  requiredApprovals?: number;
  /** Set by the coordinator from reviewers, requiredApprovals and the product's review policy. */
  review?: ReviewRouting;
  /** Artifacts of dependencies to fetch into the work dir (domain/job-inputs.ts). */
  inputs?: JobInput[];
}

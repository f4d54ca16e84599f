/**
 * Mapping between the domain's plain records and the protobuf wire types. The only place that knows
 * both, so the rules never see a bigint, an enum number or a Timestamp.
 */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  AttemptOutcome,
  DependencyFailurePolicy,
  JobStage,
  LabelOperator,
  type Job,
  type JobEvent,
  AttemptSchema,
  ScoreBreakdownSchema,
  ScoringWeightsSchema,
  type ScoreBreakdown,
  type ScoringWeights,
  JobEventSchema,
  JobSchema,
  LabelRequirementSchema,
  LeaseSchema,
} from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { LogChunkSchema, LogStream, type LogChunk } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import type * as domain from '../domain/job.js';
import { reviewToWire } from './review-wire.js';
import { WEIGHT_NAMES, type SchedulingWeights } from '../domain/scheduler.js';

/** Domain stage name ↔ wire enum, in both directions from one table. */
const STAGE_TO_WIRE: Record<domain.JobStage, JobStage> = {
  queued: JobStage.QUEUED,
  blocked: JobStage.BLOCKED,
  leased: JobStage.LEASED,
  running: JobStage.RUNNING,
  succeeded: JobStage.SUCCEEDED,
  failed: JobStage.FAILED,
  cancelled: JobStage.CANCELLED,
  dead: JobStage.DEAD,
  awaiting_review: JobStage.AWAITING_REVIEW,
  shipped: JobStage.SHIPPED,
  rejected: JobStage.REJECTED,
};

/** Domain dependency-failure policy ↔ wire enum. */
const POLICY_TO_WIRE: Record<domain.DependencyFailurePolicy, DependencyFailurePolicy> = {
  cancel_dependents: DependencyFailurePolicy.CANCEL_DEPENDENTS,
  leave_blocked: DependencyFailurePolicy.LEAVE_BLOCKED,
};
const POLICY_FROM_WIRE = invert(POLICY_TO_WIRE);
export const policyToWire = (p: domain.DependencyFailurePolicy): DependencyFailurePolicy => POLICY_TO_WIRE[p];
/** Undefined for UNSPECIFIED (the default) and unknown numbers. */
export const policyFromWire = (p: DependencyFailurePolicy): domain.DependencyFailurePolicy | undefined => POLICY_FROM_WIRE.get(p);
const STAGE_FROM_WIRE = invert(STAGE_TO_WIRE);

export const OPERATOR_TO_WIRE: Record<domain.LabelOperator, LabelOperator> = {
  equals: LabelOperator.EQUALS,
  in: LabelOperator.IN,
  not_in: LabelOperator.NOT_IN,
  exists: LabelOperator.EXISTS,
  not_exists: LabelOperator.NOT_EXISTS,
  gte: LabelOperator.GREATER_OR_EQUAL,
  lte: LabelOperator.LESS_OR_EQUAL,
};
const OPERATOR_FROM_WIRE = invert(OPERATOR_TO_WIRE);

const OUTCOME_TO_WIRE: Record<domain.AttemptOutcome, AttemptOutcome> = {
  succeeded: AttemptOutcome.SUCCEEDED,
  failed: AttemptOutcome.FAILED,
  timed_out: AttemptOutcome.TIMED_OUT,
  lease_expired: AttemptOutcome.LEASE_EXPIRED,
  cancelled: AttemptOutcome.CANCELLED,
  preempted: AttemptOutcome.PREEMPTED,
  released: AttemptOutcome.RELEASED,
};
const OUTCOME_FROM_WIRE = invert(OUTCOME_TO_WIRE);

const STREAM_TO_WIRE: Record<domain.LogStream, LogStream> = {
  stdout: LogStream.STDOUT,
  stderr: LogStream.STDERR,
};
const STREAM_FROM_WIRE = invert(STREAM_TO_WIRE);

export const stageToWire = (s: domain.JobStage): JobStage => STAGE_TO_WIRE[s];
/** Undefined for UNSPECIFIED and unknown numbers: callers turn that into INVALID_ARGUMENT. */
export const stageFromWire = (s: JobStage): domain.JobStage | undefined => STAGE_FROM_WIRE.get(s);
export const operatorFromWire = (o: LabelOperator): domain.LabelOperator | undefined => OPERATOR_FROM_WIRE.get(o);
export const outcomeFromWire = (o: AttemptOutcome): domain.AttemptOutcome | undefined => OUTCOME_FROM_WIRE.get(o);
export const streamFromWire = (s: LogStream): domain.LogStream | undefined => STREAM_FROM_WIRE.get(s);

export function jobToWire(job: domain.JobRecord): Job {
  return create(JobSchema, {
    id: job.id,
    productId: job.productId,
    title: job.title,
    command: job.command,
    env: job.env,
    requiredLabels: job.requiredLabels.map((r) =>
      create(LabelRequirementSchema, { key: r.key, operator: OPERATOR_TO_WIRE[r.operator], values: r.values }),
    ),
    priority: job.priority,
    idempotencyKey: job.idempotencyKey,
    maxAttempts: job.maxAttempts,
    timeout: durationFromMs(job.timeoutMs),
    stage: STAGE_TO_WIRE[job.stage],
    epoch: BigInt(job.epoch),
    attemptCount: job.attemptCount,
    attempts: job.attempts.map((a) =>
      create(AttemptSchema, {
        epoch: BigInt(a.epoch),
        factoryId: a.factoryId,
        offerTime: timestampFromMs(a.offeredAt),
        startTime: optionalTime(a.startedAt),
        endTime: optionalTime(a.endedAt),
        outcome: a.outcome ? OUTCOME_TO_WIRE[a.outcome] : AttemptOutcome.UNSPECIFIED,
        exitCode: a.exitCode ?? undefined,
        message: a.message,
        decision: a.decision ? scoreToWire(a.decision) : undefined,
        cost: a.cost ?? 0,
      }),
    ),
    lease: job.lease
      ? create(LeaseSchema, {
          factoryId: job.lease.factoryId,
          epoch: BigInt(job.lease.epoch),
          expireTime: timestampFromMs(job.lease.expiresAt),
        })
      : undefined,
    createTime: timestampFromMs(job.createdAt),
    updateTime: timestampFromMs(job.updatedAt),
    startTime: optionalTime(job.startedAt),
    endTime: optionalTime(job.endedAt),
    notBeforeTime: timestampFromMs(job.notBefore),
    exitCode: job.exitCode ?? undefined,
    result: job.result,
    cancelRequestTime: optionalTime(job.cancelRequestedAt),
    revision: BigInt(job.revision),
    reason: job.reason,
    preemptionStreak: job.preemptionStreak,
    dependsOn: job.dependsOn ?? [],
    dependents: job.dependents ?? [],
    parentId: job.parentId ?? '',
    children: job.children ?? [],
    requireReview: job.requireReview ?? false,
    completeWithChildren: job.completeWithChildren ?? false,
    onDependencyFailure: job.dependsOn?.length ? POLICY_TO_WIRE[job.onDependencyFailure ?? 'cancel_dependents'] : DependencyFailurePolicy.UNSPECIFIED,
    estimatedCost: job.estimatedCost ?? 0,
    cost: job.cost ?? 0,
    costCeiling: job.costCeiling ?? 0,
    externalId: job.tracker?.externalId ?? '',
    externalUrl: job.tracker?.url ?? '',
    externalLabels: job.tracker?.labels ?? {},
    runAt: job.runAt !== undefined ? timestampFromMs(job.runAt) : undefined,
    concurrencyKey: job.concurrencyKey ?? '',
    concurrencyLimit: job.concurrencyLimit ?? 0,
    scheduleId: job.scheduleId ?? '',
    review: job.review ? reviewToWire(job.review) : undefined,
    inputs: job.inputs ?? [],
  });
}

export function eventToWire(event: domain.JobEventRecord, job: domain.JobRecord | null): JobEvent {
  return create(JobEventSchema, {
    jobId: event.jobId,
    revision: BigInt(event.revision),
    epoch: BigInt(event.epoch),
    fromStage: event.fromStage ? STAGE_TO_WIRE[event.fromStage] : JobStage.UNSPECIFIED,
    toStage: STAGE_TO_WIRE[event.toStage],
    kind: event.kind,
    actor: event.actor,
    message: event.message,
    time: timestampFromMs(event.at),
    job: job ? jobToWire(job) : undefined,
  });
}

export function logChunkToWire(chunk: domain.LogChunkRecord): LogChunk {
  return create(LogChunkSchema, {
    jobId: chunk.jobId,
    epoch: BigInt(chunk.epoch),
    sequence: BigInt(chunk.sequence),
    stream: STREAM_TO_WIRE[chunk.stream],
    data: chunk.data,
    time: timestampFromMs(chunk.at),
  });
}

/** Set fields only: an unset weight means "not overridden". */
export function weightsFromWire(w: ScoringWeights): Partial<SchedulingWeights> {
  const out: Partial<SchedulingWeights> = {};
  for (const name of WEIGHT_NAMES) {
    const value = w[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function weightsToWire(w: Partial<Record<string, number>>): ScoringWeights {
  return create(ScoringWeightsSchema, Object.fromEntries(WEIGHT_NAMES.filter((n) => w[n] !== undefined).map((n) => [n, w[n]])));
}

export function scoreToWire(score: { total: number; terms: Record<string, number> }): ScoreBreakdown {
  return create(ScoreBreakdownSchema, {
    total: score.total,
    priority: score.terms.priority ?? 0,
    aging: score.terms.aging ?? 0,
    affinity: score.terms.affinity ?? 0,
    load: score.terms.load ?? 0,
    fairShare: score.terms.fairShare ?? 0,
    costClass: score.terms.costClass ?? 0,
  });
}

function optionalTime(ms: number | null): Timestamp | undefined {
  return ms === null ? undefined : timestampFromMs(ms);
}

function invert<K extends string, V>(table: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(table).map(([k, v]) => [v as V, k as K]));
}

/**
 * The job state machine. Every function takes the current record and returns the next one plus the
 * event that describes the change, or throws a DomainError saying why the change is not allowed.
 * Nothing here does I/O: the coordinator reads, calls one of these, and compare-and-sets the result.
 *
 *   queued ──offer──▶ leased ──accept──▶ running ──complete──▶ succeeded | failed | cancelled
 *     ▲                 │                  │
 *     └──release/expire─┘◀──expire/retry───┘──expire (attempts used up)──▶ dead
 *
 * Workflows (see dag.ts for the blocked → queued rules):
 *   submit with dependencies ──▶ blocked ──all succeeded──▶ queued
 *   success with require_review ──▶ awaiting_review ──ship──▶ shipped | ──reject──▶ rejected
 *   success with complete_with_children ──▶ blocked (awaiting children) ──▶ succeeded | failed
 *   failed | dead | cancelled | rejected | awaiting_review ──requeue──▶ queued (or blocked)
 */
import { assertEligible, assertMayApprove, reviewSummary, withApproval } from './review.js';
import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import { DomainError, failedPrecondition, invalidArgument, staleEpoch } from './errors.js';
import { requestedStart } from './job-spec.js';
import {
  isFinal,
  type AttemptOutcome,
  type AttemptRecord,
  type JobEventRecord,
  type JobRecord,
  type JobSpec,
  type JobStage,
} from './job.js';

export interface LeaseTimings {
  /** How long a factory has to accept an offer. */
  offerTimeoutMs: number;
  /** How long a running lease lasts without a renewing heartbeat. */
  leaseTtlMs: number;
}

/** A change to one job: the record to compare-and-set, and the event to append (none for renewals). */
export interface JobChange {
  job: JobRecord;
  event: JobEventRecord | null;
}

/** How an attempt ended, as the factory reports it. */
export interface AttemptReport {
  outcome: Extract<AttemptOutcome, 'succeeded' | 'failed' | 'timed_out' | 'cancelled'>;
  exitCode: number | null;
  message: string;
  /** What the attempt cost (absent or 0 when the factory reported nothing). */
  cost?: number;
}

/** Who caused a change, recorded on its event. */
export type Actor = string;

export function newJob(input: JobSpec, id: string, now: number, actor: Actor, parentId?: string): JobChange {
  const runAt = requestedStart(input, now);
  const { delayMs: _delay, runAt: _runAt, ...spec } = input;
  void _delay, void _runAt;
  const waitsFor = spec.dependsOn?.length ?? 0;
  const job: JobRecord = {
    ...spec,
    ...(runAt !== null ? { runAt } : {}),
    ...(parentId ? { parentId } : {}),
    id,
    stage: waitsFor > 0 ? 'blocked' : 'queued',
    epoch: 0,
    attemptCount: 0,
    attempts: [],
    lease: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    endedAt: null,
    notBefore: runAt ?? now,
    exitCode: null,
    result: '',
    cancelRequestedAt: null,
    revision: 1,
    reason:
      waitsFor > 0
        ? `waiting for ${waitsFor} ${waitsFor === 1 ? 'dependency' : 'dependencies'}: ${spec.dependsOn!.join(', ')}`
        : runAt !== null
          ? scheduledReason(runAt)
          : '',
    preemptionStreak: 0,
    lastPreemptedAt: null,
  };
  return { job, event: eventFor(null, job, 'submitted', actor, '') };
}

/** The reason a delayed job shows until it may run. */
export function scheduledReason(runAt: number): string {
  return `scheduled to run at ${iso(runAt)}`;
}

/** Grants a queued job to a factory under a new epoch; the factory must accept before the deadline. */
export function offer(
  job: JobRecord,
  factoryId: string,
  now: number,
  timings: LeaseTimings,
  decision: AttemptRecord['decision'] = null,
): JobChange {
  assertStage(job, ['queued'], 'offer');
  if (job.notBefore > now) throw failedPrecondition(`job ${job.id} is backing off until ${iso(job.notBefore)}`);
  const epoch = job.epoch + 1;
  const attempt: AttemptRecord = {
    epoch,
    factoryId,
    offeredAt: now,
    startedAt: null,
    endedAt: null,
    outcome: null,
    exitCode: null,
    message: '',
    decision,
  };
  return change(job, now, 'offered', `factory:${factoryId}`, '', {
    stage: 'leased',
    epoch,
    lease: { factoryId, epoch, expiresAt: now + timings.offerTimeoutMs },
    attempts: [...job.attempts, attempt],
    reason: '',
  });
}

/** The factory took the offer: the job runs and the attempt counts. */
export function accept(
  job: JobRecord,
  factoryId: string,
  epoch: number,
  now: number,
  timings: LeaseTimings,
): JobChange {
  assertLeaseHolder(job, factoryId, epoch);
  assertStage(job, ['leased'], 'accept');
  return change(job, now, 'started', `factory:${factoryId}`, '', {
    stage: 'running',
    attemptCount: job.attemptCount + 1,
    lease: { factoryId, epoch, expiresAt: now + timings.leaseTtlMs },
    attempts: updateAttempt(job, epoch, { startedAt: now }),
    startedAt: now,
  });
}

/** A heartbeat listed the job: push its lease out. No event: renewals are not news. */
export function renew(
  job: JobRecord,
  factoryId: string,
  epoch: number,
  now: number,
  timings: LeaseTimings,
): JobChange {
  assertLeaseHolder(job, factoryId, epoch);
  assertStage(job, ['running'], 'renew');
  const expiresAt = Math.max(job.lease?.expiresAt ?? 0, now + timings.leaseTtlMs);
  return { job: { ...job, lease: { factoryId, epoch, expiresAt }, revision: job.revision + 1, updatedAt: now }, event: null };
}

/**
 * The holder's stream broke: its lease now lapses at `until` (if that is sooner), so the reaper takes
 * the job back within the reconnect grace instead of the whole TTL; a factory that reconnects before
 * then renews it as usual. Null (no write) when the lease is no longer this holder's at `epoch`, runs
 * out sooner anyway, or was pushed past `knownExpiresAt` — renewed by the factory from a new stream
 * (on another replica, say) since the one that broke last wrote it. No event, like a renewal.
 */
export function shortenLease(job: JobRecord, factoryId: string, epoch: number, until: number, now: number, knownExpiresAt: number): JobChange | null {
  const lease = job.lease;
  if (!lease || lease.factoryId !== factoryId || lease.epoch !== epoch || job.epoch !== epoch) return null;
  if (lease.expiresAt <= until || lease.expiresAt > knownExpiresAt) return null;
  return { job: { ...job, lease: { ...lease, expiresAt: until }, revision: job.revision + 1, updatedAt: now }, event: null };
}

/**
 * The factory declined the offer or let it lapse, or the coordinator took back a claim it had not
 * sent yet (its concurrency key went over the limit through another replica's claim): back to the
 * queue, no attempt used.
 */
export function release(job: JobRecord, epoch: number, now: number, kind: 'declined' | 'offer_expired' | 'unclaimed', message: string): JobChange {
  assertEpoch(job, epoch);
  assertStage(job, ['leased'], 'release');
  // A decline is the factory's doing; a lapsed offer is the reaper's (the fleet tells the factory
  // about changes it did not make itself, and metrics count the reaper's expiries by this actor).
  const actor = kind === 'offer_expired' ? 'reaper' : kind === 'unclaimed' || !job.lease ? 'coordinator' : `factory:${job.lease.factoryId}`;
  return change(job, now, kind, actor, message, {
    stage: 'queued',
    lease: null,
    attempts: updateAttempt(job, epoch, { endedAt: now, outcome: 'released', message }),
    reason: message,
  });
}

/**
 * A running attempt's cost so far, as its factory reports it (a total, so a repeated or late report
 * lower than the recorded one changes nothing: null). The job's and its product's spend move now,
 * not at the end. At the job's cost ceiling the attempt is stopped like a budget stop: cancelled
 * with the grace, and the job fails with the reason.
 */
export function meterCost(job: JobRecord, factoryId: string, epoch: number, total: number, now: number): JobChange | null {
  assertLeaseHolder(job, factoryId, epoch);
  if (job.stage !== 'running') return null; // its accept is still being written: the next report counts
  const before = job.attempts.find((a) => a.epoch === epoch)?.cost ?? 0;
  if (total <= before) return null;
  const patch: Partial<JobRecord> = { attempts: updateAttempt(job, epoch, { cost: total, costAt: now }), cost: (job.cost ?? 0) - before + total };
  const ceiling = job.costCeiling;
  if (ceiling && total >= ceiling && job.budgetStopReason === undefined) {
    const reason = `cost ceiling ${ceiling.toFixed(2)} reached at ${total.toFixed(2)}`;
    return change(job, now, 'cancel_requested', 'budget', reason, { ...patch, cancelRequestedAt: job.cancelRequestedAt ?? now, budgetStopReason: reason, reason });
  }
  return { job: { ...job, ...patch, revision: job.revision + 1, updatedAt: now }, event: null };
}

/** The factory reported how the attempt ended. Only one result per epoch can ever land. */
export function complete(
  job: JobRecord,
  factoryId: string,
  epoch: number,
  report: AttemptReport,
  now: number,
  retry: BackoffPolicy,
  random: number,
): JobChange {
  assertLeaseHolder(job, factoryId, epoch);
  assertStage(job, ['running'], 'complete');
  const attempts = updateAttempt(job, epoch, {
    endedAt: now,
    outcome: report.outcome,
    exitCode: report.exitCode,
    message: report.message,
    ...(report.cost ? { cost: report.cost } : {}),
  });
  const actor = `factory:${factoryId}`;
  // The spend is recorded in the same compare-and-set as the outcome: durable with it, fenced by the
  // epoch, and counted once (a resent result finds the outcome recorded and writes nothing).
  // The attempt's total replaces what it reported while it ran (meterCost), never adds to it.
  const metered = job.attempts.find((a) => a.epoch === epoch)?.cost ?? 0;
  const spend = report.cost ? { cost: (job.cost ?? 0) - metered + report.cost } : {};
  const ended = { lease: null, attempts, exitCode: report.exitCode, result: report.message, ...spend };
  if (report.outcome === 'succeeded') {
    const children = job.children?.length ?? 0;
    if (job.completeWithChildren && children > 0) {
      return change(job, now, 'awaiting_children', actor, report.message, {
        ...ended,
        stage: 'blocked',
        awaitingChildren: true,
        reason: `its own work succeeded; waiting for ${children} ${children === 1 ? 'child' : 'children'}`,
      });
    }
    return workSucceeded(job, now, 'succeeded', actor, report.message, ended);
  }
  if (job.budgetStopReason !== undefined) {
    // Stopped for its budget (and it did not succeed first): failed, without a retry, since a retry
    // would count against the same used-up budget.
    return change(job, now, 'failed', actor, job.budgetStopReason, { ...ended, stage: 'failed', endedAt: now, reason: job.budgetStopReason });
  }
  if (report.outcome === 'cancelled' || job.cancelRequestedAt !== null) {
    return change(job, now, 'cancelled', actor, report.message, { ...ended, stage: 'cancelled', endedAt: now, reason: 'cancelled by request' });
  }
  const why = report.outcome === 'timed_out' ? `timed out after ${job.timeoutMs} ms` : `exited with code ${report.exitCode ?? 'none'}`;
  return retryOrEnd(job, now, retry, random, ended, 'failed', `attempt ${job.attemptCount} ${why}`, actor);
}

/**
 * The factory stopped the job after a preemption notice: it goes back to the queue at once and the
 * attempt does not count against max_attempts. The checkpoint note is kept on the attempt.
 */
export function preempted(job: JobRecord, factoryId: string, epoch: number, now: number, checkpoint: string): JobChange {
  assertLeaseHolder(job, factoryId, epoch);
  assertStage(job, ['running'], 'preempt');
  const message = checkpoint ? `preempted; checkpoint: ${checkpoint}` : 'preempted';
  const attempts = updateAttempt(job, epoch, { endedAt: now, outcome: 'preempted', message });
  const actor = `factory:${factoryId}`;
  if (job.budgetStopReason !== undefined) {
    // Already stopped for its budget: it does not go back to the queue to run over budget again.
    return change(job, now, 'failed', actor, job.budgetStopReason, { stage: 'failed', lease: null, attempts, endedAt: now, reason: job.budgetStopReason });
  }
  if (job.cancelRequestedAt !== null) {
    // Cancelled during the preemption's grace: it stopped, and the cancel says where it goes.
    return change(job, now, 'cancelled', actor, message, { stage: 'cancelled', lease: null, attempts, endedAt: now, reason: 'cancelled by request' });
  }
  return change(job, now, 'preempted', actor, message, {
    stage: 'queued',
    lease: null,
    attemptCount: job.attemptCount - 1,
    attempts,
    notBefore: now,
    preemptionStreak: job.preemptionStreak + 1,
    lastPreemptedAt: now,
    reason: 'preempted to make room for a job of higher priority',
  });
}

/**
 * The factory stopped a running job unfinished because it is shutting down (its drain ran out of
 * time) and gave the lease back: the job is queued again at once without using up an attempt, since
 * it did nothing wrong. A job already asked to stop (a cancel, its wall-clock budget) ends as that
 * stop would have ended it.
 */
export function handedBack(job: JobRecord, factoryId: string, epoch: number, now: number, reason: string): JobChange {
  assertLeaseHolder(job, factoryId, epoch);
  assertStage(job, ['running'], 'hand back');
  const message = `handed back by the factory: ${reason || 'shutting down'}`;
  const actor = `factory:${factoryId}`;
  const ended = { lease: null, attempts: updateAttempt(job, epoch, { endedAt: now, outcome: 'released', message }) };
  if (job.budgetStopReason !== undefined) {
    return change(job, now, 'failed', actor, job.budgetStopReason, { ...ended, stage: 'failed', endedAt: now, reason: job.budgetStopReason });
  }
  if (job.cancelRequestedAt !== null) {
    return change(job, now, 'cancelled', actor, message, { ...ended, stage: 'cancelled', endedAt: now, reason: 'cancelled by request' });
  }
  return change(job, now, 'handed_back', actor, message, { ...ended, stage: 'queued', attemptCount: job.attemptCount - 1, notBefore: now, reason: message });
}

/**
 * The lease lapsed (no heartbeat in time, or the factory came back without the job). An offer that
 * lapsed is a release; a running attempt counts as used and the job retries or is dead-lettered.
 */
export function expire(
  job: JobRecord,
  now: number,
  retry: BackoffPolicy,
  random: number,
  message: string,
): JobChange {
  assertStage(job, ['leased', 'running'], 'expire');
  if (job.stage === 'leased') return release(job, job.epoch, now, 'offer_expired', message);
  const attempts = updateAttempt(job, job.epoch, { endedAt: now, outcome: 'lease_expired', message });
  const ended = { lease: null, attempts };
  if (job.budgetStopReason !== undefined) {
    return change(job, now, 'failed', 'reaper', message, { ...ended, stage: 'failed', endedAt: now, reason: job.budgetStopReason });
  }
  if (job.cancelRequestedAt !== null) {
    return change(job, now, 'cancelled', 'reaper', message, { ...ended, stage: 'cancelled', endedAt: now, reason: 'cancelled by request' });
  }
  return retryOrEnd(job, now, retry, random, ended, 'dead', `attempt ${job.attemptCount} lost its lease: ${message}`, 'reaper');
}

/**
 * An operator cancels. Jobs not yet running end at once; a running job is marked and keeps its lease
 * until its factory confirms (complete with 'cancelled') or the lease lapses. Returns null when a
 * cancellation is already pending, so repeating the call changes nothing.
 */
export function cancel(job: JobRecord, now: number, actor: Actor, reason: string): JobChange | null {
  if (isFinal(job.stage)) throw failedPrecondition(`job ${job.id} is already ${job.stage}; only unfinished jobs can be cancelled`);
  const message = reason || 'cancelled';
  if (job.stage === 'running') {
    if (job.cancelRequestedAt !== null) return null;
    return change(job, now, 'cancel_requested', actor, message, { cancelRequestedAt: now, reason: message });
  }
  const attempts = job.stage === 'leased' ? updateAttempt(job, job.epoch, { endedAt: now, outcome: 'cancelled', message }) : job.attempts;
  return change(job, now, 'cancelled', actor, message, { stage: 'cancelled', lease: null, attempts, endedAt: now, cancelRequestedAt: now, reason: message });
}

/**
 * The coordinator stops a running job that used up its product's wall-clock budget: like a cancel,
 * its factory is told to stop it (the 'cancel_requested' event does that), and the confirmation (or
 * the lease lapsing) ends it failed with `reason`. Null when a stop is already pending.
 */
export function stopForBudget(job: JobRecord, now: number, reason: string): JobChange | null {
  assertStage(job, ['running'], 'stop');
  if (job.budgetStopReason !== undefined) return null;
  return change(job, now, 'cancel_requested', 'budget', reason, { cancelRequestedAt: job.cancelRequestedAt ?? now, budgetStopReason: reason, reason });
}

/**
 * The job's work is done and successful (its attempt, and its children when it waits for them): it
 * succeeds, or waits for review when it requires one.
 */
export function workSucceeded(job: JobRecord, now: number, kind: string, actor: Actor, message: string, patch: Partial<JobRecord> = {}): JobChange {
  if (job.requireReview) {
    const reason = job.review ? `waiting for review: ${reviewSummary(job.review)}` : 'waiting for an operator to ship or reject it';
    return change(job, now, 'awaiting_review', actor, message, { ...patch, ...notAwaitingChildren(job), stage: 'awaiting_review', reason });
  }
  return change(job, now, kind, actor, message, { ...patch, ...notAwaitingChildren(job), stage: 'succeeded', endedAt: now, reason: '' });
}

/** Clears a budget stop, without adding the field to records that never had it. */
function withoutBudgetStop(job: JobRecord): Partial<JobRecord> {
  return job.budgetStopReason !== undefined ? { budgetStopReason: undefined } : {};
}

/** Clears the children-wait flag, without adding the field to records that never had it. */
function notAwaitingChildren(job: JobRecord): Partial<JobRecord> {
  return job.awaitingChildren ? { awaitingChildren: false } : {};
}

/**
 * An operator ships a reviewed job: it is done, and counts as success for its dependents. A job
 * with review routing records the caller's approval instead, and ships with the last one needed;
 * null when the caller had approved already (a repeated call changes nothing).
 */
export function ship(job: JobRecord, now: number, actor: Actor, note: string): JobChange | null {
  assertStage(job, ['awaiting_review'], 'ship');
  if (!job.review) return change(job, now, 'shipped', actor, note, { stage: 'shipped', endedAt: now, reason: note ? `shipped: ${note}` : '' });
  assertMayApprove(job.review, job.id, actor);
  const review = withApproval(job.review, actor, now, note);
  if (!review) return null;
  const summary = reviewSummary(review);
  if (review.approvals.length < review.required) return change(job, now, 'approved', actor, note ? `${summary} (${note})` : summary, { review, reason: `waiting for review: ${summary}` });
  return change(job, now, 'shipped', actor, note ? `${summary} (${note})` : summary, { review, stage: 'shipped', endedAt: now, reason: `shipped: ${summary}` });
}

/** An operator (with review routing: an eligible reviewer) rejects a reviewed job; the reason is required and recorded. */
export function reject(job: JobRecord, now: number, actor: Actor, reason: string): JobChange {
  const why = reason.trim();
  if (!why) throw invalidArgument(`reason is required to reject job ${job.id} (say what was wrong with the work)`);
  assertStage(job, ['awaiting_review'], 'reject');
  if (job.review) assertEligible(job.review, job.id, actor, 'reject');
  return change(job, now, 'rejected', actor, why, { stage: 'rejected', endedAt: now, reason: `rejected: ${why}` });
}

/** Stages an operator may requeue a job from. */
export const REQUEUEABLE_STAGES: readonly JobStage[] = ['failed', 'dead', 'cancelled', 'rejected', 'awaiting_review'];

/**
 * An operator sends a job back to run again with a fresh allowance of attempts (attemptCount starts
 * over; the attempt history is kept). The next offer increments the epoch as every offer does. A job
 * with dependencies goes to blocked, where the usual rule releases it once they have all succeeded.
 */
export function requeue(job: JobRecord, now: number, actor: Actor, note: string): JobChange {
  assertStage(job, REQUEUEABLE_STAGES, 'requeue');
  const stage: JobStage = (job.dependsOn?.length ?? 0) > 0 ? 'blocked' : 'queued';
  return change(job, now, 'requeued', actor, note, {
    stage,
    lease: null,
    attemptCount: 0,
    endedAt: null,
    exitCode: null,
    result: '',
    cancelRequestedAt: null,
    notBefore: now,
    preemptionStreak: 0,
    lastPreemptedAt: null,
    ...notAwaitingChildren(job),
    ...withoutBudgetStop(job),
    ...(job.review ? { review: { ...job.review, approvals: [] } } : {}), // new work needs new approvals
    requeuedAt: now,
    reason: `requeued by ${actor}${note ? `: ${note}` : ''}`,
  });
}

/**
 * Records a new reason on a job without moving it (why a blocked job still waits). Null when the
 * reason is already the recorded one, so repeating it writes nothing.
 */
export function noteReason(job: JobRecord, reason: string, now: number, kind = 'waiting'): JobChange | null {
  if (job.reason === reason) return null;
  return change(job, now, kind, 'coordinator', reason, { reason });
}

/**
 * Records why a queued job is waiting (for example: no connected factory has its labels), so the
 * wait is visible on the job instead of silent. Null when that is already the recorded reason.
 */
export function noteWaiting(job: JobRecord, reason: string, now: number): JobChange | null {
  if (job.stage !== 'queued' || job.reason === reason) return null;
  return change(job, now, 'waiting', 'coordinator', reason, { reason });
}

/** Throws unless `epoch` is the job's current epoch: the fencing check every factory message passes. */
export function assertEpoch(job: JobRecord, epoch: number): void {
  if (epoch !== job.epoch) {
    throw staleEpoch(`job ${job.id} is at epoch ${job.epoch}; epoch ${epoch} is not current`);
  }
}

/** Fencing plus ownership: the factory must hold the current lease under exactly this epoch. */
export function assertLeaseHolder(job: JobRecord, factoryId: string, epoch: number): void {
  assertEpoch(job, epoch);
  if (!job.lease || job.lease.epoch !== epoch) {
    throw staleEpoch(`job ${job.id} has no lease at epoch ${epoch} (it is ${job.stage})`);
  }
  if (job.lease.factoryId !== factoryId) {
    throw new DomainError('permission_denied', `job ${job.id} epoch ${epoch} is leased to another factory`);
  }
}

function retryOrEnd(
  job: JobRecord,
  now: number,
  retry: BackoffPolicy,
  random: number,
  ended: Partial<JobRecord>,
  finalStage: Extract<JobStage, 'failed' | 'dead'>,
  message: string,
  actor: Actor,
): JobChange {
  if (job.attemptCount < job.maxAttempts) {
    const notBefore = now + backoffDelayMs(job.attemptCount, retry, random);
    return change(job, now, 'retry_scheduled', actor, message, {
      ...ended,
      stage: 'queued',
      notBefore,
      reason: `${message}; retry ${job.attemptCount + 1} of ${job.maxAttempts} not before ${iso(notBefore)}`,
    });
  }
  const reason = `${message}; all ${job.maxAttempts} attempts used`;
  return change(job, now, finalStage, actor, reason, { ...ended, stage: finalStage, endedAt: now, reason });
}

export function assertStage(job: JobRecord, allowed: readonly JobStage[], action: string): void {
  if (!allowed.includes(job.stage)) {
    const expected = allowed.length > 2 ? `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}` : allowed.join(' or ');
    throw failedPrecondition(`cannot ${action} job ${job.id}: it is ${job.stage}, not ${expected}`);
  }
}

function updateAttempt(job: JobRecord, epoch: number, patch: Partial<AttemptRecord>): AttemptRecord[] {
  return job.attempts.map((a) => (a.epoch === epoch ? { ...a, ...patch } : a));
}

/** Applies a patch as one change: revision + 1, updatedAt, and the event describing it. */
export function change(
  prev: JobRecord,
  now: number,
  kind: string,
  actor: Actor,
  message: string,
  patch: Partial<JobRecord>,
): JobChange {
  const job: JobRecord = { ...prev, ...patch, revision: prev.revision + 1, updatedAt: now };
  return { job, event: eventFor(prev.stage, job, kind, actor, message) };
}

function eventFor(from: JobStage | null, job: JobRecord, kind: string, actor: Actor, message: string): JobEventRecord {
  return {
    jobId: job.id,
    productId: job.productId,
    revision: job.revision,
    epoch: job.epoch,
    fromStage: from,
    toStage: job.stage,
    kind,
    actor,
    message,
    at: job.updatedAt,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

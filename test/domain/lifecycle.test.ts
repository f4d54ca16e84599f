/**
 * The job state machine, transition by transition: every legal move, the refusals (wrong stage,
 * stale epoch, another factory's lease, back-off), and a property over random operation sequences.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/domain/backoff.js';
import { DomainError } from '../../src/domain/errors.js';
import { FINAL_STAGES, isFinal, type JobRecord, type JobStage } from '../../src/domain/job.js';
import {
  accept,
  assertEpoch,
  assertLeaseHolder,
  cancel,
  complete,
  expire,
  newJob,
  offer,
  preempted,
  reject,
  release,
  renew,
  shortenLease,
  ship,
  type AttemptReport,
  type JobChange,
} from '../../src/domain/lifecycle.js';
import { expectCode, leased, queued, RETRY, running, spec, T0, TIMINGS } from './helpers.js';

const ok = (message = 'done'): AttemptReport => ({ outcome: 'succeeded', exitCode: 0, message });
const failed = (exitCode = 1): AttemptReport => ({ outcome: 'failed', exitCode, message: 'boom' });
const timedOut: AttemptReport = { outcome: 'timed_out', exitCode: null, message: 'killed' };
const cancelledReport: AttemptReport = { outcome: 'cancelled', exitCode: -15, message: 'stopped' };

/** A job in a final stage, reached through real transitions. */
function finalJob(stage: 'succeeded' | 'failed' | 'cancelled' | 'dead' | 'shipped' | 'rejected'): JobRecord {
  switch (stage) {
    case 'shipped':
      return ship(complete(running('f1', { requireReview: true }), 'f1', 1, ok(), T0, RETRY, 0).job, T0, 'user:a', '')!.job;
    case 'rejected':
      return reject(complete(running('f1', { requireReview: true }), 'f1', 1, ok(), T0, RETRY, 0).job, T0, 'user:a', 'bad').job;
    case 'succeeded':
      return complete(running(), 'f1', 1, ok(), T0, RETRY, 0).job;
    case 'failed':
      return complete(running('f1', { maxAttempts: 1 }), 'f1', 1, failed(), T0, RETRY, 0).job;
    case 'cancelled':
      return cancel(queued(), T0, 'user:a', 'no')!.job;
    case 'dead':
      return expire(running('f1', { maxAttempts: 1 }), T0 + 1, RETRY, 0, 'gone').job;
  }
}

describe('newJob', () => {
  it('creates a queued job at epoch 0, revision 1, runnable now, with a submitted event', () => {
    const { job, event } = newJob(spec({ maxAttempts: 2 }), 'job-9', T0, 'client:ci');
    expect(job).toMatchObject({
      id: 'job-9',
      productId: 'prod-a',
      stage: 'queued',
      epoch: 0,
      attemptCount: 0,
      attempts: [],
      lease: null,
      createdAt: T0,
      updatedAt: T0,
      notBefore: T0,
      startedAt: null,
      endedAt: null,
      cancelRequestedAt: null,
      revision: 1,
      maxAttempts: 2,
    });
    expect(event).toEqual({
      jobId: 'job-9',
      productId: 'prod-a',
      revision: 1,
      epoch: 0,
      fromStage: null,
      toStage: 'queued',
      kind: 'submitted',
      actor: 'client:ci',
      message: '',
      at: T0,
    });
  });
});

describe('offer', () => {
  it('leases a queued job under a new epoch with the offer deadline', () => {
    const before = queued();
    const { job, event } = offer(before, 'f1', T0 + 5, TIMINGS);
    expect(job).toMatchObject({
      stage: 'leased',
      epoch: 1,
      revision: 2,
      updatedAt: T0 + 5,
      attemptCount: 0,
      lease: { factoryId: 'f1', epoch: 1, expiresAt: T0 + 5 + TIMINGS.offerTimeoutMs },
    });
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]).toMatchObject({ epoch: 1, factoryId: 'f1', offeredAt: T0 + 5, startedAt: null, endedAt: null, outcome: null, exitCode: null, message: '' });
    expect(event).toMatchObject({ kind: 'offered', actor: 'factory:f1', fromStage: 'queued', toStage: 'leased', epoch: 1, revision: 2 });
    expect(before.stage).toBe('queued'); // the input record is not touched
    expect(before.attempts).toEqual([]);
  });

  it('gives every grant a fresh epoch', () => {
    let job = queued();
    for (let epoch = 1; epoch <= 3; epoch++) {
      job = offer(job, `f${epoch}`, T0, TIMINGS).job;
      expect(job.epoch).toBe(epoch);
      job = release(job, epoch, T0, 'declined', 'busy').job;
    }
    expect(job.attempts.map((a) => [a.epoch, a.factoryId, a.outcome])).toEqual([
      [1, 'f1', 'released'],
      [2, 'f2', 'released'],
      [3, 'f3', 'released'],
    ]);
    expect(job.attemptCount).toBe(0);
  });

  it.each(['leased', 'running', ...FINAL_STAGES] as JobStage[])('refuses a %s job', (stage) => {
    const job =
      stage === 'leased' ? leased() : stage === 'running' ? running() : finalJob(stage as 'succeeded' | 'failed' | 'cancelled' | 'dead' | 'shipped' | 'rejected');
    const err = expectCode(() => offer(job, 'f2', T0 + 1, TIMINGS), 'failed_precondition');
    expect(err.message).toContain(`it is ${stage}`);
  });

  it('refuses a job that is backing off, and allows it from notBefore on', () => {
    const retried = complete(running(), 'f1', 1, failed(), T0, RETRY, 0.5).job;
    expect(retried.stage).toBe('queued');
    const err = expectCode(() => offer(retried, 'f1', retried.notBefore - 1, TIMINGS), 'failed_precondition');
    expect(err.message).toContain('backing off until');
    expect(offer(retried, 'f1', retried.notBefore, TIMINGS).job.epoch).toBe(2);
  });
});

describe('accept', () => {
  it('starts the job: running, the attempt counts, the lease runs for the TTL', () => {
    const { job, event } = accept(leased(), 'f1', 1, T0 + 100, TIMINGS);
    expect(job).toMatchObject({
      stage: 'running',
      epoch: 1,
      attemptCount: 1,
      startedAt: T0 + 100,
      revision: 3,
      lease: { factoryId: 'f1', epoch: 1, expiresAt: T0 + 100 + TIMINGS.leaseTtlMs },
    });
    expect(job.attempts[0]).toMatchObject({ epoch: 1, startedAt: T0 + 100, outcome: null });
    expect(event).toMatchObject({ kind: 'started', actor: 'factory:f1', fromStage: 'leased', toStage: 'running' });
  });

  it('refuses a stale or future epoch with stale_epoch', () => {
    const job = leased();
    expect(expectCode(() => accept(job, 'f1', 0, T0, TIMINGS), 'stale_epoch').message).toContain('epoch 0 is not current');
    expectCode(() => accept(job, 'f1', 2, T0, TIMINGS), 'stale_epoch');
  });

  it("refuses another factory's lease with permission_denied", () => {
    const err = expectCode(() => accept(leased('f1'), 'f2', 1, T0, TIMINGS), 'permission_denied');
    expect(err.message).toContain('leased to another factory');
  });

  it('refuses a job with no lease at that epoch (released back to the queue)', () => {
    const back = release(leased(), 1, T0, 'offer_expired', 'too slow').job;
    expectCode(() => accept(back, 'f1', 1, T0, TIMINGS), 'stale_epoch');
  });

  it('refuses a second accept of a running job', () => {
    expectCode(() => accept(running(), 'f1', 1, T0, TIMINGS), 'failed_precondition');
  });
});

describe('renew', () => {
  it('pushes the lease out without an event', () => {
    const job = running();
    const { job: renewed, event } = renew(job, 'f1', 1, T0 + 30_000, TIMINGS);
    expect(event).toBeNull();
    expect(renewed.lease).toEqual({ factoryId: 'f1', epoch: 1, expiresAt: T0 + 30_000 + TIMINGS.leaseTtlMs });
    expect(renewed.revision).toBe(job.revision + 1);
    expect(renewed.stage).toBe('running');
    expect(renewed.updatedAt).toBe(T0 + 30_000);
  });

  it('never shortens a lease', () => {
    const job = renew(running(), 'f1', 1, T0 + 30_000, TIMINGS).job;
    const again = renew(job, 'f1', 1, T0 + 10_000, TIMINGS).job; // an older heartbeat processed late
    expect(again.lease!.expiresAt).toBe(T0 + 30_000 + TIMINGS.leaseTtlMs);
  });

  it('refuses a stale epoch, another factory, and a job not running', () => {
    expectCode(() => renew(running(), 'f1', 0, T0, TIMINGS), 'stale_epoch');
    expectCode(() => renew(running('f1'), 'f2', 1, T0, TIMINGS), 'permission_denied');
    expectCode(() => renew(leased(), 'f1', 1, T0, TIMINGS), 'failed_precondition');
    expectCode(() => renew(finalJob('succeeded'), 'f1', 1, T0, TIMINGS), 'stale_epoch');
  });
});

describe('shortenLease', () => {
  const GRACE_END = T0 + 3_000;
  it("brings the holder's lease in to the grace's end, without an event", () => {
    const job = running(); // lease until T0 + TTL
    const change = shortenLease(job, 'f1', 1, GRACE_END, T0 + 1, job.lease!.expiresAt)!;
    expect(change.event).toBeNull();
    expect(change.job.lease).toEqual({ factoryId: 'f1', epoch: 1, expiresAt: GRACE_END });
    expect(change.job).toMatchObject({ stage: 'running', revision: job.revision + 1, updatedAt: T0 + 1 });
  });

  it('changes nothing for another holder or epoch, a lease that ends sooner, or one renewed since', () => {
    const job = running();
    const known = job.lease!.expiresAt;
    expect(shortenLease(job, 'f2', 1, GRACE_END, T0, known)).toBeNull();
    expect(shortenLease(job, 'f1', 0, GRACE_END, T0, known)).toBeNull();
    expect(shortenLease(job, 'f1', 1, known + 1, T0, known)).toBeNull(); // never lengthens
    const renewedElsewhere = renew(job, 'f1', 1, T0 + 500, TIMINGS).job; // the factory came back on a new stream
    expect(shortenLease(renewedElsewhere, 'f1', 1, GRACE_END, T0 + 600, known)).toBeNull();
    expect(shortenLease(queued(), 'f1', 0, GRACE_END, T0, known)).toBeNull();
  });
});

describe('release', () => {
  it.each([
    ['declined', 'factory:f1'],
    ['offer_expired', 'reaper'],
  ] as const)('%s: back to the queue at once, no attempt used (actor %s)', (kind, actor) => {
    const job = leased();
    const { job: back, event } = release(job, 1, T0 + 7, kind, 'no room');
    expect(back).toMatchObject({ stage: 'queued', epoch: 1, lease: null, attemptCount: 0, notBefore: job.notBefore, reason: 'no room' });
    expect(back.attempts[0]).toMatchObject({ epoch: 1, outcome: 'released', endedAt: T0 + 7, message: 'no room' });
    // The actor matters: the fleet does not tell a factory about changes that factory made itself.
    expect(event).toMatchObject({ kind, actor, fromStage: 'leased', toStage: 'queued', epoch: 1 });
  });

  it('refuses a stale epoch and a running job', () => {
    expectCode(() => release(leased(), 0, T0, 'declined', ''), 'stale_epoch');
    expectCode(() => release(running(), 1, T0, 'declined', ''), 'failed_precondition');
    expectCode(() => release(queued(), 0, T0, 'declined', ''), 'failed_precondition');
  });
});

describe('complete', () => {
  it('succeeded: final, with exit code and result, lease dropped', () => {
    const { job, event } = complete(running(), 'f1', 1, ok('all green'), T0 + 9, RETRY, 0);
    expect(job).toMatchObject({ stage: 'succeeded', endedAt: T0 + 9, exitCode: 0, result: 'all green', lease: null, attemptCount: 1, reason: '' });
    expect(job.attempts[0]).toMatchObject({ outcome: 'succeeded', endedAt: T0 + 9, exitCode: 0, message: 'all green' });
    expect(event).toMatchObject({ kind: 'succeeded', actor: 'factory:f1', fromStage: 'running', toStage: 'succeeded' });
  });

  it.each([
    ['failed', failed(3), 'exited with code 3'],
    ['timed_out', timedOut, 'timed out after 600000 ms'],
  ] as const)('%s with attempts left: queued again after a back-off', (_name, report, why) => {
    const random = 0.25;
    const { job, event } = complete(running(), 'f1', 1, report, T0 + 50, RETRY, random);
    expect(job).toMatchObject({ stage: 'queued', epoch: 1, lease: null, attemptCount: 1, endedAt: null });
    expect(job.notBefore).toBe(T0 + 50 + backoffDelayMs(1, RETRY, random));
    expect(job.attempts[0]).toMatchObject({ outcome: report.outcome, exitCode: report.exitCode });
    expect(job.reason).toContain(`attempt 1 ${why}`);
    expect(job.reason).toContain('retry 2 of 3');
    expect(event).toMatchObject({ kind: 'retry_scheduled', actor: 'factory:f1', fromStage: 'running', toStage: 'queued' });
  });

  it.each([['failed', failed()], ['timed_out', timedOut]] as const)('%s on the last attempt: final failed', (_name, report) => {
    const { job, event } = complete(running('f1', { maxAttempts: 1 }), 'f1', 1, report, T0 + 1, RETRY, 0);
    expect(job).toMatchObject({ stage: 'failed', endedAt: T0 + 1, lease: null });
    expect(job.reason).toContain('all 1 attempts used');
    expect(event).toMatchObject({ kind: 'failed', toStage: 'failed' });
  });

  it('counts attempts across retries and fails after the last one', () => {
    let job = queued({ maxAttempts: 2 });
    for (let n = 1; n <= 2; n++) {
      job = offer(job, 'f1', job.notBefore, TIMINGS).job;
      job = accept(job, 'f1', n, job.notBefore, TIMINGS).job;
      job = complete(job, 'f1', n, failed(), job.notBefore, RETRY, 0).job;
    }
    expect(job.stage).toBe('failed');
    expect(job.attemptCount).toBe(2);
    expect(job.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed']);
  });

  it('cancelled: final even with attempts left', () => {
    const { job } = complete(running(), 'f1', 1, cancelledReport, T0, RETRY, 0);
    expect(job).toMatchObject({ stage: 'cancelled', reason: 'cancelled by request', exitCode: -15 });
  });

  it('a failure after a cancel request ends cancelled, a success still succeeds', () => {
    const marked = cancel(running(), T0, 'user:a', 'stop')!.job;
    expect(complete(marked, 'f1', 1, failed(), T0, RETRY, 0).job.stage).toBe('cancelled');
    expect(complete(marked, 'f1', 1, ok(), T0, RETRY, 0).job.stage).toBe('succeeded');
  });

  it('refuses a job not accepted yet, a stale epoch, another factory, and a second result', () => {
    expectCode(() => complete(leased(), 'f1', 1, ok(), T0, RETRY, 0), 'failed_precondition');
    expectCode(() => complete(running(), 'f1', 0, ok(), T0, RETRY, 0), 'stale_epoch');
    expectCode(() => complete(running('f1'), 'f2', 1, ok(), T0, RETRY, 0), 'permission_denied');
    const done = complete(running(), 'f1', 1, ok(), T0, RETRY, 0).job;
    expectCode(() => complete(done, 'f1', 1, ok(), T0, RETRY, 0), 'stale_epoch');
    const retried = complete(running(), 'f1', 1, failed(), T0, RETRY, 0).job;
    expectCode(() => complete(retried, 'f1', 1, ok(), T0, RETRY, 0), 'stale_epoch');
  });

  it('a zombie cannot complete the attempt that replaced it', () => {
    const lost = expire(running('zombie'), T0 + 1, RETRY, 0, 'silent').job;
    let job = offer(lost, 'healthy', lost.notBefore, TIMINGS).job;
    job = accept(job, 'healthy', 2, lost.notBefore, TIMINGS).job;
    expectCode(() => complete(job, 'zombie', 1, ok(), lost.notBefore, RETRY, 0), 'stale_epoch');
    expectCode(() => complete(job, 'zombie', 2, ok(), lost.notBefore, RETRY, 0), 'permission_denied');
  });
});

describe('expire', () => {
  it('a lapsed offer goes back to the queue with no attempt used', () => {
    const { job, event } = expire(leased(), T0 + 1, RETRY, 0, 'no answer');
    expect(job).toMatchObject({ stage: 'queued', attemptCount: 0, lease: null });
    expect(job.attempts[0]!.outcome).toBe('released');
    expect(event).toMatchObject({ kind: 'offer_expired', actor: 'reaper', fromStage: 'leased', toStage: 'queued' });
  });

  it('a lapsed running lease with attempts left retries after a back-off', () => {
    const { job, event } = expire(running(), T0 + 1_000, RETRY, 0.5, 'silent');
    expect(job).toMatchObject({ stage: 'queued', epoch: 1, attemptCount: 1, lease: null });
    expect(job.notBefore).toBe(T0 + 1_000 + backoffDelayMs(1, RETRY, 0.5));
    expect(job.attempts[0]).toMatchObject({ outcome: 'lease_expired', endedAt: T0 + 1_000, message: 'silent' });
    expect(event).toMatchObject({ kind: 'retry_scheduled', actor: 'reaper' });
  });

  it('a lapsed running lease on the last attempt is dead', () => {
    let job = queued({ maxAttempts: 2 });
    for (let n = 1; n <= 2; n++) {
      job = offer(job, 'f1', job.notBefore, TIMINGS).job;
      job = accept(job, 'f1', n, job.notBefore, TIMINGS).job;
      job = expire(job, job.notBefore + 1, RETRY, 0, 'silent').job;
    }
    expect(job).toMatchObject({ stage: 'dead', attemptCount: 2, lease: null });
    expect(job.endedAt).not.toBeNull();
    expect(job.reason).toContain('all 2 attempts used');
    expect(job.attempts.map((a) => a.outcome)).toEqual(['lease_expired', 'lease_expired']);
  });

  it('a lapsed lease of a job whose cancel was requested ends cancelled', () => {
    const marked = cancel(running(), T0, 'user:a', 'stop')!.job;
    const { job } = expire(marked, T0 + 1, RETRY, 0, 'silent');
    expect(job).toMatchObject({ stage: 'cancelled', lease: null });
    expect(job.attempts[0]!.outcome).toBe('lease_expired');
  });

  it.each(['queued', ...FINAL_STAGES] as JobStage[])('refuses a %s job', (stage) => {
    const job = stage === 'queued' ? queued() : finalJob(stage as 'succeeded');
    expectCode(() => expire(job, T0, RETRY, 0, 'x'), 'failed_precondition');
  });
});

describe('preempted', () => {
  it('a preempted job goes back to the queue at once without using up an attempt', () => {
    const { job, event } = preempted(running(), 'f1', 1, T0 + 5, 'step 3');
    expect(job).toMatchObject({ stage: 'queued', attemptCount: 0, lease: null, notBefore: T0 + 5, preemptionStreak: 1 });
    expect(job.attempts[0]).toMatchObject({ outcome: 'preempted', message: 'preempted; checkpoint: step 3' });
    expect(event).toMatchObject({ kind: 'preempted', actor: 'factory:f1' });
  });

  it('a job cancelled during its preemption grace ends cancelled instead of going back to the queue', () => {
    const marked = cancel(running(), T0, 'user:a', 'stop')!.job;
    const { job, event } = preempted(marked, 'f1', 1, T0 + 5, '');
    expect(job).toMatchObject({ stage: 'cancelled', lease: null, endedAt: T0 + 5 });
    expect(job.attempts[0]!.outcome).toBe('preempted');
    expect(event).toMatchObject({ kind: 'cancelled', toStage: 'cancelled' });
  });
});

describe('cancel', () => {
  it('a queued job is cancelled at once', () => {
    const change = cancel(queued(), T0 + 3, 'user:a', 'not needed')!;
    expect(change.job).toMatchObject({ stage: 'cancelled', endedAt: T0 + 3, cancelRequestedAt: T0 + 3, reason: 'not needed', lease: null });
    expect(change.event).toMatchObject({ kind: 'cancelled', actor: 'user:a', fromStage: 'queued', toStage: 'cancelled', message: 'not needed' });
  });

  it('a leased job is cancelled at once and its attempt ends cancelled', () => {
    const { job } = cancel(leased(), T0, 'user:a', '')!;
    expect(job).toMatchObject({ stage: 'cancelled', lease: null, reason: 'cancelled' });
    expect(job.attempts[0]).toMatchObject({ outcome: 'cancelled', endedAt: T0 });
  });

  it('a running job is marked; it keeps its lease until the factory confirms', () => {
    const change = cancel(running(), T0 + 4, 'user:a', 'stop')!;
    expect(change.job).toMatchObject({ stage: 'running', cancelRequestedAt: T0 + 4, lease: { factoryId: 'f1', epoch: 1 } });
    expect(change.event).toMatchObject({ kind: 'cancel_requested', fromStage: 'running', toStage: 'running' });
    expect(complete(change.job, 'f1', 1, cancelledReport, T0 + 5, RETRY, 0).job.stage).toBe('cancelled');
  });

  it('repeating the cancel of a running job changes nothing', () => {
    const marked = cancel(running(), T0, 'user:a', 'stop')!.job;
    expect(cancel(marked, T0 + 1, 'user:b', 'again')).toBeNull();
  });

  it.each([...FINAL_STAGES] as ('succeeded' | 'failed' | 'cancelled' | 'dead' | 'shipped' | 'rejected')[])('refuses a %s job', (stage) => {
    const err = expectCode(() => cancel(finalJob(stage), T0, 'user:a', ''), 'failed_precondition');
    expect(err.message).toContain(`already ${stage}`);
  });
});

describe('fencing helpers', () => {
  it('assertEpoch accepts only the current epoch', () => {
    const job = leased();
    expect(() => assertEpoch(job, 1)).not.toThrow();
    expectCode(() => assertEpoch(job, 0), 'stale_epoch');
  });

  it('assertLeaseHolder checks epoch, lease and factory in that order', () => {
    const job = running('f1');
    expect(() => assertLeaseHolder(job, 'f1', 1)).not.toThrow();
    expectCode(() => assertLeaseHolder(job, 'f2', 0), 'stale_epoch');
    expectCode(() => assertLeaseHolder(job, 'f2', 1), 'permission_denied');
    expectCode(() => assertLeaseHolder(queued(), 'f1', 0), 'stale_epoch');
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random operations on one job.

type Op =
  | { t: 'advance'; ms: number }
  | { t: 'offer'; factory: string }
  | { t: 'accept'; factory: string; delta: number }
  | { t: 'renew'; factory: string; delta: number }
  | { t: 'release'; delta: number; kind: 'declined' | 'offer_expired' }
  | { t: 'complete'; factory: string; delta: number; outcome: AttemptReport['outcome']; random: number }
  | { t: 'expire'; random: number }
  | { t: 'cancel' };

const factoryArb = fc.constantFrom('f1', 'f1', 'f1', 'f2');
const deltaArb = fc.constantFrom(0, 0, 0, -1, 1);
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20_000 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('offer' as const), factory: factoryArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('accept' as const), factory: factoryArb, delta: deltaArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('renew' as const), factory: factoryArb, delta: deltaArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('release' as const), delta: deltaArb, kind: fc.constantFrom('declined' as const, 'offer_expired' as const) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('complete' as const),
      factory: factoryArb,
      delta: deltaArb,
      outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'failed' as const, 'timed_out' as const, 'cancelled' as const),
      random: randomArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const), random: randomArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const) }) },
);

function applyOp(job: JobRecord, op: Exclude<Op, { t: 'advance' }>, now: number): JobChange | null {
  switch (op.t) {
    case 'offer':
      return offer(job, op.factory, now, TIMINGS);
    case 'accept':
      return accept(job, op.factory, job.epoch + op.delta, now, TIMINGS);
    case 'renew':
      return renew(job, op.factory, job.epoch + op.delta, now, TIMINGS);
    case 'release':
      return release(job, job.epoch + op.delta, now, op.kind, 'released');
    case 'complete':
      return complete(job, op.factory, job.epoch + op.delta, { outcome: op.outcome, exitCode: 0, message: '' }, now, RETRY, op.random);
    case 'expire':
      return expire(job, now, RETRY, op.random, 'lapsed');
    case 'cancel':
      return cancel(job, now, 'user:p', '');
  }
}

describe('lifecycle property', () => {
  it('epochs never decrease, revision +1 per change, final is final, attempts within bounds', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(opArb, { minLength: 1, maxLength: 100, size: 'max' }), (maxAttempts, ops) => {
        let now = T0;
        let job = newJob(spec({ maxAttempts }), 'job-p', now, 'client:p').job;
        for (const op of ops) {
          if (op.t === 'advance') {
            now += op.ms;
            continue;
          }
          let change: JobChange | null;
          try {
            change = applyOp(job, op, now);
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            continue; // refused: the job stays as it was
          }
          if (change === null) {
            expect(op.t).toBe('cancel'); // only a repeated cancel is a no-op
            expect(job.cancelRequestedAt).not.toBeNull();
            continue;
          }
          const prev = job;
          const next = change.job;
          expect(isFinal(prev.stage), `${op.t} changed a ${prev.stage} job`).toBe(false);
          expect(next.epoch).toBeGreaterThanOrEqual(prev.epoch);
          expect(next.epoch - prev.epoch).toBe(op.t === 'offer' ? 1 : 0);
          expect(next.revision).toBe(prev.revision + 1);
          expect(next.attemptCount).toBeLessThanOrEqual(next.maxAttempts);
          expect(next.attemptCount).toBeGreaterThanOrEqual(prev.attemptCount);
          const holds = next.stage === 'leased' || next.stage === 'running';
          expect(next.lease !== null).toBe(holds);
          if (next.lease) expect(next.lease.epoch).toBe(next.epoch);
          const epochs = next.attempts.map((a) => a.epoch);
          expect(epochs).toEqual([...new Set(epochs)].sort((a, b) => a - b));
          expect(next.attempts.filter((a) => a.outcome === 'succeeded').length).toBeLessThanOrEqual(1);
          if (next.stage === 'succeeded') expect(next.attempts.at(-1)!.outcome).toBe('succeeded');
          if (isFinal(next.stage)) expect(next.endedAt).not.toBeNull();
          seen.add(change.event?.kind ?? 'renewed');
          if (change.event) {
            expect(change.event).toMatchObject({ revision: next.revision, epoch: next.epoch, fromStage: prev.stage, toStage: next.stage });
          } else {
            expect(op.t).toBe('renew');
          }
          job = next;
        }
      }),
      { numRuns: 1_000 },
    );
    // The random walks really reach every transition, so the checks above are not vacuous.
    expect([...seen].sort()).toEqual(
      ['cancel_requested', 'cancelled', 'dead', 'declined', 'failed', 'offer_expired', 'offered', 'renewed', 'retry_scheduled', 'started', 'succeeded'].sort(),
    );
  });
});

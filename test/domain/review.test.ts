/**
 * The review gate and operator actions: a successful attempt of a job that requires review waits in
 * awaiting_review; ship, reject (reason required) and requeue move it on; requeue and cancel work
 * from exactly the stages they should, and refuse the others naming the stage.
 */
import { describe, expect, it } from 'vitest';
import { FINAL_STAGES, isFinal, JOB_STAGES, type JobRecord, type JobStage } from '../../src/domain/job.js';
import { cancel, complete, expire, newJob, reject, requeue, REQUEUEABLE_STAGES, ship, type AttemptReport } from '../../src/domain/lifecycle.js';
import { expectCode, leased, queued, RETRY, running, spec, T0 } from './helpers.js';

const ok: AttemptReport = { outcome: 'succeeded', exitCode: 0, message: 'green' };
const boom: AttemptReport = { outcome: 'failed', exitCode: 2, message: 'boom' };

function reviewed(): JobRecord {
  return complete(running('f1', { requireReview: true }), 'f1', 1, ok, T0 + 5, RETRY, 0).job;
}

/** A job in each stage, reached through real transitions. */
function inStage(stage: JobStage): JobRecord {
  switch (stage) {
    case 'queued':
      return queued();
    case 'blocked':
      return newJob(spec({ dependsOn: ['job-0'] }), 'job-1', T0, 'client:test').job;
    case 'leased':
      return leased();
    case 'running':
      return running();
    case 'succeeded':
      return complete(running(), 'f1', 1, ok, T0, RETRY, 0).job;
    case 'failed':
      return complete(running('f1', { maxAttempts: 1 }), 'f1', 1, boom, T0, RETRY, 0).job;
    case 'cancelled':
      return cancel(queued(), T0, 'user:a', 'no')!.job;
    case 'dead':
      return expire(running('f1', { maxAttempts: 1 }), T0 + 1, RETRY, 0, 'gone').job;
    case 'awaiting_review':
      return reviewed();
    case 'shipped':
      return ship(reviewed(), T0 + 6, 'user:a', '')!.job;
    case 'rejected':
      return reject(reviewed(), T0 + 6, 'user:a', 'wrong').job;
  }
}

describe('review gate', () => {
  it('a successful attempt of a job that requires review waits in awaiting_review (not final)', () => {
    const { job, event } = complete(running('f1', { requireReview: true }), 'f1', 1, ok, T0 + 5, RETRY, 0);
    expect(job).toMatchObject({ stage: 'awaiting_review', endedAt: null, lease: null, exitCode: 0, result: 'green' });
    expect(job.reason).toContain('ship or reject');
    expect(isFinal(job.stage)).toBe(false);
    expect(event).toMatchObject({ kind: 'awaiting_review', fromStage: 'running', toStage: 'awaiting_review', actor: 'factory:f1' });
  });

  it('a failed attempt of a job that requires review retries and fails as usual', () => {
    expect(complete(running('f1', { requireReview: true, maxAttempts: 1 }), 'f1', 1, boom, T0, RETRY, 0).job.stage).toBe('failed');
  });

  it('ship: awaiting_review → shipped (final), with the actor and note on the event', () => {
    const { job, event } = ship(reviewed(), T0 + 9, 'alice', 'looks good')!;
    expect(job).toMatchObject({ stage: 'shipped', endedAt: T0 + 9, reason: 'shipped: looks good' });
    expect(isFinal(job.stage)).toBe(true);
    expect(event).toMatchObject({ kind: 'shipped', actor: 'alice', message: 'looks good', fromStage: 'awaiting_review', toStage: 'shipped' });
  });

  it('reject: awaiting_review → rejected (final) with the reason recorded', () => {
    const { job, event } = reject(reviewed(), T0 + 9, 'bob', 'tests are flaky');
    expect(job).toMatchObject({ stage: 'rejected', endedAt: T0 + 9, reason: 'rejected: tests are flaky' });
    expect(event).toMatchObject({ kind: 'rejected', actor: 'bob', message: 'tests are flaky', toStage: 'rejected' });
  });

  it('reject without a reason is INVALID_ARGUMENT', () => {
    expect(expectCode(() => reject(reviewed(), T0, 'bob', '  '), 'invalid_argument').message).toContain('reason is required');
  });

  it.each(JOB_STAGES.filter((s) => s !== 'awaiting_review'))('ship and reject refuse a %s job (FAILED_PRECONDITION naming the stage)', (stage) => {
    const job = inStage(stage);
    expect(expectCode(() => ship(job, T0, 'a', ''), 'failed_precondition').message).toBe(`cannot ship job job-1: it is ${stage}, not awaiting_review`);
    expect(expectCode(() => reject(job, T0, 'a', 'x'), 'failed_precondition').message).toContain(`it is ${stage}`);
  });
});

describe('requeue', () => {
  it.each(REQUEUEABLE_STAGES)('from %s: back to queued with a fresh attempt allowance; history kept', (stage) => {
    const before = inStage(stage);
    const { job, event } = requeue(before, T0 + 100, 'carol', 'try again');
    expect(job).toMatchObject({ stage: 'queued', attemptCount: 0, lease: null, endedAt: null, exitCode: null, result: '', cancelRequestedAt: null, notBefore: T0 + 100, epoch: before.epoch });
    expect(job.attempts).toEqual(before.attempts);
    expect(job.reason).toBe('requeued by carol: try again');
    expect(event).toMatchObject({ kind: 'requeued', actor: 'carol', message: 'try again', fromStage: stage, toStage: 'queued' });
  });

  it('a job with dependencies goes to blocked (the dependency rule releases it)', () => {
    const cancelled = cancel(inStage('blocked'), T0, 'a', 'x')!.job;
    expect(requeue(cancelled, T0 + 1, 'a', '').job.stage).toBe('blocked');
  });

  it.each(JOB_STAGES.filter((s) => !REQUEUEABLE_STAGES.includes(s)))('refuses a %s job', (stage) => {
    expect(expectCode(() => requeue(inStage(stage), T0, 'a', ''), 'failed_precondition').message).toContain(`it is ${stage}`);
  });
});

describe('cancel in every non-final stage', () => {
  it.each(JOB_STAGES.filter((s) => !FINAL_STAGES.has(s) && s !== 'running'))('%s → cancelled at once, with actor and reason', (stage) => {
    const { job, event } = cancel(inStage(stage), T0 + 3, 'dave', 'not needed')!;
    expect(job).toMatchObject({ stage: 'cancelled', endedAt: T0 + 3, lease: null, reason: 'not needed' });
    expect(event).toMatchObject({ kind: 'cancelled', actor: 'dave', message: 'not needed', fromStage: stage });
  });

  it('running → cancel requested (the factory stops it)', () => {
    expect(cancel(inStage('running'), T0, 'dave', 'x')!.job).toMatchObject({ stage: 'running', cancelRequestedAt: T0 });
  });

  it.each([...FINAL_STAGES])('refuses a %s job', (stage) => {
    expectCode(() => cancel(inStage(stage), T0, 'dave', ''), 'failed_precondition');
  });
});

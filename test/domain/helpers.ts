/** Small builders for the domain unit tests: a job spec, and a job taken through the lifecycle. */
import type { BackoffPolicy } from '../../src/domain/backoff.js';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import type { JobRecord, JobSpec } from '../../src/domain/job.js';
import { accept, newJob, offer, type LeaseTimings } from '../../src/domain/lifecycle.js';

/** A base time like a real clock's (well above 2^31). */
export const T0 = 1_760_000_000_000;
export const TIMINGS: LeaseTimings = { offerTimeoutMs: 10_000, leaseTtlMs: 60_000 };
export const RETRY: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

export function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    productId: 'prod-a',
    title: 'build',
    command: ['make', 'all'],
    env: {},
    requiredLabels: [],
    priority: 0,
    idempotencyKey: '',
    maxAttempts: 3,
    timeoutMs: 600_000,
    ...overrides,
  };
}

export function queued(overrides: Partial<JobSpec> = {}, at = T0): JobRecord {
  return newJob(spec(overrides), 'job-1', at, 'client:test').job;
}

export function leased(factoryId = 'f1', overrides: Partial<JobSpec> = {}, at = T0): JobRecord {
  return offer(queued(overrides, at), factoryId, at, TIMINGS).job;
}

export function running(factoryId = 'f1', overrides: Partial<JobSpec> = {}, at = T0): JobRecord {
  const job = leased(factoryId, overrides, at);
  return accept(job, factoryId, job.epoch, at, TIMINGS).job;
}

/** Runs `fn` and returns the DomainError it throws (failing the test when it throws nothing else). */
export function domainError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

export function expectCode(fn: () => unknown, code: DomainErrorCode): DomainError {
  const err = domainError(fn);
  if (err.code !== code) throw new Error(`expected DomainError ${code}, got ${err.code}: ${err.message}`);
  return err;
}

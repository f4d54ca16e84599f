/**
 * Job records for store tests, made with the real lifecycle functions so they look like what the
 * coordinator writes, plus a few setters for states that take many steps to reach.
 */
import type { JobEventRecord, JobRecord, JobSpec, LogChunkRecord } from '../../src/domain/job.js';
import { accept, newJob, offer, type JobChange } from '../../src/domain/lifecycle.js';
import { spec, T0, TIMINGS } from '../domain/helpers.js';
import type { JobStore } from '../../src/store/job-store.js';

// The same builders the domain tests use: one definition of a plausible job.
export { spec, T0, TIMINGS } from '../domain/helpers.js';

/** A freshly submitted job and its 'submitted' event. */
export function submitted(id: string, createdAt: number, overrides: Partial<JobSpec> = {}): { job: JobRecord; event: JobEventRecord } {
  const { job, event } = newJob(spec(overrides), id, createdAt, 'test');
  return { job, event: event! };
}

/** Inserts a submitted job and returns it as stored. */
export async function insertSubmitted(
  store: JobStore,
  id: string,
  createdAt: number,
  overrides: Partial<JobSpec> = {},
): Promise<JobRecord> {
  const { job, event } = submitted(id, createdAt, overrides);
  await store.insertJob(job, event);
  return job;
}

/** Writes one lifecycle change through the store's compare-and-set and returns the new record. */
export async function apply(store: JobStore, change: JobChange): Promise<JobRecord> {
  await store.replaceJob(change.job, change.event);
  return change.job;
}

/** Inserts a job and offers it to `factoryId` at `at` (lease expires at + offerTimeoutMs). */
export async function insertLeased(store: JobStore, id: string, factoryId: string, at: number): Promise<JobRecord> {
  const job = await insertSubmitted(store, id, at);
  return apply(store, offer(job, factoryId, at, TIMINGS));
}

/** Inserts a job, offers it and has the factory accept at `at` (lease expires at + leaseTtlMs). */
export async function insertRunning(store: JobStore, id: string, factoryId: string, at: number): Promise<JobRecord> {
  const leased = await insertLeased(store, id, factoryId, at);
  return apply(store, accept(leased, factoryId, leased.epoch, at, TIMINGS));
}

export function chunk(jobId: string, epoch: number, sequence: number, text: string | Uint8Array): LogChunkRecord {
  const data = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return { jobId, epoch, sequence, stream: 'stdout', data, at: T0 + sequence };
}

export function ids(jobs: readonly JobRecord[]): string[] {
  return jobs.map((job) => job.id);
}

/**
 * The store's floor: what the real SQLite store costs one job when nothing else runs. The same four
 * durable writes a dispatched job makes (submitted, offered, started, succeeded: one insertJob and
 * three replaceJob, each with its event), built by the domain's own lifecycle functions from the
 * dispatch run's SubmitJob request, through `openStore` exactly as the product opens it (WAL,
 * synchronous = FULL, group commit, the WAL fsync off the thread). No transport, no scheduler, no
 * sessions: the CPU per job measured here is a part of every dispatched job's CPU that no change
 * above the store can remove.
 *
 * `concurrency` jobs are in flight at once, each issuing its next write when the previous one is
 * durable, so the group commit batches several writes as it does under dispatch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { accept, complete, newJob, offer, type JobChange } from '../src/domain/lifecycle.js';
import { DEFAULT_RETRY_BACKOFF } from '../src/domain/backoff.js';
import type { JobSpec } from '../src/domain/job.js';
import { openStore } from '../src/store/open-store.js';
import type { JobStore } from '../src/store/job-store.js';

export interface StoreFloorRun {
  jobs: number;
  concurrency: number;
  /** Process CPU (user + system) per job, ms: SQLite's work, the rows' JSON, the group commit. */
  cpuMsPerJob: number;
  /** Jobs per second through the four writes (fsync-bound, not CPU-bound, at low concurrency). */
  jobsPerSec: number;
  writesPerJob: number;
}

const TIMINGS = { offerTimeoutMs: 30_000, leaseTtlMs: 30_000 };

async function write(store: JobStore, { job, event }: JobChange, created: boolean): Promise<void> {
  if (created) await store.insertJob(job, event!);
  else await store.replaceJob(job, event);
}

/** One job's life in the store: its four writes, each after the previous one is durable. */
async function oneJob(store: JobStore, spec: JobSpec, id: string): Promise<void> {
  const now = Date.now();
  const submitted = newJob(spec, id, now, 'api');
  await write(store, submitted, true);
  const offered = offer(submitted.job, 'factory-1', now, TIMINGS);
  await write(store, offered, false);
  const started = accept(offered.job, 'factory-1', offered.job.epoch, now, TIMINGS);
  await write(store, started, false);
  const done = complete(started.job, 'factory-1', started.job.epoch, { outcome: 'succeeded', exitCode: 0, message: '' }, now, DEFAULT_RETRY_BACKOFF, 0.5);
  await write(store, done, false);
}

export async function runStoreFloor(opts: { spec: JobSpec; jobs: number; concurrency: number; warmup: number }): Promise<StoreFloorRun> {
  const dir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-store-'));
  const store = openStore({ kind: 'sqlite', path: join(dir, 'gigafactory.sqlite') });
  try {
    let next = 0;
    const worker = async (prefix: string, total: number): Promise<void> => {
      while (next < total) await oneJob(store, opts.spec, `${prefix}-${next++}`);
    };
    const run = async (prefix: string, total: number): Promise<void> => {
      next = 0;
      await Promise.all(Array.from({ length: opts.concurrency }, () => worker(prefix, total)));
    };
    await run('warm', opts.warmup);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await run('job', opts.jobs);
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      jobs: opts.jobs,
      concurrency: opts.concurrency,
      cpuMsPerJob: (cpu.user + cpu.system) / 1000 / opts.jobs,
      jobsPerSec: (opts.jobs * 1000) / elapsedMs,
      writesPerJob: 4,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Jobs through real agent processes over real gRPC to a real coordinator on SQLite: throughput with
 * exactly-once outcomes and complete logs, an agent killed mid-job (and, with a long lease TTL, its
 * job coming back after the reconnect grace, or kept by a factory that reconnects within it),
 * cancellation and timeouts that reach the child process.
 */
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptOutcome, JobStage, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { isRunning } from '../agent/helpers.js';
import { readLogs, waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let workRoot: string;
const agents: ManagedProcess[] = [];
const raw: RawFactory[] = [];

beforeEach(async () => {
  server = await startTestServer({ leaseTtlMs: 1_500, heartbeatIntervalMs: 300, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50, cancelGraceMs: 500 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  workRoot = mkdtempSync(join(tmpdir(), 'gigafactory-agents-'));
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.kill('SIGKILL')));
  for (const r of raw.splice(0)) r.breakStream();
  await server.stop();
  rmSync(workRoot, { recursive: true, force: true });
});

function agent(id: string, slots = 1): Promise<ManagedProcess> {
  return spawnAgent({ coordinator: server.grpc.address, id, slots, workDir: join(workRoot, id) }).then((a) => {
    agents.push(a);
    return a;
  });
}

/** The dead factory's result for epoch 1 of `done`, arriving late on a new stream: refused, and the job unchanged. */
async function expectZombieResultRefused(factoryId: string, done: Job): Promise<void> {
  const zombie = new RawFactory(server.grpcUrl);
  raw.push(zombie);
  zombie.hello(factoryId);
  await zombie.next('welcome');
  zombie.send({ case: 'jobResult', value: { jobId: done.id, epoch: 1n, outcome: AttemptOutcome.FAILED, exitCode: 1 } });
  await zombie.next('leaseRevoked', (r) => r.jobId === done.id && r.epoch === 1n);
  expect((await jobs.getJob({ jobId: done.id })).job!).toEqual(done);
}

describe('agents', () => {
  it('runs 200 jobs through 3 agent processes: each succeeds exactly once with complete, ordered logs', async () => {
    await Promise.all([agent('a1', 4), agent('a2', 4), agent('a3', 4)]);
    const finals = new Map<string, JobStage>();
    const abort = new AbortController();
    const subscribers = server.coordinator.feed.topic.subscriberCount;
    const watching = (async () => {
      for await (const res of jobs.watchJobs({ productId: 'bulk' }, { signal: abort.signal })) {
        const e = res.event!;
        if ([JobStage.SUCCEEDED, JobStage.FAILED, JobStage.DEAD, JobStage.CANCELLED].includes(e.toStage)) {
          expect(finals.has(e.jobId), `job ${e.jobId} reached a final stage twice`).toBe(false);
          finals.set(e.jobId, e.toStage);
          if (finals.size === 200) abort.abort();
        }
      }
    })().catch((err: unknown) => {
      if ((err as { code?: Code }).code !== Code.Canceled) throw err;
    });
    // The watch is live once the coordinator has its subscription; only then submit.
    await expect.poll(() => server.coordinator.feed.topic.subscriberCount).toBe(subscribers + 1);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const { job } = await jobs.submitJob({ productId: 'bulk', command: ['sh', '-c', `for n in 1 2 3; do echo "job ${i} line $n"; done; echo "err ${i}" >&2`] });
      ids.push(job!.id);
    }
    await watching;
    expect(finals.size).toBe(200);
    for (const [i, id] of ids.entries()) {
      const job = (await jobs.getJob({ jobId: id })).job!;
      expect(job.stage).toBe(JobStage.SUCCEEDED);
      expect(job.attempts.filter((a) => a.outcome === AttemptOutcome.SUCCEEDED)).toHaveLength(1);
      const logs = await readLogs(jobs, id);
      expect(logs.split('\n').filter((l) => l.startsWith('job '))).toEqual([1, 2, 3].map((n) => `job ${i} line ${n}`));
      expect(logs).toContain(`err ${i}\n`);
    }
    const factories = new Set((await Promise.all(ids.map((id) => jobs.getJob({ jobId: id })))).map((r) => r.job!.attempts[0]!.factoryId));
    // Which agents get work is the scheduler's call (affinity keeps a warm factory busy when jobs
    // arrive one at a time); every job ran on one of ours.
    for (const f of factories) expect(['a1', 'a2', 'a3']).toContain(f);
  }, 180_000); // 200 real processes and 600 log reads: over a minute on two cores shared with other runs

  it('re-leases the job of an agent killed with SIGKILL under a higher epoch; the old epoch is refused', async () => {
    const first = await agent('doomed');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sh', '-c', 'echo begin; sleep 2; echo end'], maxAttempts: 3 });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    await first.kill('SIGKILL');
    await agent('rescuer');
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.epoch).toBe(2n);
    expect(done.attempts.map((a) => [a.factoryId, a.outcome])).toEqual([
      ['doomed', AttemptOutcome.LEASE_EXPIRED],
      ['rescuer', AttemptOutcome.SUCCEEDED],
    ]);
    await expectZombieResultRefused('doomed', done);
  });

  it('cancel reaches the child process: its process group is gone and the job ends cancelled', async () => {
    await agent('canceller');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sh', '-c', 'sleep 300 & echo "pids $$ $!"; wait'] });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    let pids: number[] = [];
    await expect.poll(async () => {
      const m = (await readLogs(jobs, job!.id)).match(/pids (\d+) (\d+)/);
      pids = m ? [Number(m[1]), Number(m[2])] : [];
      return pids.length;
    }, { timeout: 10_000 }).toBe(2);
    expect(pids.every(isRunning)).toBe(true);
    await jobs.cancelJob({ jobId: job!.id, reason: 'test' });
    await waitForStage(jobs, job!.id, JobStage.CANCELLED);
    await expect.poll(() => pids.filter(isRunning), { timeout: 5_000 }).toEqual([]);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.attempts[0]!.outcome).toBe(AttemptOutcome.CANCELLED);
  });

  it('a job that overruns its timeout is killed and fails', async () => {
    await agent('timer');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sleep', '60'], timeout: { seconds: 1n }, maxAttempts: 1 });
    await waitForStage(jobs, job!.id, JobStage.FAILED);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.attempts[0]!.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(done.reason).toContain('timed out');
  });
});

describe('leases without heartbeats', () => {
  it('expire within TTL + reaper interval while the stream stays open', async () => {
    const f = new RawFactory(server.grpcUrl);
    raw.push(f);
    f.hello('silent');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    const running = (await jobs.getJob({ jobId: job!.id })).job!;
    const revoked = await f.next('leaseRevoked', (r) => r.jobId === job!.id);
    expect(revoked.reason).toContain('lease');
    const expired = (await jobs.getJob({ jobId: job!.id })).job!;
    const attempt = expired.attempts[0]!;
    expect(attempt.outcome).toBe(AttemptOutcome.LEASE_EXPIRED);
    const lateness = Number(attempt.endTime!.seconds - running.lease!.expireTime!.seconds) * 1000 + (attempt.endTime!.nanos - running.lease!.expireTime!.nanos) / 1e6;
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThanOrEqual(100 /* reaper interval */ + 400 /* scheduling slack on a loaded machine */);
    expect(f.ended).toBeNull(); // the stream itself was not closed
  });
});

describe("a broken stream's reconnect grace", () => {
  // A lease TTL of a minute, far beyond the test's timeout: a job that comes back at all came back
  // through the grace, not through its lease running out.
  const LEASE_TTL_MS = 60_000;
  beforeEach(async () => {
    await server.stop();
    server = await startTestServer({ leaseTtlMs: LEASE_TTL_MS, reconnectGraceMs: 500, heartbeatIntervalMs: 300, heartbeatTimeoutMs: LEASE_TTL_MS, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50 });
    jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  });

  it('an agent killed with SIGKILL gives its job to another agent after the grace; the old epoch is fenced', async () => {
    const doomed = await agent('doomed');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sh', '-c', 'sleep 1; echo done'], maxAttempts: 3 });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    const leaseWhileRunning = (await jobs.getJob({ jobId: job!.id })).job!.lease!;
    await doomed.kill('SIGKILL');
    await agent('rescuer');
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);

    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.epoch).toBe(2n);
    expect(done.attempts.map((a) => [a.factoryId, a.epoch, a.outcome])).toEqual([
      ['doomed', 1n, AttemptOutcome.LEASE_EXPIRED],
      ['rescuer', 2n, AttemptOutcome.SUCCEEDED],
    ]);
    // Reaped before the TTL it held while running would have run out: the grace did it.
    expect(timestampMs(done.attempts[0]!.endTime!)).toBeLessThan(timestampMs(leaseWhileRunning.expireTime!));
    await expectZombieResultRefused('doomed', done);
  });

  it('a factory that reconnects within the grace keeps its job under the same epoch, for a whole TTL', async () => {
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const f = new RawFactory(server.grpcUrl);
    raw.push(f);
    f.hello('blip');
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    f.breakStream();
    await f.closed();
    const again = new RawFactory(server.grpcUrl);
    raw.push(again);
    again.hello('blip', { running: [{ jobId: job!.id, epoch: offer.epoch }] });
    const welcome = await again.next('welcome');
    expect(welcome.keptLeases).toEqual([expect.objectContaining({ jobId: job!.id, epoch: offer.epoch })]);
    const resumedAt = Date.now();
    // Renewed by hello for a whole TTL, not left at the grace's end (a minute against half a second).
    const lease = (await jobs.getJob({ jobId: job!.id })).job!.lease!;
    expect(timestampMs(lease.expireTime!) - resumedAt).toBeGreaterThan(LEASE_TTL_MS / 2);
    again.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await again.next('resultAck');
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.stage).toBe(JobStage.SUCCEEDED);
    expect(done.attempts.map((a) => [a.factoryId, a.epoch, a.outcome])).toEqual([['blip', offer.epoch, AttemptOutcome.SUCCEEDED]]);
  });
});

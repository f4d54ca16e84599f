/**
 * Jobs through real agent processes over real gRPC to a real coordinator on SQLite: throughput with
 * exactly-once outcomes and complete logs, an agent killed mid-job, cancellation and timeouts that
 * reach the child process.
 */
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
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
  });

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

    const zombie = new RawFactory(server.grpcUrl);
    raw.push(zombie);
    zombie.hello('doomed');
    await zombie.next('welcome');
    zombie.send({ case: 'jobResult', value: { jobId: job!.id, epoch: 1n, outcome: AttemptOutcome.FAILED, exitCode: 1 } });
    await zombie.next('leaseRevoked', (r) => r.jobId === job!.id && r.epoch === 1n);
    const after = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(after).toEqual(done);
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

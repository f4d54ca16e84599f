/**
 * Graceful stop of a real agent process (SIGTERM, as a service stop or an image roll sends it): the
 * agent takes no new work, lets its running job finish and deliver its result, then exits 0; a job
 * still running at --drain-timeout is stopped and handed back, and runs again elsewhere without
 * having used up an attempt.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { readLogs, waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let workRoot: string;
const agents: ManagedProcess[] = [];

beforeEach(async () => {
  server = await startTestServer({ leaseTtlMs: 5_000, heartbeatIntervalMs: 300, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  workRoot = mkdtempSync(join(tmpdir(), 'gigafactory-drain-'));
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(workRoot, { recursive: true, force: true });
});

async function agent(id: string, args: string[] = []): Promise<ManagedProcess> {
  const proc = await spawnAgent({ coordinator: server.grpc.address, id, workDir: join(workRoot, id), slots: 2, args });
  agents.push(proc);
  return proc;
}

describe('agent drain on SIGTERM', () => {
  it('finishes the running job, takes no new one, and exits 0', async () => {
    const a = await agent('roll-me');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sh', '-c', 'echo begin; sleep 1.5; echo end'], maxAttempts: 1 });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    a.child.kill('SIGTERM');
    await a.waitFor((l) => l.msg.startsWith('draining'));
    await expect.poll(() => server.coordinator.fleetView.factories().find((f) => f.factoryId === 'roll-me')?.draining).toBe(true);
    const { job: later } = await jobs.submitJob({ productId: 'p', command: ['true'] });

    expect(await a.exited).toBe(0);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.stage).toBe(JobStage.SUCCEEDED);
    expect(done.attempts.map((t) => t.outcome)).toEqual([AttemptOutcome.SUCCEEDED]);
    expect(await readLogs(jobs, job!.id)).toBe('begin\nend\n');
    expect((await jobs.getJob({ jobId: later!.id })).job!.stage).toBe(JobStage.QUEUED);
  });

  it('hands back a job still running at the drain timeout: it runs again elsewhere, no attempt used', async () => {
    const a = await agent('slow-roll', ['--drain-timeout', '0.5']);
    // Epoch 1 would run for a minute; the next attempt finishes at once.
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sh', '-c', 'echo "epoch $GIGAFACTORY_EPOCH"; [ "$GIGAFACTORY_EPOCH" = 1 ] && exec sleep 60; exit 0'], maxAttempts: 1 });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    const stopped = Date.now();
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    const back = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(back.stage).toBe(JobStage.QUEUED);
    expect(back.attempts[0]!.outcome).toBe(AttemptOutcome.RELEASED);
    expect(back.attempts[0]!.message).toContain('handed back');

    await agent('next');
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.attempts.map((t) => [t.factoryId, t.outcome])).toEqual([
      ['slow-roll', AttemptOutcome.RELEASED],
      ['next', AttemptOutcome.SUCCEEDED],
    ]);
  });
});

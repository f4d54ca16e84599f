/**
 * Scheduling with real agents: a high-priority job preempts a low-priority one on a full fleet, the
 * victim resumes elsewhere and completes exactly once without using up an attempt, and ExplainScore
 * matches what happened. Bad weights are refused naming the field.
 */
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { AttemptOutcome, JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-sched-'));
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ preemptionGraceMs: 2_000, heartbeatIntervalMs: 300, reaperIntervalMs: 100 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function agent(id: string): Promise<void> {
  agents.push(await spawnAgent({ coordinator: server.grpc.address, id, slots: 1, workDir: join(root, id), labels: ['pool=batch'] }));
}

it('preempts a low-priority job for a high-priority one; the victim resumes elsewhere, exactly once', async () => {
  const pool = [{ key: 'pool', operator: LabelOperator.EQUALS, values: ['batch'] }];
  await agent('first');
  const { job: low } = await jobs.submitJob({ productId: 'sched', command: ['sh', '-c', 'sleep 3; echo low done'], priority: 0, maxAttempts: 1, requiredLabels: pool });
  await waitForStage(jobs, low!.id, JobStage.RUNNING);
  const { job: high } = await jobs.submitJob({ productId: 'sched', command: ['sh', '-c', 'sleep 1; echo urgent'], priority: 50, requiredLabels: pool });

  await waitForStage(jobs, high!.id, JobStage.RUNNING);
  const preempted = (await jobs.getJob({ jobId: low!.id })).job!;
  expect(preempted.stage).toBe(JobStage.QUEUED);
  expect(preempted.attempts[0]).toMatchObject({ factoryId: 'first', outcome: AttemptOutcome.PREEMPTED });
  expect(preempted.attemptCount).toBe(0); // a preemption does not use up an attempt (max_attempts is 1)
  expect(preempted.preemptionStreak).toBe(1);
  // "first" finishes the urgent job but takes nothing new, so the victim resumes elsewhere.
  await admin.drainFactory({ factoryId: 'first', reason: 'test' });
  expect(await (await fetch(`${server.httpUrl}/metrics`)).text()).toMatch(/^gigafactory_preemptions_total 1$/m);
  await waitForStage(jobs, high!.id, JobStage.SUCCEEDED);
  await agent('second');
  await waitForStage(jobs, low!.id, JobStage.SUCCEEDED);
  const done = (await jobs.getJob({ jobId: low!.id })).job!;
  expect(done.attempts.filter((a) => a.outcome === AttemptOutcome.SUCCEEDED)).toHaveLength(1);
  expect(done.attempts.at(-1)!.factoryId).toBe('second');
  expect(done.attemptCount).toBe(1);

  const urgent = (await jobs.getJob({ jobId: high!.id })).job!;
  const explanation = await jobs.explainScore({ jobId: high!.id });
  expect(explanation.lastDecisionFactoryId).toBe(urgent.attempts[0]!.factoryId);
  expect(explanation.lastDecision!.total).toBe(urgent.attempts[0]!.decision!.total);
  expect(explanation.lastDecision!.priority).toBe(50 * explanation.weights!.priority!);
  const second = explanation.factories.find((f) => f.factoryId === 'second')!;
  expect(second.checks.find((c) => c.name === 'labels')!.passed).toBe(true);
});

it('explains a job no connected factory can run, and says so on the job', async () => {
  const { job } = await jobs.submitJob({ productId: 'sched', command: ['true'], requiredLabels: [{ key: 'gpu', operator: LabelOperator.EXISTS }] });
  const explanation = await jobs.explainScore({ jobId: job!.id });
  expect(explanation.factories.every((f) => !f.passed && f.checks.find((c) => c.name === 'labels')!.detail.includes('gpu'))).toBe(true);
  expect(explanation.unplaceableReason).toContain('no connected factory has the required labels');
  await expect.poll(async () => (await jobs.getJob({ jobId: job!.id })).job!.reason, { timeout: 5_000 }).toContain('no connected factory can run this job');
});

it('stores product weights and refuses bad ones, naming the field', async () => {
  const set = await admin.setProductSettings({ productId: 'sched', weightOverrides: { aging: 7 }, shareWeight: 2 });
  expect(set.settings).toMatchObject({ productId: 'sched', shareWeight: 2, revision: 1n });
  expect(set.settings!.effectiveWeights!.aging).toBe(7);
  const got = await admin.getProductSettings({ productId: 'sched' });
  expect(got.settings!.weightOverrides!.aging).toBe(7);
  await expect(admin.setProductSettings({ productId: 'sched', weightOverrides: { priority: -3 } })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: 'weight_overrides.priority -3 must be from 0 to 1000' });
  await expect(admin.setProductSettings({ productId: 'sched', shareWeight: -1 })).rejects.toMatchObject({ code: Code.InvalidArgument });
  await expect(admin.getProductSettings({ productId: 'Not Valid' })).rejects.toMatchObject({ code: Code.InvalidArgument });
  await expect(jobs.submitJob({ productId: 'sched', command: ['true'], weights: { fairShare: 5000 } })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: 'weights.fairShare 5000 must be from 0 to 1000' });
  await expect(jobs.explainScore({ jobId: 'job_nope' })).rejects.toMatchObject({ code: Code.NotFound });
});

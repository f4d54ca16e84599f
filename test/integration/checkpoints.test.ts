/**
 * Checkpoints with real agent processes: a counting job saves its progress into
 * GIGAFACTORY_CHECKPOINT_DIR; after its agent is killed with SIGKILL, or after it is preempted by a
 * higher-priority job, the next attempt on another agent starts from the latest checkpoint — on
 * preemption from exactly where it stopped (the job's last save in its grace is uploaded before the
 * preemption is acknowledged).
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { AttemptOutcome, JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { unpackCheckpoint } from '../../agent/checkpoint-archive.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-checkpoints-'));
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({
    leaseTtlMs: 1_500,
    reconnectGraceMs: 500,
    heartbeatIntervalMs: 300,
    reaperIntervalMs: 100,
    retryBaseMs: 10,
    retryMaxMs: 50,
    preemptionGraceMs: 5_000,
  });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function agent(id: string, pool: string): Promise<ManagedProcess> {
  const proc = await spawnAgent({ coordinator: server.grpc.address, id, slots: 1, workDir: join(root, id), labels: [`pool=${pool}`] });
  agents.push(proc);
  return proc;
}

/** Counts to `to`, saving each step into the checkpoint dir (write, then rename); saves and exits on SIGTERM. */
function countingJob(to: number): string[] {
  const script = [
    'd="$GIGAFACTORY_CHECKPOINT_DIR"',
    'n=$(cat "$d/count" 2>/dev/null || echo 0)',
    'echo "start $n"',
    `trap 'echo "$n" > "$d/count.tmp"; mv "$d/count.tmp" "$d/count"; echo "saved $n"; exit 143' TERM`,
    `while [ "$n" -lt ${to} ]; do n=$((n+1)); echo "$n" > "$d/count.tmp"; mv "$d/count.tmp" "$d/count"; echo "count $n"; sleep 0.1; done`,
  ].join('\n');
  return ['sh', '-c', script];
}

/** The output of one attempt. */
async function attemptLog(jobId: string, epoch: bigint): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const res of jobs.tailLogs({ jobId, afterEpoch: epoch - 1n })) {
    if (res.chunk!.epoch === epoch) text += decoder.decode(res.chunk!.data, { stream: true });
  }
  return text;
}

/** Resolves with the job's checkpoints once `ready` says they are enough (polled: there is no event for an upload). */
async function checkpointsWhen(jobId: string, ready: (count: number) => boolean): Promise<void> {
  for (;;) {
    const { artifacts } = await jobs.listArtifacts({ jobId, kind: ArtifactKind.CHECKPOINT });
    if (artifacts.length > 0 && ready(artifacts.length)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The count saved in the latest checkpoint of `epoch`, read from the stored archive. */
async function savedCount(jobId: string, epoch: bigint): Promise<number> {
  const { artifacts } = await jobs.listArtifacts({ jobId, epoch, kind: ArtifactKind.CHECKPOINT });
  const latest = artifacts.at(-1)!;
  const chunks: Uint8Array[] = [];
  for await (const res of jobs.downloadArtifact({ jobId, epoch, kind: ArtifactKind.CHECKPOINT, name: latest.name })) chunks.push(res.data);
  const dir = mkdtempSync(join(root, 'saved-'));
  writeFileSync(join(dir, 'cp.tar'), Buffer.concat(chunks));
  await unpackCheckpoint(join(dir, 'cp.tar'), join(dir, 'out'));
  return Number(readFileSync(join(dir, 'out', 'count'), 'utf8'));
}

const startOf = (log: string): number => Number(/^start (\d+)$/m.exec(log)![1]);

it('resumes from the latest checkpoint after the agent is killed with SIGKILL', async () => {
  const first = await agent('kill-1', 'kill');
  const pool = [{ key: 'pool', operator: LabelOperator.EQUALS, values: ['kill'] }];
  const { job } = await jobs.submitJob({ productId: 'cp', command: countingJob(50), maxAttempts: 3, requiredLabels: pool });
  await waitForStage(jobs, job!.id, JobStage.RUNNING);
  // A few heartbeat intervals of progress, at least two checkpoints uploaded.
  await checkpointsWhen(job!.id, (n) => n >= 2);
  await first.kill('SIGKILL');
  await agent('kill-2', 'kill');
  await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);

  const done = (await jobs.getJob({ jobId: job!.id })).job!;
  const last = done.attempts.at(-1)!;
  expect(last.factoryId).toBe('kill-2');
  const resumedAt = startOf(await attemptLog(job!.id, last.epoch));
  expect(resumedAt).toBeGreaterThan(0);
  expect(resumedAt).toBe(await savedCount(job!.id, done.attempts[0]!.epoch));
  expect(await attemptLog(job!.id, last.epoch)).toMatch(/^count 50$/m);
});

it('resumes a preempted job from what it saved in its grace period, losing nothing', async () => {
  const pool = [{ key: 'pool', operator: LabelOperator.EQUALS, values: ['preempt'] }];
  await agent('pre-1', 'preempt');
  const { job: low } = await jobs.submitJob({ productId: 'cp', command: countingJob(60), priority: 0, maxAttempts: 1, requiredLabels: pool });
  await waitForStage(jobs, low!.id, JobStage.RUNNING);
  await checkpointsWhen(low!.id, () => true);
  const { job: high } = await jobs.submitJob({ productId: 'cp', command: ['sleep', '1'], priority: 50, requiredLabels: pool });
  await waitForStage(jobs, high!.id, JobStage.RUNNING);
  // "pre-1" finishes the urgent job but takes nothing new, so the victim resumes elsewhere.
  await admin.drainFactory({ factoryId: 'pre-1', reason: 'test: resume elsewhere' });
  const preempted = (await jobs.getJob({ jobId: low!.id })).job!;
  expect(preempted.attempts[0]!.outcome).toBe(AttemptOutcome.PREEMPTED);
  await waitForStage(jobs, high!.id, JobStage.SUCCEEDED);
  await agent('pre-2', 'preempt');
  await waitForStage(jobs, low!.id, JobStage.SUCCEEDED);

  const done = (await jobs.getJob({ jobId: low!.id })).job!;
  const firstLog = await attemptLog(low!.id, done.attempts[0]!.epoch);
  const saved = Number(/^saved (\d+)$/m.exec(firstLog)![1]);
  const resumed = startOf(await attemptLog(low!.id, done.attempts.at(-1)!.epoch));
  expect(resumed).toBe(saved);
  expect(resumed).toBeGreaterThan(0);
});

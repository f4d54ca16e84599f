/**
 * Workflows with real agent processes over real gRPC to a real coordinator on SQLite: DAG ordering
 * (a diamond, a chain of 50), dependency-failure policies both ways, parents that complete with
 * their children, the review gate (ship, reject, requeue), cancel while blocked or awaiting review,
 * recovery of blocked jobs whose release was missed, and bad input with clear errors.
 */
import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyFailurePolicy, JobStage, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { DagEdgeKind, JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-workflows-'));
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ heartbeatIntervalMs: 300, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  agents.push(...(await Promise.all(['w1', 'w2', 'w3'].map((id) => spawnAgent({ coordinator: server.grpc.address, id, slots: 4, workDir: join(root, id) })))));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function submit(title: string, dependsOn: string[] = [], extra: { command?: string[]; maxAttempts?: number; requireReview?: boolean; completeWithChildren?: boolean; onDependencyFailure?: DependencyFailurePolicy } = {}): Promise<Job> {
  return (await jobs.submitJob({ productId: 'flow', title, command: ['true'], dependsOn, ...extra })).job!;
}

async function get(id: string): Promise<Job> {
  return (await jobs.getJob({ jobId: id })).job!;
}

const ms = (t: Timestamp | undefined): number => timestampMs(t!);

/** The job's first offer came after every dependency ended. */
async function expectRanAfter(job: Job, deps: Job[]): Promise<void> {
  const fresh = await get(job.id);
  const offered = ms(fresh.attempts[0]!.offerTime);
  for (const dep of deps) expect(offered, `${fresh.title} offered before ${dep.title} ended`).toBeGreaterThanOrEqual(ms((await get(dep.id)).endTime));
}

async function events(jobId: string): Promise<{ kind: string; actor: string; message: string }[]> {
  const out: { kind: string; actor: string; message: string }[] = [];
  const abort = new AbortController();
  const job = await get(jobId);
  try {
    for await (const res of jobs.watchJobs({ jobId }, { signal: abort.signal })) {
      const e = res.event!;
      out.push({ kind: e.kind, actor: e.actor, message: e.message });
      if (e.revision >= job.revision) break;
    }
  } finally {
    abort.abort();
  }
  return out;
}

describe('DAG ordering', () => {
  it('runs a diamond in order: A, then B and C, then D', async () => {
    const a = await submit('A', [], { command: ['sleep', '0.3'] });
    const b = await submit('B', [a.id]);
    const c = await submit('C', [a.id]);
    const d = await submit('D', [b.id, c.id]);
    expect(d.stage).toBe(JobStage.BLOCKED);
    expect(d.reason).toContain('waiting for 2');
    await waitForStage(jobs, d.id, JobStage.SUCCEEDED);
    await expectRanAfter(b, [a]);
    await expectRanAfter(c, [a]);
    await expectRanAfter(d, [b, c]);
    expect((await get(a.id)).dependents.sort()).toEqual([b.id, c.id].sort());

    const dag = await jobs.getDag({ jobId: d.id });
    expect(dag.nodes[0]!.jobId).toBe(d.id);
    expect(new Set(dag.nodes.map((n) => n.title))).toEqual(new Set(['A', 'B', 'C', 'D']));
    expect(dag.nodes.every((n) => n.stage === JobStage.SUCCEEDED)).toBe(true);
    const edges = dag.edges.map((e) => `${e.fromJobId}>${e.toJobId}:${e.kind}`).sort();
    expect(edges).toEqual([`${b.id}>${a.id}`, `${c.id}>${a.id}`, `${d.id}>${b.id}`, `${d.id}>${c.id}`].map((e) => `${e}:${DagEdgeKind.DEPENDS_ON}`).sort());
  });

  it('runs a chain of 50 in order', async () => {
    const chain: Job[] = [];
    for (let i = 0; i < 50; i++) chain.push(await submit(`chain-${i}`, i === 0 ? [] : [chain[i - 1]!.id]));
    await waitForStage(jobs, chain[49]!.id, JobStage.SUCCEEDED);
    for (let i = 1; i < 50; i++) await expectRanAfter(chain[i]!, [chain[i - 1]!]);
  }, 60_000);
});

describe('dependency failure policies', () => {
  it('cancel dependents (the default) and leave blocked; a requeued dependency that succeeds releases the blocked one', async () => {
    const marker = join(root, 'fail-once');
    const flaky = await submit('flaky', [], { command: ['sh', '-c', `test -f ${marker} || { touch ${marker}; exit 1; }`], maxAttempts: 1 });
    const cancelled = await submit('follows-cancel', [flaky.id]);
    const grandchild = await submit('follows-the-cancelled', [cancelled.id]);
    const patient = await submit('follows-leave-blocked', [flaky.id], { onDependencyFailure: DependencyFailurePolicy.LEAVE_BLOCKED });
    await waitForStage(jobs, flaky.id, JobStage.FAILED);
    await waitForStage(jobs, cancelled.id, JobStage.CANCELLED);
    await waitForStage(jobs, grandchild.id, JobStage.CANCELLED);
    expect((await get(cancelled.id)).reason).toContain(`dependency ${flaky.id} ended failed`);
    expect((await get(grandchild.id)).reason).toContain(`dependency ${cancelled.id} ended cancelled`);
    await expect.poll(async () => (await get(patient.id)).reason, { timeout: 5_000 }).toContain(`dependency ${flaky.id} ended failed; blocked until an operator`);
    expect((await get(patient.id)).stage).toBe(JobStage.BLOCKED);
    expect((await get(patient.id)).onDependencyFailure).toBe(DependencyFailurePolicy.LEAVE_BLOCKED);

    const requeued = (await jobs.requeueJob({ jobId: flaky.id, reason: 'fixed the flake' })).job!;
    expect(requeued.stage).toBe(JobStage.QUEUED);
    expect(requeued.attemptCount).toBe(0);
    await waitForStage(jobs, patient.id, JobStage.SUCCEEDED);
    const flakyDone = await get(flaky.id);
    expect(flakyDone.stage).toBe(JobStage.SUCCEEDED);
    expect(flakyDone.epoch).toBe(2n); // the requeued run was offered under a new epoch
    expect(await events(flaky.id)).toContainEqual({ kind: 'requeued', actor: 'api', message: 'fixed the flake' });
  });
});

describe('parents and children', () => {
  it('a parent that completes with its children succeeds after they do; GetDag shows the tree', async () => {
    const gate = await submit('gate', [], { requireReview: true });
    await waitForStage(jobs, gate.id, JobStage.AWAITING_REVIEW);
    const parent = await submit('parent', [gate.id], { completeWithChildren: true });
    const added = await jobs.addChildren({
      parentId: parent.id,
      children: [
        { productId: 'flow', title: 'first', command: ['true'], idempotencyKey: 'first' },
        { productId: 'flow', title: 'second', command: ['sleep', '0.3'], dependsOnKeys: ['first'] },
      ],
    });
    expect(added.parent!.children).toEqual(added.children.map((c) => c.id));
    expect(added.children.every((c) => c.parentId === parent.id)).toBe(true);
    expect(added.children[1]!.dependsOn).toEqual([added.children[0]!.id]);
    await jobs.shipJob({ jobId: gate.id });
    await waitForStage(jobs, parent.id, JobStage.SUCCEEDED);
    const done = await get(parent.id);
    expect(ms(done.endTime)).toBeGreaterThanOrEqual(ms((await get(added.children[1]!.id)).endTime));
    await expectRanAfter(added.children[1]!, [added.children[0]!]);

    const dag = await jobs.getDag({ jobId: added.children[0]!.id });
    const childEdges = dag.edges.filter((e) => e.kind === DagEdgeKind.CHILD).map((e) => [e.fromJobId, e.toJobId]);
    expect(childEdges).toEqual(expect.arrayContaining(added.children.map((c) => [parent.id, c.id])));
    expect(dag.nodes.map((n) => n.title)).toEqual(expect.arrayContaining(['gate', 'parent', 'first', 'second']));
  });

  it('a parent fails when a child fails', async () => {
    const gate = await submit('gate-2', [], { requireReview: true });
    const parent = await submit('parent-2', [gate.id], { completeWithChildren: true });
    const { children } = await jobs.addChildren({ parentId: parent.id, children: [{ productId: 'flow', command: ['false'], maxAttempts: 1 }] });
    await waitForStage(jobs, children[0]!.id, JobStage.FAILED);
    await waitForStage(jobs, gate.id, JobStage.AWAITING_REVIEW);
    await jobs.shipJob({ jobId: gate.id });
    await waitForStage(jobs, parent.id, JobStage.FAILED);
    expect((await get(parent.id)).reason).toBe(`child ${children[0]!.id} ended failed`);
  });
});

describe('review gate', () => {
  it('ship: awaiting_review → shipped releases dependents; the action is an event with actor and note', async () => {
    const reviewed = await submit('reviewed', [], { requireReview: true });
    const after = await submit('after-review', [reviewed.id]);
    await waitForStage(jobs, reviewed.id, JobStage.AWAITING_REVIEW);
    expect((await get(after.id)).stage).toBe(JobStage.BLOCKED);
    const shipped = (await jobs.shipJob({ jobId: reviewed.id, reason: 'lgtm' })).job!;
    expect(shipped.stage).toBe(JobStage.SHIPPED);
    await waitForStage(jobs, after.id, JobStage.SUCCEEDED);
    expect(await events(reviewed.id)).toContainEqual({ kind: 'shipped', actor: 'api', message: 'lgtm' });
  });

  it('reject needs a reason; rejected can be requeued, runs under a new epoch and can then be shipped', async () => {
    const job = await submit('to-reject', [], { requireReview: true });
    await waitForStage(jobs, job.id, JobStage.AWAITING_REVIEW);
    await expect(jobs.rejectJob({ jobId: job.id })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('reason is required') });
    const rejected = (await jobs.rejectJob({ jobId: job.id, reason: 'wrong output' })).job!;
    expect(rejected).toMatchObject({ stage: JobStage.REJECTED, reason: 'rejected: wrong output' });
    expect(await events(job.id)).toContainEqual({ kind: 'rejected', actor: 'api', message: 'wrong output' });

    await jobs.requeueJob({ jobId: job.id, reason: 'second look' });
    await expect.poll(async () => (await get(job.id)).epoch, { timeout: 10_000 }).toBe(2n);
    await expect.poll(async () => (await get(job.id)).stage, { timeout: 10_000 }).toBe(JobStage.AWAITING_REVIEW);
    expect((await jobs.shipJob({ jobId: job.id })).job!.stage).toBe(JobStage.SHIPPED);
    await expect(jobs.requeueJob({ jobId: job.id })).rejects.toMatchObject({ code: Code.FailedPrecondition, rawMessage: expect.stringContaining('it is shipped') });
  });

  it('requeue from awaiting_review runs the job again', async () => {
    const job = await submit('again', [], { requireReview: true });
    await waitForStage(jobs, job.id, JobStage.AWAITING_REVIEW);
    await jobs.requeueJob({ jobId: job.id });
    await expect.poll(async () => { const j = await get(job.id); return [j.epoch, j.stage]; }, { timeout: 10_000 }).toEqual([2n, JobStage.AWAITING_REVIEW]);
  });

  it('cancel works while blocked and while awaiting review', async () => {
    const reviewed = await submit('cancel-me-in-review', [], { requireReview: true });
    const blocked = await submit('cancel-me-blocked', [reviewed.id]);
    const cancelledBlocked = (await jobs.cancelJob({ jobId: blocked.id, reason: 'not needed' })).job!;
    expect(cancelledBlocked).toMatchObject({ stage: JobStage.CANCELLED, reason: 'not needed' });
    await waitForStage(jobs, reviewed.id, JobStage.AWAITING_REVIEW);
    expect((await jobs.cancelJob({ jobId: reviewed.id, reason: 'changed my mind' })).job!.stage).toBe(JobStage.CANCELLED);
    expect(await events(reviewed.id)).toContainEqual({ kind: 'cancelled', actor: 'api', message: 'changed my mind' });
  });
});

describe('recovery', () => {
  it('a blocked job whose dependencies ended without its release being seen is released by the sweep', async () => {
    const gate = await submit('silent-gate', [], { requireReview: true });
    const blocked = await submit('missed-release', [gate.id]);
    await waitForStage(jobs, gate.id, JobStage.AWAITING_REVIEW);
    // Ship behind the coordinator's back (as a crash between commit and reaction would leave it).
    const store = server.coordinator.store;
    const stored = (await store.getJob(gate.id))!;
    await store.replaceJob({ ...stored, stage: 'shipped', endedAt: Date.now(), revision: stored.revision + 1 }, null);
    await waitForStage(jobs, blocked.id, JobStage.SUCCEEDED);
  });
});

describe('bad input', () => {
  it('refuses an unknown dependency, naming it', async () => {
    await expect(submit('orphan', ['job_does_not_exist'])).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: 'depends_on[0]: job job_does_not_exist does not exist' });
  });

  it('refuses a cycle among new children, naming it', async () => {
    const parent = await submit('cycle-parent', [], { command: ['sleep', '5'] });
    await expect(
      jobs.addChildren({
        parentId: parent.id,
        children: [
          { productId: 'flow', command: ['true'], idempotencyKey: 'a', dependsOnKeys: ['b'] },
          { productId: 'flow', command: ['true'], idempotencyKey: 'b', dependsOnKeys: ['a'] },
        ],
      }),
    ).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('dependency cycle: "a" → "b" → "a"') });
    expect((await get(parent.id)).children).toEqual([]);
    await jobs.cancelJob({ jobId: parent.id });
  });

  it('refuses a child that depends on a parent that completes with its children (P → child → P)', async () => {
    const gate = await submit('cycle-gate', [], { requireReview: true });
    const parent = await submit('cycle-parent-2', [gate.id], { completeWithChildren: true });
    await expect(jobs.addChildren({ parentId: parent.id, children: [{ productId: 'flow', command: ['true'], dependsOn: [parent.id] }] })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining(`dependency cycle: children[0] → ${parent.id} → children[0]`),
    });
  });

  it('ship of a job not awaiting review is FAILED_PRECONDITION; unknown ids are NOT_FOUND; depends_on_keys outside AddChildren is refused', async () => {
    const job = await submit('plain');
    await waitForStage(jobs, job.id, JobStage.SUCCEEDED);
    await expect(jobs.shipJob({ jobId: job.id })).rejects.toMatchObject({ code: Code.FailedPrecondition, rawMessage: `cannot ship job ${job.id}: it is succeeded, not awaiting_review` });
    await expect(jobs.rejectJob({ jobId: job.id, reason: 'x' })).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await expect(jobs.shipJob({ jobId: 'job_nope' })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(jobs.getDag({ jobId: 'job_nope' })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(jobs.submitJob({ productId: 'flow', command: ['true'], dependsOnKeys: ['x'] })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(jobs.addChildren({ parentId: job.id, children: [{ productId: 'flow', command: ['true'] }] })).rejects.toMatchObject({
      code: Code.FailedPrecondition,
      rawMessage: `parent job ${job.id} is succeeded; children can be added only to a job that has not finished`,
    });
    await expect(jobs.addChildren({ parentId: job.id, children: [{ productId: 'flow', command: [] }] })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('children[0]: command') });
  });
});

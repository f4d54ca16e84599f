/**
 * Budgets with a real agent process: jobs that report a cost exhaust a product's budget, after
 * which its queued jobs are not offered and say why, and a higher limit lets them run; a paused
 * product waits until it is resumed (GetJob, ListJobs, WatchJobs events and tracker ingest answers say why); a job running
 * past its wall-clock budget is stopped and fails with the reason. Spend shows in GetBudget (per day and per job) and in /metrics. Bad input is
 * refused over the gateway naming the field.
 */
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { BudgetPeriod, BudgetState } from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { IngestOutcome, TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { utcDate } from '../../src/domain/budget.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
let agent: ManagedProcess;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-budgets-'));

beforeAll(async () => {
  server = await startTestServer({ heartbeatIntervalMs: 300, reaperIntervalMs: 100, cancelGraceMs: 1_000 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  agent = await spawnAgent({ coordinator: server.grpc.address, id: 'payer', slots: 2, workDir: join(root, 'payer') });
});
afterAll(async () => {
  await agent.kill('SIGKILL');
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A job that costs 1 (it writes the cost file) and estimates as much. */
const costsOne = (productId: string) => jobs.submitJob({ productId, command: ['sh', '-c', 'echo 1 > "$GIGAFACTORY_COST_FILE"'], maxAttempts: 1, estimatedCost: 1 });

/**
 * Runs a job of a product without a budget to the end: the dispatcher has made passes since, so a
 * job it held back was held back by those passes too, not merely not reached yet.
 */
async function canary(): Promise<void> {
  const { job } = await jobs.submitJob({ productId: 'canary', command: ['true'] });
  await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
}

async function metric(line: RegExp): Promise<string | undefined> {
  return (await (await fetch(`${server.httpUrl}/metrics`)).text()).split('\n').find((l) => line.test(l));
}

it('stops dispatch when spend reaches the limit, says why, and runs the rest once the limit is raised', async () => {
  await admin.setBudget({ productId: 'bud', costLimit: 3, period: BudgetPeriod.DAY });
  const submitted = [];
  for (let i = 0; i < 5; i++) submitted.push((await costsOne('bud')).job!);
  for (const job of submitted.slice(0, 3)) await waitForStage(jobs, job.id, JobStage.SUCCEEDED);
  await canary();

  const waiting = await Promise.all(submitted.slice(3).map(async (j) => (await jobs.getJob({ jobId: j.id })).job!));
  for (const job of waiting) {
    expect(job.stage).toBe(JobStage.QUEUED);
    expect(job.attempts).toHaveLength(0); // never offered
    expect(job.reason).toBe('budget exhausted: 3 of 3 spent this day');
  }
  const listed = await jobs.listJobs({ productId: 'bud', stages: [JobStage.QUEUED] });
  expect(listed.jobs.map((j) => j.reason)).toEqual(['budget exhausted: 3 of 3 spent this day', 'budget exhausted: 3 of 3 spent this day']);
  const explanation = await jobs.explainScore({ jobId: waiting[0]!.id });
  expect(explanation.unplaceableReason).toBe('budget exhausted: 3 of 3 spent this day');
  expect(explanation.factories[0]!.checks.find((c) => c.name === 'budget')).toMatchObject({ passed: false, detail: 'budget exhausted: 3 of 3 spent this day' });

  const done = (await jobs.getJob({ jobId: submitted[0]!.id })).job!;
  expect(done).toMatchObject({ cost: 1, estimatedCost: 1 });
  expect(done.attempts[0]!.cost).toBe(1);

  const { budget } = await admin.getBudget({ productId: 'bud' });
  expect(budget).toMatchObject({ productId: 'bud', state: BudgetState.EXHAUSTED, spent: 3, reserved: 0, costLimit: 3, stateReason: 'budget exhausted: 3 of 3 spent this day' });
  expect(budget!.dailySpend).toEqual([expect.objectContaining({ date: utcDate(Date.now()), cost: 3, jobCount: 3 })]);
  expect(budget!.jobSpend.map((j) => j.jobId).sort()).toEqual(submitted.slice(0, 3).map((j) => j.id).sort());
  expect((await admin.listBudgets({})).budgets.map((b) => b.productId)).toContain('bud');
  expect(await metric(/^gigafactory_budget_spent\{product="bud",period="day"\}/)).toBe('gigafactory_budget_spent{product="bud",period="day"} 3');
  expect(await metric(/^gigafactory_budget_state\{product="bud",state="exhausted"\}/)).toMatch(/ 1$/);
  expect(await metric(/^gigafactory_budget_cost_total\{product="bud"\}/)).toMatch(/ 3$/);

  const raised = await admin.setBudget({ productId: 'bud', costLimit: 10, period: BudgetPeriod.DAY });
  expect(raised.budget).toMatchObject({ state: BudgetState.OK, revision: 2n, updateActor: 'api' });
  for (const job of submitted.slice(3)) await waitForStage(jobs, job.id, JobStage.SUCCEEDED);
  expect((await admin.getBudget({ productId: 'bud' })).budget!.spent).toBe(5);
});

it('holds a paused product back with the reason, and resume lets its jobs run', async () => {
  const paused = await admin.pauseBudget({ productId: 'held', reason: 'cost review' });
  expect(paused.budget).toMatchObject({ paused: true, state: BudgetState.PAUSED, pauseReason: 'cost review', pauseActor: 'api' });
  const again = await admin.pauseBudget({ productId: 'held' }); // idempotent: the first pause stands
  expect(again.budget).toMatchObject({ paused: true, pauseReason: 'cost review', revision: paused.budget!.revision });
  const { job } = await jobs.submitJob({ productId: 'held', command: ['true'] });
  expect(job!.reason).toBe('product held is paused: cost review');
  await canary();
  const waiting = (await jobs.getJob({ jobId: job!.id })).job!;
  expect(waiting).toMatchObject({ stage: JobStage.QUEUED, reason: 'product held is paused: cost review' });
  expect(waiting.attempts).toHaveLength(0);
  expect(await metric(/^gigafactory_budget_state\{product="held",state="paused"\}/)).toMatch(/ 1$/);

  const resumed = await admin.resumeBudget({ productId: 'held' });
  expect(resumed.budget).toMatchObject({ paused: false, state: BudgetState.OK, pauseReason: '' });
  await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
});

it('says why a held-back job waits in WatchJobs events too: live on a product watch, and replayed for one job', async () => {
  await admin.pauseBudget({ productId: 'watched', reason: 'month end' });
  const reason = 'product watched is paused: month end';
  const abort = new AbortController();
  const subscribers = server.coordinator.feed.topic.subscriberCount;
  const firstEvent = (async () => {
    for await (const res of jobs.watchJobs({ productId: 'watched' }, { signal: abort.signal })) return res.event!;
    throw new Error('the watch ended without an event');
  })();
  try {
    // The watch is live once the coordinator has its subscription; only then submit.
    await expect.poll(() => server.coordinator.feed.topic.subscriberCount).toBe(subscribers + 1);
    const { job } = await jobs.submitJob({ productId: 'watched', command: ['true'] });
    expect(await firstEvent).toMatchObject({ jobId: job!.id, kind: 'submitted', job: { stage: JobStage.QUEUED, reason } });

    await canary();
    let replayed;
    for await (const res of jobs.watchJobs({ jobId: job!.id })) {
      if (!res.event!.job) continue; // older history carries no job; the newest event carries it as it is now
      replayed = res.event!.job;
      break;
    }
    expect(replayed).toMatchObject({ id: job!.id, stage: JobStage.QUEUED, reason });
    await admin.resumeBudget({ productId: 'watched' });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
  } finally {
    abort.abort();
  }
});

it('says why in a tracker ingest answer too, dry run and real', async () => {
  await admin.pauseBudget({ productId: 'ingested', reason: 'audit' });
  const tracker = createClient(TrackerService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  const item = { externalId: 'BUDGET-1', title: 'held', productId: 'ingested', commandTemplate: ['true'] };
  const reason = 'product ingested is paused: audit';
  const dry = await tracker.ingestItem({ item, dryRun: true });
  expect(dry.result).toMatchObject({ outcome: IngestOutcome.CREATED, job: { stage: JobStage.QUEUED, reason } });
  const real = await tracker.ingestItems({ items: [item] });
  expect(real.results[0]).toMatchObject({ outcome: IngestOutcome.CREATED, job: { stage: JobStage.QUEUED, reason } });
  await admin.resumeBudget({ productId: 'ingested' });
  await waitForStage(jobs, real.results[0]!.job!.id, JobStage.SUCCEEDED);
});

it('stops a job that runs past its wall-clock budget; it fails with the reason, without a retry', async () => {
  await admin.setBudget({ productId: 'slow', jobWallClockLimit: { seconds: 1n } });
  const { job } = await jobs.submitJob({ productId: 'slow', command: ['sleep', '60'], maxAttempts: 3 });
  await waitForStage(jobs, job!.id, JobStage.FAILED);
  const failed = (await jobs.getJob({ jobId: job!.id })).job!;
  expect(failed.reason).toMatch(/^wall-clock budget 1s exceeded \(ran [\d.]+s\)$/);
  expect(failed.attempts).toHaveLength(1);
  const events = [];
  for await (const res of jobs.watchJobs({ jobId: job!.id })) {
    events.push(res.event!);
    if (res.event!.toStage === JobStage.FAILED) break;
  }
  expect(events.find((e) => e.kind === 'cancel_requested')).toMatchObject({ actor: 'budget' });
  expect(await metric(/^gigafactory_budget_stops_total\{product="slow"\}/)).toMatch(/ 1$/);
});

it('answers an unknown product with an empty budget, and refuses bad input over the gateway naming the field', async () => {
  const fresh = await admin.getBudget({ productId: 'never-configured' });
  expect(fresh.budget).toMatchObject({ productId: 'never-configured', state: BudgetState.OK, costLimit: 0, spent: 0, paused: false, revision: 0n });
  expect(fresh.budget!.jobWallClockLimit).toBeUndefined();

  const call = async (method: string, body: unknown) => {
    const service = method.endsWith('Job') ? 'JobService' : 'AdminService';
    const res = await fetch(`${server.httpUrl}/gigafactory.fleet.v1.${service}/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { code?: string; message?: string } };
  };
  const refused = { status: 400, json: expect.objectContaining({ code: 'invalid_argument' }) };
  expect(await call('SetBudget', { productId: 'bad', costLimit: -1 })).toEqual({ ...refused, json: { code: 'invalid_argument', message: 'cost_limit -1 must not be negative' } });
  expect(await call('SetBudget', { productId: 'bad', costLimit: 'NaN' })).toEqual({ ...refused, json: { code: 'invalid_argument', message: 'cost_limit NaN must be a finite number' } });
  expect(await call('SetBudget', { productId: 'bad', jobWallClockLimit: '-5s' })).toEqual({ ...refused, json: { code: 'invalid_argument', message: 'job_wall_clock_limit -5s must not be negative' } });
  expect((await call('SetBudget', { productId: 'bad', period: 9 })).json.message).toBe('period 9 is not a known BUDGET_PERIOD_* value');
  expect((await call('SetBudget', { productId: 'Bad Id', costLimit: 1 })).json.code).toBe('invalid_argument');
  expect((await call('PauseBudget', { productId: 'bad', reason: 'x'.repeat(501) })).json.message).toBe('reason is 501 characters; at most 500 are allowed');
  expect(await call('SubmitJob', { productId: 'bad', command: ['true'], estimatedCost: -2 })).toEqual({ ...refused, json: { code: 'invalid_argument', message: 'estimated_cost -2 must not be negative' } });
  // Nothing was half-written: the product still has no budget and no job.
  expect((await admin.getBudget({ productId: 'bad' })).budget).toMatchObject({ revision: 0n, costLimit: 0, paused: false });
  expect((await jobs.listJobs({ productId: 'bad' })).jobs).toHaveLength(0);
  await expect(admin.getBudget({ productId: '' })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: 'product_id is required' });
});

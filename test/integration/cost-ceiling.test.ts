/**
 * Live cost metering and a job's cost ceiling, with a real agent process: a job that appends to its
 * cost file in a loop moves its product's spend while it runs, is warned near its ceiling (the
 * notice file), and is stopped at it, ending failed with the reason and its spend within one report
 * of the ceiling; a product's default ceiling, and its exhausted budget stopping a running job.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { readLogs, waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let workDir: string;
let agent: ManagedProcess | undefined;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;

beforeAll(async () => {
  server = await startTestServer({ leaseTtlMs: 6_000, heartbeatIntervalMs: 500, cancelGraceMs: 2_000 });
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  jobs = createClient(JobService, transport);
  admin = createClient(AdminService, transport);
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-cost-'));
  agent = await spawnAgent({ coordinator: server.grpc.address, id: 'meter', workDir, readyTimeoutMs: 60_000 });
});
afterAll(async () => {
  await agent?.kill('SIGKILL');
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** Spends 1.00 a second, forever; prints the agent's notice once it appears. */
const LOOP = [
  'while true; do',
  '  echo 1 >> "$GIGAFACTORY_COST_FILE"',
  '  if [ -z "$warned" ] && [ -s "$GIGAFACTORY_COST_NOTICE_FILE" ]; then echo "notice: $(cat "$GIGAFACTORY_COST_NOTICE_FILE")"; warned=1; fi',
  '  sleep 1',
  'done',
].join('\n');

it('a looping job moves its product spend as it runs, is warned at 80 %, and is stopped at its ceiling', async () => {
  await admin.setBudget({ productId: 'metered', costLimit: 1_000 });
  const { job } = await jobs.submitJob({ productId: 'metered', command: ['sh', '-c', LOOP], costCeiling: 5 });
  expect(job!.costCeiling).toBe(5);
  await waitForStage(jobs, job!.id, JobStage.RUNNING);
  // While it runs: its own cost and its product's spend move.
  await expect.poll(async () => (await jobs.getJob({ jobId: job!.id })).job!.cost, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(2);
  expect((await jobs.getJob({ jobId: job!.id })).job!.stage).toBe(JobStage.RUNNING);
  expect((await admin.getBudget({ productId: 'metered' })).budget!.spent).toBeGreaterThanOrEqual(2);

  await waitForStage(jobs, job!.id, JobStage.FAILED);
  const ended = (await jobs.getJob({ jobId: job!.id })).job!;
  const reached = Number(/^cost ceiling 5\.00 reached at (\d+\.\d\d)$/.exec(ended.reason)?.[1]);
  // Stopped by the report that crossed the ceiling: one report carries about one second's spend.
  expect(reached).toBeGreaterThanOrEqual(5);
  expect(reached).toBeLessThan(5 + 2);
  expect(ended.cost).toBeGreaterThanOrEqual(reached); // the final total, from the file, as spent until the stop
  expect(await readLogs(jobs, job!.id)).toMatch(/notice: cost 4\.00 is 80 % of the job's ceiling 5\.00; at the ceiling the job is stopped/);
  expect((await admin.getBudget({ productId: 'metered' })).budget!.spent).toBe(ended.cost);
}, 180_000);

it("a product's default ceiling applies to a job that sets none; its exhausted budget stops its running job", async () => {
  const set = await admin.setBudget({ productId: 'capped', costLimit: 3, jobCostCeiling: 10, stopRunningWhenExhausted: true });
  expect(set.budget).toMatchObject({ jobCostCeiling: 10, stopRunningWhenExhausted: true });
  const { job } = await jobs.submitJob({ productId: 'capped', command: ['sh', '-c', LOOP] });
  expect(job!.costCeiling).toBe(10);
  await waitForStage(jobs, job!.id, JobStage.FAILED);
  const ended = (await jobs.getJob({ jobId: job!.id })).job!;
  expect(ended.reason).toMatch(/^budget exhausted: \d+(\.\d+)? of 3 spent this day$/);
  expect(ended.cost).toBeGreaterThanOrEqual(3);
}, 180_000);

it('a running job whose product runs out of budget without a new report of its own is stopped at the next budget check', async () => {
  // The job reports once and then spends nothing more, so no cost report of its own can stop it:
  // the periodic check is what does (it is also how another replica's spend stops jobs here).
  await admin.setBudget({ productId: 'lowered', costLimit: 1_000 });
  const { job } = await jobs.submitJob({ productId: 'lowered', command: ['sh', '-c', 'echo 2 >> "$GIGAFACTORY_COST_FILE"; sleep 120'] });
  await expect.poll(async () => (await admin.getBudget({ productId: 'lowered' })).budget!.spent, { timeout: 60_000, interval: 200 }).toBe(2);
  await admin.setBudget({ productId: 'lowered', costLimit: 1, stopRunningWhenExhausted: true });
  await waitForStage(jobs, job!.id, JobStage.FAILED);
  expect((await jobs.getJob({ jobId: job!.id })).job!.reason).toMatch(/^budget exhausted: 2 of 1 spent this day$/);
}, 180_000);

it('refuses a cost ceiling that is negative or not finite, naming the field', async () => {
  await expect(jobs.submitJob({ productId: 'metered', command: ['true'], costCeiling: -1 })).rejects.toThrow(/cost_ceiling -1 must not be negative/);
  await expect(jobs.submitJob({ productId: 'metered', command: ['true'], costCeiling: Number.NaN })).rejects.toThrow(/cost_ceiling NaN must be a finite number/);
  await expect(admin.setBudget({ productId: 'metered', jobCostCeiling: -2 })).rejects.toThrow(/job_cost_ceiling -2 must not be negative/);
});

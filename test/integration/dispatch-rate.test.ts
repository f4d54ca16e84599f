/**
 * Dispatch rate limits with real agent processes: a product limited to 2 starts per second (burst 2)
 * with six free slots never has more of its jobs offered over any interval T than 2 + 2 × T/1s, as
 * the coordinator's record of each attempt's offer shows; ExplainScore says until when a job is
 * rate limited; the limit round-trips through Get/SetProductSettings; bad limits are refused
 * naming the field.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService, DispatchRateLimitSchema } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-rate-'));
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ heartbeatIntervalMs: 300, reaperIntervalMs: 100 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  for (const id of ['a', 'b']) agents.push(await spawnAgent({ coordinator: server.grpc.address, id, slots: 3, workDir: join(root, id) }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const limit = (jobs: number, perMs: number, burst = 0) => create(DispatchRateLimitSchema, { jobs, per: durationFromMs(perMs), burst });

it('never offers more of a product\'s jobs over any interval than burst + rate × T, with six free slots', async () => {
  const { settings } = await admin.setProductSettings({ productId: 'throttled', dispatchRateLimit: limit(2, 1_000) });
  expect(settings?.dispatchRateLimit).toMatchObject({ jobs: 2, burst: 2 });
  expect((await admin.getProductSettings({ productId: 'throttled' })).settings?.dispatchRateLimit?.jobs).toBe(2);
  const { results } = await jobs.submitJobs({ jobs: Array.from({ length: 10 }, () => ({ productId: 'throttled', command: ['true'] })) });
  for (const { job } of results) await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
  const offers = (await Promise.all(results.map(async ({ job }) => (await jobs.getJob({ jobId: job!.id })).job!)))
    .flatMap((j) => j.attempts.map((a) => timestampMs(a.offerTime!)))
    .sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0; i < offers.length; i++) {
    for (let j = i; j < offers.length; j++) worst = Math.max(worst, j - i + 1 - (2 + (2 * (offers[j]! - offers[i]!)) / 1_000));
  }
  const span = offers.at(-1)! - offers[0]!;
  console.log(`dispatch rate 2/s burst 2: ${offers.length} offers over ${span} ms; most over the bound: ${worst.toFixed(3)} (must be <= 0)`);
  expect(worst).toBeLessThanOrEqual(1e-9);
  expect(span).toBeGreaterThanOrEqual(3_500); // ten starts at 2/s after a burst of 2: the limit held them back
}, 120_000);

it('ExplainScore says until when a job is rate limited', async () => {
  await admin.setProductSettings({ productId: 'slow', dispatchRateLimit: limit(1, 60_000) });
  const { job: first } = await jobs.submitJob({ productId: 'slow', command: ['true'] });
  await waitForStage(jobs, first!.id, JobStage.SUCCEEDED);
  const { job: second } = await jobs.submitJob({ productId: 'slow', command: ['true'] });
  const explained = await jobs.explainScore({ jobId: second!.id });
  expect(explained.waitingReasons).toHaveLength(1);
  expect(explained.waitingReasons[0]).toMatch(/^rate limited until \d{4}-\d\d-\d\dT[\d:.]+Z \(in (59s|1m)\): product slow starts at most 1 per 1m, burst 1$/);
  const rate = explained.factories[0]?.checks.find((c) => c.name === 'rate');
  expect(rate).toMatchObject({ passed: false, detail: explained.waitingReasons[0] });
  // Removing the limit lets it run at once.
  const { settings } = await admin.setProductSettings({ productId: 'slow', dispatchRateLimit: limit(0, 0) });
  expect(settings?.dispatchRateLimit).toBeUndefined();
  await waitForStage(jobs, second!.id, JobStage.SUCCEEDED);
}, 60_000);

it('refuses a bad limit naming the field, and changes nothing', async () => {
  const refusal = async (dispatchRateLimit: ReturnType<typeof limit>): Promise<string> => {
    const err = await admin.setProductSettings({ productId: 'throttled', dispatchRateLimit }).then(() => null, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.InvalidArgument);
    return err!.rawMessage;
  };
  expect(await refusal(create(DispatchRateLimitSchema, { jobs: 3 }))).toBe('dispatch_rate_limit.per is required (from 1s to 1 day)');
  expect(await refusal(limit(3, 100))).toBe('dispatch_rate_limit.per 0.1s must be from 1s to 1 day');
  expect(await refusal(limit(3, 2 * 86_400_000))).toBe('dispatch_rate_limit.per 172800s must be from 1s to 1 day');
  expect(await refusal(limit(3, 1_000, 2_000_000))).toMatch(/^dispatch_rate_limit.burst 2000000 must be a whole number from 1 to 1000000$/);
  expect((await admin.getProductSettings({ productId: 'throttled' })).settings?.dispatchRateLimit).toMatchObject({ jobs: 2, burst: 2 });
});

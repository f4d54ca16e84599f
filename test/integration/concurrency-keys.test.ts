/**
 * Concurrency keys with real agents: under contention (more free slots than the key allows), jobs
 * sharing a key never hold more leases than its limit, as the coordinator's own records of each
 * attempt (offer to end, which brackets the process) show; ExplainScore says why one waits; bad
 * input is refused naming the field.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobStage, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-keys-'));
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  server = await startTestServer({ heartbeatIntervalMs: 300, reaperIntervalMs: 100 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  for (const id of ['a', 'b', 'c']) agents.push(await spawnAgent({ coordinator: server.grpc.address, id, slots: 2, workDir: join(root, id) }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The most attempts whose [offer, end] intervals overlap at one moment. */
function maxOverlap(done: Job[]): number {
  const edges = done.flatMap((j) => j.attempts.flatMap((a) => [[timestampMs(a.offerTime!), 1] as const, [timestampMs(a.endTime!), -1] as const]));
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // an end before a start at the same instant
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (now += delta));
  return most;
}

it('never lets more jobs of a key hold leases than its limit, with six free slots', async () => {
  const keyed = Array.from({ length: 8 }, () => ({ productId: 'deploys', command: ['sleep', '0.3'], concurrencyKey: 'deploy-prod', concurrencyLimit: 2 }));
  const free = Array.from({ length: 4 }, () => ({ productId: 'deploys', command: ['true'] }));
  const { results } = await jobs.submitJobs({ jobs: [...keyed, ...free] });
  for (const { job } of results) await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
  const done = await Promise.all(results.slice(0, keyed.length).map(async ({ job }) => (await jobs.getJob({ jobId: job!.id })).job!));
  expect(done.every((j) => j.concurrencyKey === 'deploy-prod' && j.concurrencyLimit === 2)).toBe(true);
  const overlap = maxOverlap(done);
  console.log(`concurrency key deploy-prod (limit 2): at most ${overlap} held leases at once over ${done.length} jobs`);
  expect(overlap).toBeLessThanOrEqual(2);
  expect(overlap).toBe(2); // six free slots: the limit, not the fleet, held them back
}, 120_000);

it('ExplainScore says a job waits for its key', async () => {
  const { job: first } = await jobs.submitJob({ productId: 'deploys', command: ['sleep', '3'], concurrencyKey: 'deploy-staging' });
  await waitForStage(jobs, first!.id, JobStage.RUNNING);
  const { job: second } = await jobs.submitJob({ productId: 'deploys', command: ['true'], concurrencyKey: 'deploy-staging' });
  expect((await jobs.explainScore({ jobId: second!.id })).waitingReasons).toEqual(['waiting: concurrency key deploy-staging at its limit 1/1']);
  await waitForStage(jobs, second!.id, JobStage.SUCCEEDED);
  const [a, b] = await Promise.all([first, second].map(async (j) => (await jobs.getJob({ jobId: j!.id })).job!));
  expect(timestampMs(b!.attempts[0]!.offerTime!)).toBeGreaterThanOrEqual(timestampMs(a!.attempts[0]!.endTime!));
}, 60_000);

it('refuses a bad key or limit naming the field', async () => {
  const refusal = async (request: Parameters<typeof jobs.submitJob>[0]): Promise<string> => {
    const err = await jobs.submitJob(request).then(() => null, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.InvalidArgument);
    return err!.rawMessage;
  };
  expect(await refusal({ productId: 'deploys', command: ['true'], concurrencyLimit: 2 })).toBe('concurrency_limit needs a concurrency_key');
  expect(await refusal({ productId: 'deploys', command: ['true'], concurrencyKey: 'deploy prod' })).toMatch(/^concurrency_key "deploy prod" must be 1-128 characters/);
  expect(await refusal({ productId: 'deploys', command: ['true'], concurrencyKey: 'k', concurrencyLimit: 20_000 })).toMatch(/^concurrency_limit 20000 must be from 1 to 10000/);
  expect(await refusal({ productId: 'deploys', command: ['true'], concurrencyKey: 'k', concurrencyLimit: -1 })).toMatch(/^concurrency_limit -1/);
});

/**
 * JobService.SubmitJobs over the Cosmos store (the test server): a call's jobs are stored
 * concurrently, each idempotency key returns its first job on a retried call, and a call that
 * repeats a key within a product is refused before anything is stored.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let replica: TestServer;
let jobs: Client<typeof JobService>;

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  replica = await startReplica(cosmos, cosmos.freshDatabase());
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: replica.grpcUrl }));
});
afterAll(async () => {
  await replica?.stop();
  await cosmos?.close();
});

it('stores a call of jobs on Cosmos and returns the same jobs for a retried call', async () => {
  const batch = Array.from({ length: 40 }, (_, i) => ({ productId: i % 2 ? 'cosmos-a' : 'cosmos-b', title: `t${i}`, command: ['true'], idempotencyKey: `k${i >> 1}` }));
  const first = await jobs.submitJobs({ jobs: batch });
  expect(first.results.map((r) => r.created)).toEqual(batch.map(() => true));
  expect(first.results.map((r) => r.job!.title)).toEqual(batch.map((b) => b.title));

  const again = await jobs.submitJobs({ jobs: batch });
  expect(again.results.map((r) => r.created)).toEqual(batch.map(() => false));
  expect(again.results.map((r) => r.job!.id)).toEqual(first.results.map((r) => r.job!.id));
  for (const product of ['cosmos-a', 'cosmos-b']) expect((await jobs.listJobs({ productId: product, pageSize: 100 })).jobs).toHaveLength(20);

  await expect(jobs.submitJobs({ jobs: [{ productId: 'cosmos-c', command: ['true'], idempotencyKey: 'x' }, { productId: 'cosmos-c', command: ['true'], idempotencyKey: 'x' }] })).rejects.toThrow(/jobs\[1\]\.idempotency_key "x" is used by jobs\[0\]/);
  expect((await jobs.listJobs({ productId: 'cosmos-c' })).jobs).toHaveLength(0);
}, 60_000);

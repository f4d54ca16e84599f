/**
 * A replica on a Cosmos account whose request units run out (test/support/cosmos-proxy.ts: 6 ms
 * round trips, a small RU budget per container): the SDK waits out each 429's retry-after, every
 * job still runs once and succeeds, and /metrics counts the 429s the replica met.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let proxy: CosmosProxy;
let replica: TestServer;
let jobs: Client<typeof JobService>;
let factory: RawFactory;

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  proxy = await startCosmosProxy({ target: cosmos.endpoint });
  replica = await startReplica({ ...cosmos, endpoint: proxy.endpoint }, cosmos.freshDatabase());
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: replica.grpcUrl }));
});
afterAll(async () => {
  factory?.breakStream();
  await replica?.stop();
  await proxy?.close();
  await cosmos?.close();
});

/** The replica's 429 counter, summed over its containers. */
async function throttledOnMetrics(): Promise<number> {
  const text = await (await fetch(`${replica.httpUrl}/metrics`)).text();
  return [...text.matchAll(/^gigafactory_cosmos_throttled_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

it('runs every job once while Cosmos answers 429, and counts the 429s', async () => {
  factory = new RawFactory(replica.grpcUrl);
  factory.hello('throttled', { slots: 4, labels: { os: 'linux' } });
  await factory.next('welcome');
  proxy.setBudget(60); // RU/s per container: a few jobs' worth, below what 12 jobs at once ask for

  const submitted = await Promise.all(Array.from({ length: 12 }, (_, i) => jobs.submitJob({ productId: 'throttled', title: `t${i}`, command: ['true'] })));
  const ids = new Set(submitted.map((s) => s.job!.id));
  const offered: string[] = [];
  const acked: Promise<unknown>[] = [];
  while (offered.length < ids.size) {
    const offer = await factory.next('leaseOffer');
    offered.push(offer.jobId);
    factory.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    factory.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED } });
    acked.push(factory.next('resultAck', (m) => m.jobId === offer.jobId));
  }
  await Promise.all(acked);
  expect(new Set(offered)).toEqual(ids); // each job offered once: none lost, none run twice
  const throttledAtProxy = proxy.stats().throttled;
  expect(throttledAtProxy).toBeGreaterThan(0);

  proxy.setBudget(null); // no more 429s: the replica's count catches up with the proxy's
  for (const id of ids) expect((await jobs.getJob({ jobId: id })).job!.stage).toBe(JobStage.SUCCEEDED);
  let counted = await throttledOnMetrics();
  while (counted < proxy.stats().throttled) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    counted = await throttledOnMetrics();
  }
  expect(counted).toBe(proxy.stats().throttled);
  console.log(`429s met by the replica: ${counted}, RU charged: ${JSON.stringify(proxy.stats().chargedByContainer)}`);
  const text = await (await fetch(`${replica.httpUrl}/metrics`)).text();
  expect(text).toMatch(/^gigafactory_cosmos_throttle_wait_seconds_total\{container="jobs"\} [0-9.e-]*[1-9]/m);
}, 60_000);

/**
 * A dispatch rate limit across two replicas over one Cosmos store: each replica has a factory with
 * free slots and lists the same queued jobs, yet together they offer the product's jobs no faster
 * than one bucket allows (burst + rate × T over any interval T), because every offer first takes a
 * token from the product's one bucket document with If-Match.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService, DispatchRateLimitSchema } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { waitForStage } from '../support/jobs.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let a: TestServer;
let b: TestServer;
const factories: RawFactory[] = [];
let running = true;

const jobsOn = (server: TestServer): Client<typeof JobService> => createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  const database = cosmos.freshDatabase();
  a = await startReplica(cosmos, database);
  b = await startReplica(cosmos, database);
});
afterAll(async () => {
  running = false;
  for (const f of factories) f.breakStream();
  await a?.stop();
  await b?.stop();
  await cosmos?.close();
});

/** A factory with free slots that accepts every offer and succeeds at once. */
async function eagerFactory(server: TestServer, id: string): Promise<void> {
  const factory = new RawFactory(server.grpcUrl);
  factories.push(factory);
  factory.hello(id, { slots: 4 });
  await factory.next('welcome');
  void (async () => {
    while (running) {
      const offer = await factory.next('leaseOffer').catch(() => null);
      if (!offer) return;
      factory.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
      factory.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED } });
    }
  })();
}

it('two replicas together offer a limited product no faster than its one bucket allows', async () => {
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: a.grpcUrl }));
  const adminB = createClient(AdminService, createGrpcTransport({ baseUrl: b.grpcUrl }));
  await admin.setProductSettings({ productId: 'metered', dispatchRateLimit: create(DispatchRateLimitSchema, { jobs: 2, per: durationFromMs(1_000), burst: 2 }) });
  // The other replica picks the limit up on its settings refresh.
  while ((await adminB.getProductSettings({ productId: 'metered' })).settings?.dispatchRateLimit === undefined) await new Promise((r) => setTimeout(r, 100));
  await eagerFactory(a, 'on-a');
  await eagerFactory(b, 'on-b');
  const { results } = await jobsOn(a).submitJobs({ jobs: Array.from({ length: 12 }, () => ({ productId: 'metered', command: ['true'] })) });
  for (const { job } of results) await waitForStage(jobsOn(b), job!.id, JobStage.SUCCEEDED);
  const done = await Promise.all(results.map(async ({ job }) => (await jobsOn(a).getJob({ jobId: job!.id })).job!));
  const offers = done.flatMap((j) => j.attempts.map((at) => ({ at: timestampMs(at.offerTime!), factory: at.factoryId }))).sort((x, y) => x.at - y.at);
  let worst = -Infinity;
  for (let i = 0; i < offers.length; i++) for (let j = i; j < offers.length; j++) worst = Math.max(worst, j - i + 1 - (2 + (2 * (offers[j]!.at - offers[i]!.at)) / 1_000));
  const byFactory = { a: offers.filter((o) => o.factory === 'on-a').length, b: offers.filter((o) => o.factory === 'on-b').length };
  console.log(`two replicas, 2/s burst 2: ${offers.length} offers (a ${byFactory.a}, b ${byFactory.b}) over ${offers.at(-1)!.at - offers[0]!.at} ms; most over the bound: ${worst.toFixed(3)}`);
  expect(worst).toBeLessThanOrEqual(1e-9);
}, 120_000);

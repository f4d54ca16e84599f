/**
 * Placement decisions over Cosmos outlive the replica that placed the job and are seen by the
 * others: a replica places a job and records its outcome, stops (writing what it buffered before its
 * store closes), and a replica started afterwards lists the decision with its outcome.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { startAzurite, type Azurite } from '../support/azurite.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let azurite: Azurite;
let database: string;
const replicas: TestServer[] = [];
let factory: RawFactory | undefined;

beforeAll(async () => {
  [cosmos, azurite] = await Promise.all([startCosmosTestServer(), startAzurite()]);
  database = cosmos.freshDatabase();
});
/** With store cosmos a replica keeps artifact bytes in Blob Storage, so it needs an account to start. */
const replica = (): Promise<TestServer> => startReplica(cosmos, database, { blobConnectionString: azurite.connectionString, blobContainer: azurite.freshContainer() });
afterAll(async () => {
  factory?.breakStream();
  await Promise.all(replicas.map((r) => r.stop()));
  await cosmos?.close();
  await azurite?.stop();
});

it('a decision placed on one replica, with its outcome, is listed by a replica started after it stopped', async () => {
  const placing = await replica();
  replicas.push(placing);
  factory = new RawFactory(placing.grpcUrl);
  factory.hello('placed-on', { slots: 1, labels: {} });
  await factory.next('welcome');
  const { job } = await createClient(JobService, createGrpcTransport({ baseUrl: placing.grpcUrl })).submitJob({ productId: 'decided', command: ['true'] });
  const offer = await factory.next('leaseOffer');
  expect(offer.jobId).toBe(job!.id);
  factory.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
  factory.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED } });
  await factory.next('resultAck');
  factory.breakStream();
  await placing.stop(); // the decision and its outcome are still buffered: stopping writes them

  const later = await replica();
  replicas.push(later);
  const [decision, ...others] = await later.coordinator.fleet.decisions.store.listDecisions('decided', 10);
  expect(others).toEqual([]);
  expect(decision).toMatchObject({ jobId: job!.id, epoch: Number(offer.epoch), productId: 'decided', chosen: { factoryId: expect.any(String) }, outcome: { result: 'succeeded' } });
}, 30_000);

/**
 * Budgets across replicas over one Cosmos store: spend recorded by one replica's factory reaches
 * another replica's dispatch check through the store (its periodic refresh), so that replica holds
 * the product's jobs back too, says why, and still dispatches other products' jobs.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { BudgetState } from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let a: TestServer;
let b: TestServer;
const factories: RawFactory[] = [];

const clients = (server: TestServer): { jobs: Client<typeof JobService>; admin: Client<typeof AdminService> } => {
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  return { jobs: createClient(JobService, transport), admin: createClient(AdminService, transport) };
};

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  const database = cosmos.freshDatabase();
  a = await startReplica(cosmos, database);
  b = await startReplica(cosmos, database);
});
afterAll(async () => {
  for (const f of factories) f.breakStream();
  await a?.stop();
  await b?.stop();
  await cosmos?.close();
});

async function factoryOn(server: TestServer, id: string): Promise<RawFactory> {
  const factory = new RawFactory(server.grpcUrl);
  factories.push(factory);
  factory.hello(id, { slots: 1, labels: { os: 'linux' } });
  await factory.next('welcome');
  return factory;
}

it('spend reported on one replica exhausts the budget on the other', async () => {
  const onA = clients(a);
  const onB = clients(b);
  await onA.admin.setBudget({ productId: 'shared', costLimit: 2 });
  const payer = await factoryOn(a, 'payer');
  for (let i = 0; i < 2; i++) {
    const { job } = await onA.jobs.submitJob({ productId: 'shared', command: ['true'] });
    const offer = await payer.next('leaseOffer', (o) => o.jobId === job!.id);
    payer.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    payer.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, cost: 1 } });
    await payer.next('resultAck', (r) => r.jobId === job!.id);
  }
  payer.breakStream();

  // Submitted on B while B has no factory, so only B's budget check can keep it from running.
  const { job: held } = await onB.jobs.submitJob({ productId: 'shared', command: ['true'] });
  await expect.poll(async () => (await onB.jobs.getJob({ jobId: held!.id })).job!.reason, { timeout: 20_000, interval: 200 }).toBe('budget exhausted: 2 of 2 spent this day');
  expect((await onB.admin.getBudget({ productId: 'shared' })).budget).toMatchObject({ state: BudgetState.EXHAUSTED, spent: 2 });

  const worker = await factoryOn(b, 'worker');
  const { job: other } = await onB.jobs.submitJob({ productId: 'unlimited', command: ['true'] });
  const offer = await worker.next('leaseOffer');
  expect(offer.jobId).toBe(other!.id); // the held job, older, is passed over
  const stillHeld = (await onB.jobs.getJob({ jobId: held!.id })).job!;
  expect(stillHeld).toMatchObject({ stage: JobStage.QUEUED, attempts: [] });
}, 60_000);

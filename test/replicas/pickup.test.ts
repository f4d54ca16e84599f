/**
 * The bound on cross-replica pickup: an idle replica reads the store at least every
 * SHARED_POLL.maxMs, also when its reaper's dispatch passes fall between its polls (a poll skipped
 * because a pass listed the store recently is moved to one delay after that pass, not a whole
 * delay later). The job is stored by this process, as another replica would store it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { systemClock } from '../../src/coordinator/clock.js';
import { SHARED_POLL } from '../../src/coordinator/fleet.js';
import { JobFeed } from '../../src/coordinator/job-feed.js';
import { Jobs } from '../../src/coordinator/jobs.js';
import { openCosmosStore, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let replica: TestServer;
let store: CosmosJobStore;
let factory: RawFactory;

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  const database = cosmos.freshDatabase();
  replica = await startReplica(cosmos, database, { reaperIntervalMs: 1_000 }); // the default: ticks fall between polls
  store = await openCosmosStore({ endpoint: cosmos.endpoint, key: cosmos.key, database });
});
afterAll(async () => {
  factory?.breakStream();
  await replica?.stop();
  await store?.close();
  await cosmos?.close();
});

it('an idle replica offers a job stored elsewhere within its slowest poll', async () => {
  factory = new RawFactory(replica.grpcUrl);
  factory.hello('idle', { slots: 1, labels: { os: 'linux' } });
  await factory.next('welcome');
  const elsewhere = new Jobs(store, new JobFeed(), systemClock);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 900 + Math.random() * 300)); // backed off, at a random phase
    const { job } = await elsewhere.submit({ productId: 'pickup', title: '', command: ['true'], env: {}, requiredLabels: [], priority: 0, idempotencyKey: '', maxAttempts: 0, timeoutMs: 0 }, 'test');
    const stored = Date.now();
    const offer = await factory.next('leaseOffer');
    delays.push(Date.now() - stored);
    expect(offer.jobId).toBe(job.id);
    factory.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    factory.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED } });
    await factory.next('resultAck');
  }
  console.log(`idle pickup of jobs stored elsewhere: ${delays.join(', ')} ms`);
  // The slowest poll, plus one dispatch pass and the offer's way to the factory (a skipped poll
  // that waited a whole delay more would show up as 600-1,000 ms).
  expect(Math.max(...delays)).toBeLessThan(SHARED_POLL.maxMs + 200);
}, 30_000);

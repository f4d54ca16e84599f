/**
 * Live views across replicas: a job runs on a factory connected to replica B, and a client of
 * replica A follows it. A's feed never hears of B's changes, so A's TailLogs (follow) and WatchJobs
 * (one job) read the store, within the live poll's back-off (100-500 ms).
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { LIVE_POLL } from '../../src/coordinator/store-poll.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
const servers: TestServer[] = [];
const factories: RawFactory[] = [];

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
});
afterEach(async () => {
  for (const f of factories.splice(0)) f.breakStream();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await cosmos?.close();
});

async function twoReplicas(): Promise<[TestServer, TestServer]> {
  const database = cosmos.freshDatabase();
  const a = await startReplica(cosmos, database);
  const b = await startReplica(cosmos, database);
  servers.push(a, b);
  return [a, b];
}

const jobClient = (server: TestServer): Client<typeof JobService> => createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

it('follows the logs and changes of a job running on a factory of another replica', async () => {
  const [a, b] = await twoReplicas();
  const far = new RawFactory(b.grpcUrl);
  factories.push(far);
  far.hello('far', { labels: { os: 'linux' } });
  await far.next('welcome');

  const jobsA = jobClient(a);
  const { job } = await jobsA.submitJob({ productId: 'live', command: ['true'] });
  const jobId = job!.id;

  // Followers on A, opened before the job runs anywhere.
  const chunks: { text: string; at: number }[] = [];
  const tail = (async () => {
    for await (const res of jobsA.tailLogs({ jobId, follow: true })) chunks.push({ text: new TextDecoder().decode(res.chunk!.data), at: Date.now() });
  })();
  const stages: { stage: JobStage; at: number; withJob: boolean }[] = [];
  const watch = (async () => {
    for await (const res of jobsA.watchJobs({ jobId })) {
      stages.push({ stage: res.event!.toStage, at: Date.now(), withJob: res.event!.job !== undefined });
      if (res.event!.toStage === JobStage.SUCCEEDED) return;
    }
  })();

  // B finds A's job through the store and offers it to its factory.
  const offer = await far.next('leaseOffer');
  expect(offer.jobId).toBe(jobId);
  far.send({ case: 'leaseAccept', value: { jobId, epoch: offer.epoch } });
  await expect.poll(() => stages.map((s) => s.stage), { timeout: 5_000, interval: 20 }).toContain(JobStage.RUNNING);

  const sentFirst = Date.now();
  far.send({ case: 'logChunk', value: { jobId, epoch: offer.epoch, sequence: 0n, stream: LogStream.STDOUT, data: text('one\n') } });
  await expect.poll(() => chunks.length, { timeout: 5_000, interval: 10 }).toBe(1);
  const firstDelay = chunks[0]!.at - sentFirst;

  far.send({ case: 'logChunk', value: { jobId, epoch: offer.epoch, sequence: 1n, stream: LogStream.STDOUT, data: text('two\n') } });
  far.send({ case: 'jobResult', value: { jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, logChunkCount: 2n } });
  const sentResult = Date.now();
  await far.next('resultAck', (ack) => ack.jobId === jobId);

  // Both followers end on their own: the tail once the job is final (with every chunk), the watch on SUCCEEDED.
  await Promise.all([tail, watch]);
  expect(chunks.map((c) => c.text).join('')).toBe('one\ntwo\n');
  // (A, with no factory, may also note the job as unplaceable while queued: a queued → queued event.)
  const path = stages.map((s) => s.stage).filter((stage, i, all) => i === 0 || all[i - 1] !== stage);
  expect(path).toEqual([JobStage.QUEUED, JobStage.LEASED, JobStage.RUNNING, JobStage.SUCCEEDED]);
  expect(stages.at(-1)!.withJob).toBe(true);
  const resultDelay = stages.at(-1)!.at - sentResult;
  // One poll at the longest back-off, plus store round trips and a busy machine's scheduling.
  expect(firstDelay).toBeLessThan(LIVE_POLL.maxMs + 1_000);
  expect(resultDelay).toBeLessThan(LIVE_POLL.maxMs + 1_000);
  console.log(`cross-replica live views: log chunk seen on the other replica after ${firstDelay} ms, final change after ${resultDelay} ms`);
});

it('still follows a job of its own replica at once, and a finished job without following', async () => {
  const [a] = await twoReplicas();
  const near = new RawFactory(a.grpcUrl);
  factories.push(near);
  near.hello('near', { labels: { os: 'linux' } });
  await near.next('welcome');
  const jobsA = jobClient(a);
  const { job } = await jobsA.submitJob({ productId: 'live', command: ['true'] });
  const jobId = job!.id;
  const offer = await near.next('leaseOffer');
  near.send({ case: 'leaseAccept', value: { jobId, epoch: offer.epoch } });

  // The follower's polls of the store, seen as they happen (the store itself answers them).
  const readLogs = vi.spyOn(a.coordinator.store, 'readLogs');
  const polls = (): number => readLogs.mock.calls.filter(([id]) => id === jobId).length;
  const chunks: string[] = [];
  const tail = (async () => {
    for await (const res of jobsA.tailLogs({ jobId, follow: true })) chunks.push(new TextDecoder().decode(res.chunk!.data));
  })();
  // The follower backs off to its longest poll (100, 200, 400, then 500 ms after three empty reads):
  // the local feed must still wake it early.
  await vi.waitUntil(() => polls() >= 3, { timeout: 10_000, interval: 10 });
  const sent = Date.now();
  near.send({ case: 'logChunk', value: { jobId, epoch: offer.epoch, sequence: 0n, stream: LogStream.STDOUT, data: text('local\n') } });
  await expect.poll(() => chunks.length, { timeout: 5_000, interval: 5 }).toBe(1);
  expect(Date.now() - sent).toBeLessThan(LIVE_POLL.maxMs);
  near.send({ case: 'jobResult', value: { jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, logChunkCount: 1n } });
  await tail;
  expect(chunks).toEqual(['local\n']);

  const again: string[] = [];
  for await (const res of jobsA.tailLogs({ jobId, follow: false })) again.push(new TextDecoder().decode(res.chunk!.data));
  expect(again).toEqual(['local\n']);
});

/**
 * Placement when more factories are connected than a placement scores (SCORED_FACTORIES): a submit
 * looks at a round-robin window of factories with a free slot (Fleet.sessionsWithFreeSlots), and a
 * job that no factory of its window can run is placed by a pass, which looks at the whole fleet.
 * A real coordinator on SQLite and real factory streams on loopback.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { SCORED_FACTORIES } from '../../src/domain/scheduler.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

const FLEET = SCORED_FACTORIES + 50;

let server: TestServer;
let jobs: Client<typeof JobService>;
const factories: RawFactory[] = [];

beforeAll(async () => {
  server = await startTestServer({ reaperIntervalMs: 60_000 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  // The one factory with a GPU says hello last, so the first submits' windows do not start at it.
  for (let i = 0; i < FLEET; i++) {
    const f = new RawFactory(server.grpcUrl);
    factories.push(f);
    f.hello(i === FLEET - 1 ? 'gpu' : `cpu-${String(i).padStart(3, '0')}`, { slots: 1, labels: i === FLEET - 1 ? { gpu: 'a100' } : {} });
  }
  await Promise.all(factories.map((f) => f.next('welcome')));
});
afterAll(async () => {
  for (const f of factories.splice(0)) f.breakStream();
  await server.stop();
});

describe(`a fleet of ${FLEET} factories`, () => {
  it('places a job only one factory can run on that factory, from outside any submit window', async () => {
    const { job } = await jobs.submitJob({ productId: 'p', command: ['train'], requiredLabels: [{ key: 'gpu', operator: LabelOperator.EXISTS }] });
    const offer = await factories[FLEET - 1]!.next('leaseOffer');
    expect(offer.jobId).toBe(job!.id);
  });

  it('gives every submitted job a factory of its own while slots are free, never two to one slot', async () => {
    const submitted: string[] = [];
    for (let i = 0; i < FLEET - 1; i++) submitted.push((await jobs.submitJob({ productId: 'p', command: ['true'] })).job!.id);
    const holders = await Promise.all(
      submitted.map((id) => vi.waitUntil(async () => (await jobs.getJob({ jobId: id })).job?.lease?.factoryId, { timeout: 30_000, interval: 20 })),
    );
    expect(new Set(holders).size).toBe(FLEET - 1);
    expect(holders).not.toContain('gpu'); // its one slot is taken by the first test's job
  });
});

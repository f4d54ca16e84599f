/**
 * The coordinator's budget enforcement under a fake clock, message by message over a session link:
 * a running job is stopped on the reaper tick after its wall-clock budget runs out (not before),
 * its factory is sent a cancel with the reason, and its confirmation ends the job failed. Spend
 * reported in a result exhausts the product, so the next job is not offered, and a higher limit
 * releases it at once.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConnectRequestSchema, type CancelNotice, type ConnectResponse, type LeaseOffer } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { openSession, type FactorySession } from '../../src/api/factory-session.js';
import { Fleet } from '../../src/coordinator/fleet.js';
import { JobFeed } from '../../src/coordinator/job-feed.js';
import { Jobs } from '../../src/coordinator/jobs.js';
import type { FleetSettings } from '../../src/coordinator/lease-settings.js';
import { setLimits } from '../../src/domain/budget.js';
import type { JobSpec } from '../../src/domain/job.js';
import { createLogger } from '../../src/logging.js';
import { MemoryJobStore } from '../../src/store/memory/memory-store.js';
import { spec, T0 } from '../domain/helpers.js';

const HOUR = 3_600_000;
const SETTINGS: FleetSettings = {
  offerTimeoutMs: HOUR,
  leaseTtlMs: HOUR,
  heartbeatIntervalMs: HOUR,
  heartbeatTimeoutMs: 10 * HOUR,
  helloTimeoutMs: HOUR,
  reconnectGraceMs: HOUR,
  reaperIntervalMs: HOUR, // ticks only when the test calls tick()
  cancelGraceMs: 1_000,
  maxLogChunkBytes: 64 * 1024,
  retryBackoff: { baseMs: 1_000, maxMs: 60_000 },
  preemption: false,
  preemptionGraceMs: 1_000,
};

let clock: { t: number; now(): number };
let fleet: Fleet;
let jobs: Jobs;
let session: FactorySession;
let inbox: ConnectResponse[];

beforeEach(async () => {
  clock = { t: T0, now: () => clock.t };
  const store = new MemoryJobStore();
  const feed = new JobFeed();
  fleet = new Fleet({ store, feed, clock, settings: SETTINGS, log: createLogger({ level: 'silent', pretty: false }) });
  jobs = new Jobs(store, feed, clock, fleet.dispatch.submitClaimer);
  fleet.start();
  inbox = [];
  session = openSession(fleet, { send: (m) => inbox.push(m), end: () => undefined }, createLogger({ level: 'silent', pretty: false }));
  await send({ case: 'hello', value: { factoryId: 'f1', slots: 1, labels: {}, agentVersion: 'test' } });
});
afterEach(() => fleet.stop());

async function send(kind: NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>): Promise<void> {
  await session.handle(create(ConnectRequestSchema, { kind }));
  await settle();
}

/** Lets the feed watcher and the dispatch pass (setImmediate) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The offers, or the cancels, the coordinator sent, oldest first. */
function received(kind: 'leaseOffer'): LeaseOffer[];
function received(kind: 'cancel'): CancelNotice[];
function received(kind: 'leaseOffer' | 'cancel'): (LeaseOffer | CancelNotice)[] {
  return inbox.flatMap((m) => (m.kind.case === kind ? [m.kind.value] : []));
}

async function submitAndStart(overrides: Partial<JobSpec> = {}): Promise<{ jobId: string; epoch: bigint }> {
  const { job } = await jobs.submit(spec({ productId: 'acme', ...overrides }), 'test');
  await settle();
  const offer = received('leaseOffer').find((o) => o.jobId === job.id)!;
  expect(offer, 'the job was offered').toBeDefined();
  await send({ case: 'leaseAccept', value: { jobId: job.id, epoch: offer.epoch } });
  return { jobId: job.id, epoch: offer.epoch };
}

it('stops a job on the first tick after its wall-clock budget, and ends it failed with the reason', async () => {
  await fleet.budgets.change('acme', 'alice', (c) => setLimits(c, { costLimit: 0, period: 'day', jobWallClockLimitMs: 30_000 }));
  const { jobId, epoch } = await submitAndStart({ maxAttempts: 3 });

  clock.t += 30_000; // exactly the budget: still within
  await fleet.tick();
  await settle();
  expect(received('cancel')).toEqual([]);

  clock.t += 1;
  await fleet.tick();
  await settle();
  expect(received('cancel')).toEqual([expect.objectContaining({ jobId, epoch, reason: 'wall-clock budget 30s exceeded (ran 30.001s)' })]);
  expect((await jobs.get(jobId)).stage).toBe('running'); // until the factory confirms

  await fleet.tick(); // a second tick sends nothing more
  await settle();
  expect(received('cancel')).toHaveLength(1);

  await send({ case: 'jobResult', value: { jobId, epoch, outcome: AttemptOutcome.CANCELLED, exitCode: -15, message: 'stopped' } });
  expect(await jobs.get(jobId)).toMatchObject({ stage: 'failed', reason: 'wall-clock budget 30s exceeded (ran 30.001s)', attemptCount: 1 });
});

it('a job of a product without a wall-clock budget is never stopped', async () => {
  const { jobId } = await submitAndStart();
  clock.t += HOUR - 1; // within the lease (no heartbeats here)
  await fleet.tick();
  await settle();
  expect(received('cancel')).toEqual([]);
  expect((await jobs.get(jobId)).stage).toBe('running');
});

it('spend in a result exhausts the product at once; a higher limit releases its next job', async () => {
  await fleet.budgets.change('acme', 'alice', (c) => setLimits(c, { costLimit: 2, period: 'day', jobWallClockLimitMs: null }));
  const first = await submitAndStart();
  const { job: next } = await jobs.submit(spec({ productId: 'acme' }), 'test');
  await send({ case: 'jobResult', value: { jobId: first.jobId, epoch: first.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, cost: 2 } });
  await fleet.tick();
  await settle();
  expect(received('leaseOffer').map((o) => o.jobId)).toEqual([first.jobId]);
  expect(fleet.budgets.annotate(await jobs.get(next.id)).reason).toBe('budget exhausted: 2 of 2 spent this day');

  await fleet.budgets.change('acme', 'alice', (c) => setLimits(c, { costLimit: 3, period: 'day', jobWallClockLimitMs: null }));
  fleet.requestDispatch();
  await settle();
  expect(received('leaseOffer').map((o) => o.jobId)).toEqual([first.jobId, next.id]);
});

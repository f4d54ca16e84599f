/**
 * Two replicas over one Cosmos store tick the same schedules at the same (fake) times, at once:
 * every slot fires exactly once (the run's idempotency key and the cursor's etag compare-and-set),
 * and a schedule created on one replica fires from the other.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ScheduleOverlapPolicy } from '../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const MINUTE = 60_000;
const clock = { t: T0, now: () => clock.t };
let cosmos: CosmosTestServer;
let replicas: TestServer[] = [];

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  const database = cosmos.freshDatabase();
  replicas = [await startReplica(cosmos, database, {}, { clock }), await startReplica(cosmos, database, {}, { clock })];
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await cosmos?.close();
});

it('two replicas ticking together fire every slot exactly once', async () => {
  const [a, b] = replicas.map((r) => createGrpcTransport({ baseUrl: r.grpcUrl }));
  const schedules = createClient(ScheduleService, a!);
  const jobs = createClient(JobService, b!);
  const created = await Promise.all(
    [ScheduleOverlapPolicy.ALLOW, ScheduleOverlapPolicy.SKIP].map((overlapPolicy, i) =>
      schedules.createSchedule({ template: { productId: `twice-${i}`, command: ['true'] }, cron: '* * * * *', overlapPolicy }),
    ),
  );
  for (let minute = 1; minute <= 6; minute++) {
    clock.t = T0 + minute * MINUTE + 500;
    await Promise.all(replicas.flatMap((r) => [r.coordinator.schedules.tick(), r.coordinator.schedules.tick()]));
    // Runs finish between slots, so skip fires every slot too.
    for (const product of ['twice-0', 'twice-1']) {
      for (const job of (await jobs.listJobs({ productId: product, pageSize: 100 })).jobs) {
        await jobs.cancelJob({ jobId: job.id }).catch(() => undefined);
      }
    }
  }
  for (const [i, { schedule }] of created.entries()) {
    const fired = (await jobs.listJobs({ productId: `twice-${i}`, pageSize: 100 })).jobs.map((j) => j.idempotencyKey).sort();
    expect(fired).toEqual([1, 2, 3, 4, 5, 6].map((m) => `schedule:${schedule!.scheduleId}:${new Date(T0 + m * MINUTE).toISOString()}`));
  }
}, 60_000);

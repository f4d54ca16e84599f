/**
 * Schedules over a real SQLite file with a fake clock: slots fire as jobs, a coordinator restart
 * (with downtime) fires no slot twice and catches up as its policy says, and bad input is refused
 * naming the field. The CLI drives the same service.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import type { Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ScheduleCatchUpPolicy, ScheduleOverlapPolicy } from '../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const MINUTE = 60_000;
const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-schedules-'));
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(clock: { now(): number }) {
  const server = await startTestServer({ dataDir }, { clock });
  servers.push(server);
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  return { server, jobs: createClient(JobService, transport), schedules: createClient(ScheduleService, transport) };
}

async function runs(jobs: Client<typeof JobService>, productId: string): Promise<Job[]> {
  return (await jobs.listJobs({ productId, pageSize: 500 })).jobs;
}

it('fires each slot once across a restart with downtime, catching up as the policy says', async () => {
  const clock = { t: T0, now: () => clock.t };
  const first = await start(clock);
  const template = { productId: 'nightly', command: ['true'] };
  const { schedule } = await first.schedules.createSchedule({
    template,
    cron: '*/5 * * * *',
    timeZone: 'Europe/Berlin',
    overlapPolicy: ScheduleOverlapPolicy.ALLOW,
    catchUpPolicy: ScheduleCatchUpPolicy.RUN_ALL,
    catchUpLimit: 3,
  });
  expect(timestampMs(schedule!.nextFireTime!)).toBe(T0 + 5 * MINUTE);
  for (let i = 1; i <= 3; i++) {
    clock.t = T0 + i * 5 * MINUTE + 1_000;
    await first.server.coordinator.schedules.tick();
    await first.server.coordinator.schedules.tick(); // a second tick at the same time fires nothing more
  }
  expect((await runs(first.jobs, 'nightly')).map((j) => j.idempotencyKey).sort()).toEqual([1, 2, 3].map((i) => `schedule:${schedule!.scheduleId}:${new Date(T0 + i * 5 * MINUTE).toISOString()}`));
  await first.server.close();

  // Down for 40 minutes (8 slots missed); run_all with limit 3 fires the latest 3.
  clock.t = T0 + 55 * MINUTE + 1_000;
  const second = await start(clock);
  await second.server.coordinator.schedules.tick();
  const jobs = await runs(second.jobs, 'nightly');
  const slots = jobs.map((j) => j.idempotencyKey.slice(-24)).sort();
  expect(slots).toEqual([5, 10, 15, 45, 50, 55].map((m) => new Date(T0 + m * MINUTE).toISOString()));
  expect(jobs.every((j) => j.scheduleId === schedule!.scheduleId)).toBe(true);
  const after = (await second.schedules.getSchedule({ scheduleId: schedule!.scheduleId })).schedule!;
  expect(timestampMs(after.lastSlotTime!)).toBe(T0 + 55 * MINUTE);
  expect(jobs.map((j) => j.id)).toContain(after.lastJobId);

  // Pause, resume, trigger, delete.
  expect((await second.schedules.pauseSchedule({ scheduleId: schedule!.scheduleId })).schedule!.paused).toBe(true);
  clock.t += 30 * MINUTE;
  await second.server.coordinator.schedules.tick();
  expect(await runs(second.jobs, 'nightly')).toHaveLength(6);
  const resumed = (await second.schedules.resumeSchedule({ scheduleId: schedule!.scheduleId })).schedule!;
  expect(resumed.paused).toBe(false);
  await second.server.coordinator.schedules.tick();
  expect(await runs(second.jobs, 'nightly')).toHaveLength(6); // slots during the pause never fire
  const { job } = await second.schedules.triggerSchedule({ scheduleId: schedule!.scheduleId });
  expect(job!.scheduleId).toBe(schedule!.scheduleId);
  expect((await second.schedules.listSchedules({ productId: 'nightly' })).schedules.map((s) => s.lastJobId)).toEqual([job!.id]);
  // With the caller's idempotency key a retried trigger returns the first run; another key fires again.
  const keyed = (await second.schedules.triggerSchedule({ scheduleId: schedule!.scheduleId, idempotencyKey: 'deploy-42' })).job!;
  expect((await second.schedules.triggerSchedule({ scheduleId: schedule!.scheduleId, idempotencyKey: 'deploy-42' })).job!.id).toBe(keyed.id);
  expect((await second.schedules.triggerSchedule({ scheduleId: schedule!.scheduleId, idempotencyKey: 'deploy-43' })).job!.id).not.toBe(keyed.id);
  const tooLong = await second.schedules.triggerSchedule({ scheduleId: schedule!.scheduleId, idempotencyKey: 'k'.repeat(201) }).then(() => null, (e: unknown) => ConnectError.from(e));
  expect([tooLong?.code, tooLong?.rawMessage]).toEqual([Code.InvalidArgument, 'idempotency_key is 201 characters; at most 200']);
  await second.schedules.deleteSchedule({ scheduleId: schedule!.scheduleId });
  const gone = await second.schedules.getSchedule({ scheduleId: schedule!.scheduleId }).then(() => null, (e: unknown) => ConnectError.from(e));
  expect(gone?.code).toBe(Code.NotFound);
  await second.server.close();
});

it('refuses a bad cron, an unknown zone, an unknown policy and a bad template, naming the field', async () => {
  const clock = { t: T0, now: () => clock.t };
  const { schedules } = await start(clock);
  const template = { productId: 'nightly', command: ['true'] };
  const refusal = async (request: Parameters<typeof schedules.createSchedule>[0]): Promise<string> => {
    const err = await schedules.createSchedule(request).then(() => null, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.InvalidArgument);
    return err!.rawMessage;
  };
  expect(await refusal({ template, cron: 'every morning' })).toMatch(/^cron "every morning" is not a valid cron expression/);
  expect(await refusal({ template, cron: '0 3 * * *', timeZone: 'Europe/Atlantis' })).toMatch(/^time_zone "Europe\/Atlantis" is not an IANA time zone/);
  expect(await refusal({ template, cron: '0 3 * * *', overlapPolicy: 42 as ScheduleOverlapPolicy })).toMatch(/^overlap_policy 42 is not a known SCHEDULE_OVERLAP_POLICY_\* value/);
  expect(await refusal({ template, cron: '0 3 * * *', catchUpPolicy: 9 as ScheduleCatchUpPolicy })).toMatch(/^catch_up_policy 9/);
  expect(await refusal({ cron: '0 3 * * *' })).toMatch(/^template is required/);
  expect(await refusal({ template: { ...template, idempotencyKey: 'mine' }, cron: '0 3 * * *' })).toMatch(/^template: idempotency_key must be empty/);
  expect(await refusal({ template: { productId: 'Bad Product', command: ['true'] }, cron: '0 3 * * *' })).toMatch(/^template: product_id "Bad Product"/);
  expect((await schedules.listSchedules({})).schedules).toEqual([]); // nothing half-stored
});

it('the CLI creates and pauses a schedule, and shows a refusal', async () => {
  const clock = { t: T0, now: () => clock.t };
  const { server } = await start(clock);
  const cli = (...args: string[]) => promisify(execFile)('node', ['bin/gigafactory.mjs', '--coordinator', server.grpc.address, ...args]).then((r) => r.stdout);
  const created = await cli('schedules', 'create', '--cron', '0 3 * * 1-5', '--tz', 'America/New_York', '--product', 'cli', '--overlap', 'queue-one', '--', 'echo', 'hi');
  const id = /^(sch_\w+)/.exec(created)![1]!;
  expect(created).toMatch(/"0 3 \* \* 1-5" in America\/New_York {2}\(overlap queue_one, catch-up skip_missed\)/);
  expect(await cli('schedules', 'pause', id)).toMatch(/state {5}paused/);
  const bad = await cli('schedules', 'create', '--cron', '0 3 * * *', '--tz', 'Nowhere/Land', '--', 'true').then(() => '', (e: { stderr: string }) => e.stderr);
  expect(bad).toMatch(/time_zone "Nowhere\/Land" is not an IANA time zone/);
}, 180_000);

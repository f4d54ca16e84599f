/**
 * Delayed jobs (run_at, delay) over a real SQLite file and a fake clock: the job waits, says when it
 * will run (its reason, ExplainScore), survives a coordinator restart, and is offered once its time
 * comes. Bad input is refused naming the field.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { durationFromMs, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const HOUR = 3_600_000;
const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-delayed-'));
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(clock: { now(): number }): Promise<{ server: TestServer; jobs: Client<typeof JobService> }> {
  const server = await startTestServer({ dataDir, reaperIntervalMs: 50 }, { clock });
  servers.push(server);
  return { server, jobs: createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl })) };
}

it('holds a delayed job until its time, across a coordinator restart, then offers it', async () => {
  const clock = { t: T0, now: () => clock.t };
  const first = await start(clock);
  const { job } = await first.jobs.submitJob({ productId: 'later', command: ['true'], delay: durationFromMs(HOUR) });
  expect(job!.stage).toBe(JobStage.QUEUED);
  expect(timestampMs(job!.runAt!)).toBe(T0 + HOUR);
  expect(job!.reason).toBe('scheduled to run at 2026-12-02T13:00:00.000Z');
  const factory = new RawFactory(first.server.grpcUrl);
  factory.hello('f1');
  await factory.next('welcome');
  await first.server.coordinator.fleet.dispatch.dispatchOnce(); // a pass finds nothing due
  expect((await first.jobs.getJob({ jobId: job!.id })).job!.stage).toBe(JobStage.QUEUED);
  const explained = await first.jobs.explainScore({ jobId: job!.id });
  expect(explained.waitingReasons).toEqual(['scheduled to run at 2026-12-02T13:00:00.000Z (in 1h)']);
  expect(timestampMs(explained.notBeforeTime!)).toBe(T0 + HOUR);
  factory.finish();
  await first.server.close();

  clock.t = T0 + HOUR + 1;
  const second = await start(clock);
  const again = new RawFactory(second.server.grpcUrl);
  again.hello('f1');
  const offer = await again.next('leaseOffer');
  expect(offer.job!.id).toBe(job!.id);
  expect((await second.jobs.explainScore({ jobId: job!.id })).waitingReasons).toEqual([]);
  again.finish();
  await second.server.close();
});

it('runs a job whose run_at is in the past at once, and refuses bad start times naming the field', async () => {
  const clock = { t: T0, now: () => clock.t };
  const { jobs } = await start(clock);
  const { job } = await jobs.submitJob({ productId: 'later', command: ['true'], runAt: timestampFromMs(T0 - HOUR) });
  expect(job!.runAt).toBeUndefined();
  expect(job!.reason).toBe('');
  expect(timestampMs(job!.notBeforeTime!)).toBe(T0);

  const refusal = async (request: Parameters<typeof jobs.submitJob>[0]): Promise<string> => {
    const err = await jobs.submitJob(request).then(() => null, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.InvalidArgument);
    return err!.rawMessage;
  };
  expect(await refusal({ productId: 'later', command: ['true'], runAt: timestampFromMs(T0 + HOUR), delay: durationFromMs(HOUR) })).toMatch(/run_at and delay/);
  expect(await refusal({ productId: 'later', command: ['true'], delay: durationFromMs(400 * 24 * HOUR) })).toMatch(/^delay .* must be from 0 to 366 days/);
  expect(await refusal({ productId: 'later', command: ['true'], runAt: timestampFromMs(T0 + 400 * 24 * HOUR) })).toMatch(/^run_at .* more than 366 days ahead/);
  expect(await refusal({ productId: 'later', command: ['true'], delay: durationFromMs(-5_000) })).toMatch(/^delay /);
  // SubmitJobs names the item.
  const batch = await jobs.submitJobs({ jobs: [{ productId: 'later', command: ['true'] }, { productId: 'later', command: ['true'], runAt: timestampFromMs(T0), delay: durationFromMs(1) }] }).then(() => null, (e: unknown) => ConnectError.from(e));
  expect(batch?.rawMessage).toMatch(/^jobs\[1\].*run_at and delay/);
});

/**
 * The rules every lease message obeys (issue 17), each seen from the factory's side: a real
 * coordinator over native gRPC and raw factory streams sending exactly the messages under test.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServeConfig } from '../../src/config.js';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

const servers: TestServer[] = [];
const factories: RawFactory[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const f of factories.splice(0)) f.breakStream();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const TIMINGS: Partial<ServeConfig> = { leaseTtlMs: 1_500, heartbeatIntervalMs: 500, reaperIntervalMs: 50, retryBaseMs: 10, retryMaxMs: 20, heartbeatTimeoutMs: 60_000 };

async function start(overrides: Partial<ServeConfig> = {}): Promise<{ server: TestServer; jobs: Client<typeof JobService> }> {
  const server = await startTestServer({ ...TIMINGS, ...overrides });
  servers.push(server);
  return { server, jobs: createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl })) };
}

async function connect(server: TestServer, id: string, slots = 1): Promise<RawFactory> {
  const f = new RawFactory(server.grpcUrl);
  factories.push(f);
  f.hello(id, { slots });
  await f.next('welcome');
  return f;
}

async function stageOf(jobs: Client<typeof JobService>, jobId: string): Promise<JobStage> {
  return (await jobs.getJob({ jobId })).job!.stage;
}

describe('a lease message is admitted only from its holder under its epoch', () => {
  it("another factory's decline of a lease it was never offered changes nothing and is answered lease_revoked", async () => {
    const { server, jobs } = await start();
    const holder = await connect(server, 'holder');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await holder.next('leaseOffer');
    const other = await connect(server, 'other');
    other.send({ case: 'leaseDecline', value: { jobId: job!.id, epoch: offer.epoch, reason: 'not mine' } });
    expect(await other.next('leaseRevoked')).toMatchObject({ jobId: job!.id, epoch: offer.epoch });
    // The holder still holds it: it accepts and finishes under the same epoch.
    holder.send({ case: 'leaseAccept', value: { jobId: job!.id, epoch: offer.epoch } });
    holder.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await holder.next('resultAck');
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.stage).toBe(JobStage.SUCCEEDED);
    expect(done.attempts.map((a) => [a.factoryId, a.epoch])).toEqual([['holder', 1n]]);
  });

  it('a decline under a stale epoch is answered lease_revoked and the offer stands', async () => {
    const { server, jobs } = await start();
    const f = await connect(server, 'f1');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseDecline', value: { jobId: job!.id, epoch: offer.epoch - 1n, reason: 'old' } });
    expect(await f.next('leaseRevoked')).toMatchObject({ jobId: job!.id, epoch: offer.epoch - 1n });
    expect(await stageOf(jobs, job!.id)).toBe(JobStage.LEASED);
  });

  it('a decline after accept gives the job back cleanly: queued at once, no attempt used, heartbeats about it refused', async () => {
    const { server, jobs } = await start();
    const f = await connect(server, 'f1');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'], maxAttempts: 1 });
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: job!.id, epoch: offer.epoch } });
    f.send({ case: 'leaseDecline', value: { jobId: job!.id, epoch: offer.epoch, reason: 'changed my mind' } });
    // Offered again (the only factory, its slot free again) under the next epoch.
    const again = await f.next('leaseOffer');
    expect(again).toMatchObject({ jobId: job!.id, epoch: offer.epoch + 1n });
    const record = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(record.attemptCount).toBe(0);
    expect(record.attempts[0]).toMatchObject({ epoch: 1n, outcome: AttemptOutcome.RELEASED });
    f.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [{ jobId: job!.id, epoch: offer.epoch }] } });
    expect(await f.next('leaseRevoked')).toMatchObject({ jobId: job!.id, epoch: offer.epoch });
  });
});

describe('the coordinator decides on its own when a factory does not answer', () => {
  it('a factory whose running lease lapsed is offered nothing until heard from; its job goes elsewhere at once', async () => {
    const { server, jobs } = await start();
    const silent = await connect(server, 'silent', 2);
    const { job: a } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offerA = await silent.next('leaseOffer');
    silent.send({ case: 'leaseAccept', value: { jobId: a!.id, epoch: offerA.epoch } });
    const other = await connect(server, 'other');
    // No heartbeat from `silent`: its lease lapses, it is told, and `other` gets the job.
    expect(await silent.next('leaseRevoked')).toMatchObject({ jobId: a!.id, epoch: offerA.epoch });
    const retry = await other.next('leaseOffer');
    expect(retry).toMatchObject({ jobId: a!.id, epoch: offerA.epoch + 1n });
    other.send({ case: 'leaseAccept', value: { jobId: a!.id, epoch: retry.epoch } });
    // B waits while `other` is busy, though `silent` shows two free slots ...
    const { job: b } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    other.send({ case: 'jobResult', value: { jobId: a!.id, epoch: retry.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    // ... and goes to `other` once it is free.
    expect(await other.next('leaseOffer')).toMatchObject({ jobId: b!.id });
    // `silent` speaks again, and is offered work again.
    silent.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [] } });
    await silent.next('heartbeatAck');
    const { job: c } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    expect(await silent.next('leaseOffer')).toMatchObject({ jobId: c!.id });
  });

  it('the cancel grace is enforced: the lease is revoked when it ends, and a later success does not undo the cancel', async () => {
    // A long lease TTL: only the grace can end this lease within the test's time.
    const { server, jobs } = await start({ cancelGraceMs: 300, leaseTtlMs: 60_000 });
    const f = await connect(server, 'stubborn');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sleep', '60'] });
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: job!.id, epoch: offer.epoch } });
    // A heartbeat is handled after the accept before it: once it is answered, the job runs.
    f.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [{ jobId: job!.id, epoch: offer.epoch }] } });
    await f.next('heartbeatAck');
    await jobs.cancelJob({ jobId: job!.id, reason: 'not needed' });
    expect(await f.next('cancel')).toMatchObject({ jobId: job!.id, epoch: offer.epoch });
    // The factory ignores it; it keeps heartbeating, so only the grace ends the lease.
    f.send({ case: 'heartbeat', value: { sequence: 2n, runningJobs: [{ jobId: job!.id, epoch: offer.epoch }] } });
    expect(await f.next('leaseRevoked', (r) => r.jobId === job!.id)).toMatchObject({ epoch: offer.epoch });
    expect(await stageOf(jobs, job!.id)).toBe(JobStage.CANCELLED);
    f.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    expect(await f.next('leaseRevoked', (r) => r.jobId === job!.id)).toMatchObject({ epoch: offer.epoch });
    const ended = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(ended.stage).toBe(JobStage.CANCELLED);
    expect(ended.attempts[0]!.outcome).toBe(AttemptOutcome.LEASE_EXPIRED);
  });

  it('the preemption grace is enforced: a victim that does not stop is taken back and the urgent job gets the slot', async () => {
    const { server, jobs } = await start({ preemptionGraceMs: 300 });
    const f = await connect(server, 'busy');
    const { job: low } = await jobs.submitJob({ productId: 'p', command: ['sleep', '60'], priority: 0 });
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: low!.id, epoch: offer.epoch } });
    f.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [{ jobId: low!.id, epoch: offer.epoch }] } });
    await f.next('heartbeatAck');
    const { job: high } = await jobs.submitJob({ productId: 'p', command: ['true'], priority: 10 });
    expect(await f.next('preemptionNotice')).toMatchObject({ jobId: low!.id, epoch: offer.epoch });
    expect(await f.next('leaseRevoked', (r) => r.jobId === low!.id)).toMatchObject({ epoch: offer.epoch });
    expect(await f.next('leaseOffer')).toMatchObject({ jobId: high!.id });
    const victim = (await jobs.getJob({ jobId: low!.id })).job!;
    expect(victim.attempts[0]!.outcome).toBe(AttemptOutcome.PREEMPTED);
    expect(victim.attemptCount).toBe(0);
  });
});

describe('after a coordinator restart', () => {
  it('a job the reconnecting factory lists in hello is kept and its result taken, though its accept was never recorded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-rules-'));
    dirs.push(dataDir);
    const settings = { dataDir, offerTimeoutMs: 200, reconnectGraceMs: 5_000 };
    const first = await start(settings);
    const f = await connect(first.server, 'f1');
    const { job } = await first.jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await f.next('leaseOffer');
    // The factory starts the job; its accept is lost with the coordinator.
    await first.server.stop();
    servers.splice(servers.indexOf(first.server), 1);
    // The offer's deadline passes while the coordinator is down.
    const expired = timestampMs(offer.offerExpireTime!);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired - Date.now()) + 1));
    const second = await start(settings);
    // The restarted coordinator's reaper runs every 50 ms and finds the offer lapsed; for the
    // reconnect grace it leaves it to the factory that may come back. (A wait for something not to
    // happen: several reaper ticks.)
    await new Promise((resolve) => setTimeout(resolve, 10 * TIMINGS.reaperIntervalMs!));
    expect(await stageOf(second.jobs, job!.id)).toBe(JobStage.LEASED);
    const back = new RawFactory(second.server.grpcUrl);
    factories.push(back);
    back.hello('f1', { running: [{ jobId: job!.id, epoch: offer.epoch }] });
    expect((await back.next('welcome')).keptLeases).toEqual([expect.objectContaining({ jobId: job!.id, epoch: offer.epoch })]);
    back.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await back.next('resultAck');
    const done = (await second.jobs.getJob({ jobId: job!.id })).job!;
    expect(done.stage).toBe(JobStage.SUCCEEDED);
    expect(done.attempts).toHaveLength(1);
  });
});

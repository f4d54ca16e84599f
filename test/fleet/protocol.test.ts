/**
 * The factory stream protocol against a real coordinator over native gRPC, driven message by message:
 * the happy path, fencing of stale epochs, bad input, resume after a broken stream, and expiry.
 */
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
const factories: RawFactory[] = [];

function factory(): RawFactory {
  const f = new RawFactory(server.grpcUrl);
  factories.push(f);
  return f;
}

async function waitForStage(jobId: string, stage: JobStage) {
  for await (const res of jobs.watchJobs({ jobId })) {
    if (res.event!.toStage === stage) return;
  }
}

beforeEach(async () => {
  server = await startTestServer({ leaseTtlMs: 1_500, heartbeatIntervalMs: 500, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 20, helloTimeoutMs: 500, heartbeatTimeoutMs: 60_000 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
});
afterEach(async () => {
  for (const f of factories.splice(0)) f.breakStream();
  await server.stop();
});

describe('factory stream', () => {
  it('runs a job: hello, welcome, offer, accept, logs, result, ack', async () => {
    const f = factory();
    f.hello('f1', { labels: { os: 'linux' } });
    const welcome = await f.next('welcome');
    expect(welcome.keptLeases).toEqual([]);
    const { job } = await jobs.submitJob({ productId: 'p', command: ['echo', 'hi'] });
    const offer = await f.next('leaseOffer');
    expect(offer.jobId).toBe(job!.id);
    expect(offer.epoch).toBe(1n);
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    f.send({ case: 'logChunk', value: { jobId: offer.jobId, epoch: offer.epoch, sequence: 0n, stream: LogStream.STDOUT, data: new TextEncoder().encode('hi\n') } });
    f.send({ case: 'logChunk', value: { jobId: offer.jobId, epoch: offer.epoch, sequence: 0n, stream: LogStream.STDOUT, data: new TextEncoder().encode('hi\n') } });
    f.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, logChunkCount: 1n } });
    await f.next('resultAck', (a) => a.jobId === job!.id);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.stage).toBe(JobStage.SUCCEEDED);
    expect(done.attempts[0]).toMatchObject({ factoryId: 'f1', epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 });
    const chunks = [];
    for await (const res of jobs.tailLogs({ jobId: job!.id })) chunks.push(res.chunk!);
    expect(chunks).toHaveLength(1); // the resent chunk was stored once
  });

  it('never offers more jobs than free slots', async () => {
    for (let i = 0; i < 3; i++) await jobs.submitJob({ productId: 'p', command: ['true'] });
    const f = factory();
    f.hello('slots', { slots: 2 });
    const a = await f.next('leaseOffer');
    const b = await f.next('leaseOffer');
    expect(a.jobId).not.toBe(b.jobId);
    const queued = await jobs.listJobs({ stages: [JobStage.QUEUED] });
    expect(queued.jobs.map((j) => j.id)).not.toContain(a.jobId);
    expect(queued.jobs).toHaveLength(1);
    // The holder's result for an offer whose accept never arrived: it ran the job, so it counts as
    // accepted, the result is taken, and the freed slot gets the third job.
    f.send({ case: 'jobResult', value: { jobId: a.jobId, epoch: a.epoch, outcome: AttemptOutcome.SUCCEEDED } });
    await f.next('resultAck', (r) => r.jobId === a.jobId);
    expect((await jobs.getJob({ jobId: a.jobId })).job!.stage).toBe(JobStage.SUCCEEDED);
    const c = await f.next('leaseOffer');
    expect([a.jobId, b.jobId]).not.toContain(c.jobId);
  });

  it('refuses a result with a stale epoch and changes nothing', async () => {
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'], maxAttempts: 3 });
    const first = factory();
    first.hello('zombie');
    const offer1 = await first.next('leaseOffer');
    first.send({ case: 'leaseAccept', value: { jobId: offer1.jobId, epoch: offer1.epoch } });
    await waitForStage(job!.id, JobStage.RUNNING);
    first.breakStream(); // the factory "dies"; its lease runs out
    await waitForStage(job!.id, JobStage.QUEUED);
    const second = factory();
    second.hello('healthy');
    const offer2 = await second.next('leaseOffer');
    expect(offer2.epoch).toBe(2n);
    second.send({ case: 'leaseAccept', value: { jobId: offer2.jobId, epoch: offer2.epoch } });
    await waitForStage(job!.id, JobStage.RUNNING);

    // The zombie comes back and reports success for its old epoch.
    const zombie = factory();
    zombie.hello('zombie', { running: [{ jobId: job!.id, epoch: 1n }] });
    const revoked = await zombie.next('leaseRevoked');
    expect(revoked).toMatchObject({ jobId: job!.id, epoch: 1n });
    zombie.send({ case: 'jobResult', value: { jobId: job!.id, epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    zombie.send({ case: 'logChunk', value: { jobId: job!.id, epoch: 1n, sequence: 0n, stream: LogStream.STDOUT, data: new Uint8Array([1]) } });
    await zombie.next('leaseRevoked', (r) => r.epoch === 1n);
    await zombie.next('leaseRevoked', (r) => r.epoch === 1n);
    const after = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(after.stage).toBe(JobStage.RUNNING);
    expect(after.epoch).toBe(2n);
    const chunks = [];
    for await (const res of jobs.tailLogs({ jobId: job!.id })) chunks.push(res);
    expect(chunks).toHaveLength(0);

    second.send({ case: 'jobResult', value: { jobId: job!.id, epoch: 2n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await second.next('resultAck');
    const final = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(final.stage).toBe(JobStage.SUCCEEDED);
    expect(final.attempts.map((a) => a.outcome)).toEqual([AttemptOutcome.LEASE_EXPIRED, AttemptOutcome.SUCCEEDED]);
  });

  it('keeps the lease of a factory that reconnects within the TTL', async () => {
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const f = factory();
    f.hello('resumer');
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(job!.id, JobStage.RUNNING);
    f.breakStream();
    const again = factory();
    again.hello('resumer', { running: [{ jobId: job!.id, epoch: offer.epoch }] });
    const welcome = await again.next('welcome');
    expect(welcome.keptLeases).toEqual([expect.objectContaining({ jobId: job!.id, epoch: offer.epoch })]);
    again.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await again.next('resultAck');
    expect((await jobs.getJob({ jobId: job!.id })).job!.epoch).toBe(1n);
  });

  it('requeues at once the jobs of a factory that comes back without them', async () => {
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'], maxAttempts: 2 });
    const f = factory();
    f.hello('forgetful');
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(job!.id, JobStage.RUNNING);
    f.breakStream();
    const again = factory();
    again.hello('forgetful');
    await again.next('welcome');
    const reoffer = await again.next('leaseOffer');
    expect(reoffer).toMatchObject({ jobId: job!.id, epoch: 2n });
  });

  it('sends cancel to the factory running a job, which ends cancelled on confirmation', async () => {
    const { job } = await jobs.submitJob({ productId: 'p', command: ['sleep', '100'] });
    const f = factory();
    f.hello('canceller');
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(job!.id, JobStage.RUNNING);
    const res = await jobs.cancelJob({ jobId: job!.id, reason: 'stop' });
    expect(res.job!.stage).toBe(JobStage.RUNNING);
    const notice = await f.next('cancel');
    expect(notice).toMatchObject({ jobId: job!.id, epoch: offer.epoch, reason: 'stop' });
    f.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.CANCELLED, exitCode: -15 } });
    await f.next('resultAck');
    expect((await jobs.getJob({ jobId: job!.id })).job!.stage).toBe(JobStage.CANCELLED);
  });

  it('drains: no new offers, goodbye once its jobs are done', async () => {
    const f = factory();
    f.hello('drainer');
    await f.next('welcome');
    f.send({ case: 'drain', value: { reason: 'maintenance' } });
    const bye = await f.next('goodbye');
    expect(bye.reason).toBe(GoodbyeReason.DRAINED);
  });
});

describe('bad input on the stream', () => {
  it('a result with a negative or non-finite cost ends the stream naming the field, and records nothing', async () => {
    for (const cost of [-1, Number.NaN]) {
      const f = factory();
      f.hello(`bad-cost-${cost}`);
      const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
      const offer = await f.next('leaseOffer', (o) => o.jobId === job!.id);
      f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
      f.send({ case: 'jobResult', value: { jobId: offer.jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, cost } });
      const { error } = await f.closed();
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toBe(`job_result.cost for job ${job!.id} ${cost} ${cost < 0 ? 'must not be negative' : 'must be a finite number'}`);
      const after = (await jobs.getJob({ jobId: job!.id })).job!;
      expect(after.stage).toBe(JobStage.RUNNING); // the lease runs out as usual; no outcome, no cost
      expect(after.cost).toBe(0);
    }
  });

  it('a first message other than hello ends the stream with INVALID_ARGUMENT', async () => {
    const f = factory();
    f.send({ case: 'heartbeat', value: { sequence: 1n } });
    const { error } = await f.closed();
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toContain('first message on the stream must be hello');
  });

  it('a second hello ends the stream', async () => {
    const f = factory();
    f.hello('twice');
    await f.next('welcome');
    f.hello('twice');
    const { error } = await f.closed();
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toContain('hello was already received');
  });

  it('no hello within the deadline ends the stream with DEADLINE_EXCEEDED', async () => {
    const f = factory();
    const { error } = await f.closed();
    expect(error?.code).toBe(Code.DeadlineExceeded);
  });

  it('an empty envelope (unknown oneof case) ends the stream', async () => {
    const f = factory();
    f.hello('unknown-case');
    await f.next('welcome');
    f.send({ case: undefined } as never);
    const { error } = await f.closed();
    expect(error?.code).toBe(Code.InvalidArgument);
  });

  it('a hello without slots is INVALID_ARGUMENT naming the field', async () => {
    const f = factory();
    f.hello('no-slots', { slots: 0 });
    const { error } = await f.closed();
    expect(error?.rawMessage).toContain('hello.slots');
  });

  it('an oversized log chunk ends the stream with RESOURCE_EXHAUSTED; others are undisturbed', async () => {
    const bystander = factory();
    bystander.hello('bystander');
    await bystander.next('welcome');
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await bystander.next('leaseOffer');
    bystander.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(job!.id, JobStage.RUNNING);
    bystander.send({ case: 'logChunk', value: { jobId: job!.id, epoch: offer.epoch, sequence: 0n, stream: LogStream.STDOUT, data: new Uint8Array(2 * 1024 * 1024) } });
    const { error } = await bystander.closed();
    expect(error?.code).toBe(Code.ResourceExhausted);
    const other = factory();
    other.hello('other');
    await other.next('welcome');
  });

  it('a result for an unknown job is answered with lease_revoked and the stream stays open', async () => {
    const f = factory();
    f.hello('unknown-job');
    await f.next('welcome');
    f.send({ case: 'jobResult', value: { jobId: 'job_nope', epoch: 1n, outcome: AttemptOutcome.SUCCEEDED } });
    const revoked = await f.next('leaseRevoked');
    expect(revoked.jobId).toBe('job_nope');
    f.send({ case: 'heartbeat', value: { sequence: 1n } });
    await f.next('heartbeatAck');
  });
});

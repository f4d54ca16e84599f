/**
 * Followers (WatchJobs, TailLogs): a slow one is bounded in bytes, not messages, and ended with
 * RESOURCE_EXHAUSTED; any follower can resume after the last message it read.
 */
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { feedItemBytes } from '../../src/coordinator/job-feed.js';
import { Topic } from '../../src/coordinator/topic.js';
import { DomainError } from '../../src/domain/errors.js';
import { submitted } from '../store/builders.js';
import { waitForStage } from '../support/jobs.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('Topic', () => {
  it('ends a subscriber that falls more bytes behind than its bound, and only that one', async () => {
    const topic = new Topic<string>((m) => m.length, 10);
    const slow = topic.subscribe(() => true, new AbortController().signal)[Symbol.asyncIterator]();
    const picky = topic.subscribe((m) => m === 'x', new AbortController().signal)[Symbol.asyncIterator]();
    topic.publish('abcd');
    topic.publish('efgh');
    expect(topic.subscriberCount).toBe(2);
    topic.publish('ijkl'); // 12 bytes queued for `slow`: over its 10
    expect(topic.subscriberCount).toBe(1);
    const err = await slow.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'resource_exhausted', message: expect.stringContaining('resume after the last message it read') });
    topic.publish('x');
    expect(await picky.next()).toEqual({ value: 'x', done: false });
  });

  it('counts a job change by the size of its command and env, not a flat kilobyte', () => {
    const small = submitted('small', 0, { command: ['true'] });
    const large = submitted('large', 0, { command: ['sh', '-c', 'x'.repeat(100_000)], env: { NOTE: 'y'.repeat(50_000) } });
    expect(feedItemBytes({ kind: 'update', update: small })).toBeLessThan(2_048);
    expect(feedItemBytes({ kind: 'update', update: large })).toBeGreaterThan(150_000);
  });

  it('counts what a reader takes off its queue', async () => {
    const topic = new Topic<string>((m) => m.length, 10);
    const reader = topic.subscribe(() => true, new AbortController().signal)[Symbol.asyncIterator]();
    for (let i = 0; i < 50; i++) {
      topic.publish('abcdef');
      expect(await reader.next()).toEqual({ value: 'abcdef', done: false });
    }
    expect(topic.subscriberCount).toBe(1);
  });
});

describe('resuming a follower', () => {
  let server: TestServer;
  let jobs: Client<typeof JobService>;
  let jobId: string;

  beforeAll(async () => {
    server = await startTestServer();
    jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const f = new RawFactory(server.grpcUrl);
    f.hello('resume-factory');
    const { job } = await jobs.submitJob({ productId: 'resume', command: ['true'] });
    jobId = job!.id;
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId, epoch: offer.epoch } });
    await waitForStage(jobs, jobId, JobStage.RUNNING);
    for (let i = 0; i < 5; i++) {
      f.send({ case: 'logChunk', value: { jobId, epoch: offer.epoch, sequence: BigInt(i), stream: LogStream.STDOUT, data: new TextEncoder().encode(`line ${i}\n`) } });
    }
    f.send({ case: 'jobResult', value: { jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, logChunkCount: 5n } });
    await waitForStage(jobs, jobId, JobStage.SUCCEEDED);
    f.finish();
  });
  afterAll(() => server.stop());

  it('TailLogs after a chunk yields only the chunks after it', async () => {
    const all = [];
    for await (const res of jobs.tailLogs({ jobId })) all.push(res.chunk!);
    expect(all.map((c) => Number(c.sequence))).toEqual([0, 1, 2, 3, 4]);
    const rest = [];
    for await (const res of jobs.tailLogs({ jobId, follow: true, afterEpoch: all[1]!.epoch, afterSequence: all[1]!.sequence })) rest.push(res.chunk!);
    expect(rest.map((c) => new TextDecoder().decode(c.data))).toEqual(['line 2\n', 'line 3\n', 'line 4\n']);
  });

  it('WatchJobs of a job after a revision replays only the events after it', async () => {
    const abort = new AbortController();
    const read = async (afterRevision: bigint) => {
      const revisions: bigint[] = [];
      const job = await jobs.getJob({ jobId });
      try {
        for await (const res of jobs.watchJobs({ jobId, afterRevision }, { signal: abort.signal })) {
          revisions.push(res.event!.revision);
          if (res.event!.revision === job.job!.revision) break;
        }
      } catch (err) {
        if ((err as { code?: number }).code !== Code.Canceled) throw err;
      }
      return revisions;
    };
    const all = await read(0n);
    expect(all.length).toBeGreaterThan(3);
    const rest = await read(all[2]!);
    expect(rest).toEqual(all.slice(3));
  });

  it('refuses a resume point that cannot be one', async () => {
    const drain = async (stream: AsyncIterable<unknown>) => {
      for await (const _ of stream) void _;
    };
    await expect(drain(jobs.watchJobs({ afterRevision: 3n }))).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: 'after_revision needs job_id: only one job has a history to resume in' });
    await expect(drain(jobs.watchJobs({ jobId, afterRevision: -1n }))).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(drain(jobs.tailLogs({ jobId, afterSequence: -2n }))).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: 'after_epoch and after_sequence must not be negative' });
  });
});

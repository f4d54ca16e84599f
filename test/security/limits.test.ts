/**
 * Limits: the request rate per API key (RESOURCE_EXHAUSTED with a clear message and a log line),
 * the log rate per job (a token bucket that slows the stream instead of cutting it), and the
 * configuration rules that keep development mode on loopback.
 */
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { waitForStage } from '../support/jobs.js';
import { RawFactory } from '../support/raw-factory.js';
import { LogRate, MIN_CHUNK_COST } from '../../src/coordinator/log-rate.js';
import { resolveServeConfig } from '../../src/config.js';
import { TokenBucket } from '../../src/domain/token-bucket.js';
import { createLogger } from '../../src/logging.js';
import { enrolledFactory, grpcClient, gatewayClient, startSecureServer, type SecureServer } from './helpers.js';

describe('request rate per key', () => {
  let server: SecureServer;
  beforeAll(async () => {
    server = await startSecureServer({ keyRequestsPerSecond: 0.5, keyRequestBurst: 3 });
  });
  afterAll(() => server.stop());

  it('refuses calls beyond the burst with RESOURCE_EXHAUSTED, per key, on both listeners', async () => {
    const viewer = grpcClient(JobService, server, server.keys.viewer);
    for (let i = 0; i < 3; i++) await viewer.listJobs({});
    await expect(viewer.listJobs({})).rejects.toMatchObject({
      code: Code.ResourceExhausted,
      rawMessage: expect.stringMatching(/^API key "viewer" is over its request rate \(0.5 per second, bursts of 3\); retry in \d+ ms$/),
    });
    await expect(gatewayClient(JobService, server, server.keys.viewer).listJobs({})).rejects.toMatchObject({ code: Code.ResourceExhausted });
    // Another key has its own bucket.
    await grpcClient(JobService, server, server.keys.operator).listJobs({});
  });
});

describe('log rate on the factory stream', () => {
  it('a job flooding logs is slowed, not cut off: every chunk is stored, the stream stays open', async () => {
    // 16 KiB/s with a 32 KiB burst; 12 chunks of 4 KiB are 16 KiB over it, about a second of waiting.
    const server = await startSecureServer({ logBytesPerSecondPerJob: 16 * 1024, maxLogChunkBytes: 4 * 1024 });
    const f = new RawFactory(server.grpcUrl, { token: await enrolledFactory(server, 'chatty') });
    try {
      const jobs = grpcClient(JobService, server, server.keys.operator);
      f.hello('chatty');
      const { job } = await jobs.submitJob({ productId: 'logs', command: ['yes'] });
      const offer = await f.next('leaseOffer');
      f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
      await waitForStage(jobs, job!.id, JobStage.RUNNING);
      for (let i = 0; i < 12; i++) {
        f.send({ case: 'logChunk', value: { jobId: job!.id, epoch: offer.epoch, sequence: BigInt(i), stream: LogStream.STDOUT, data: new Uint8Array(4 * 1024).fill(121) } });
      }
      f.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [{ jobId: job!.id, epoch: offer.epoch }] } });
      await f.next('heartbeatAck'); // handled after every chunk before it: all were admitted
      let stored = 0;
      for await (const res of jobs.tailLogs({ jobId: job!.id })) stored += res.chunk!.data.length;
      expect(stored).toBe(12 * 4 * 1024);
      expect(f.ended).toBeNull();
    } finally {
      f.breakStream();
      await server.stop();
    }
  });
});

describe('token bucket', () => {
  it('allows the burst, then the rate, and says how long to wait', () => {
    const bucket = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(1, 0)).toBe(0);
    expect(bucket.take(1, 0)).toBe(100);
    expect(bucket.take(1, 100)).toBe(0);
    expect(bucket.take(2, 100)).toBe(200);
    expect(bucket.take(1, 10_000)).toBe(0); // refills to the capacity, not beyond
    for (let i = 0; i < 4; i++) expect(bucket.take(1, 10_000)).toBe(0);
    expect(bucket.take(1, 10_000)).toBeGreaterThan(0);
  });

  it('borrow takes even when short and returns the time to pay the debt back', () => {
    const bucket = new TokenBucket(1_000, 1_000, 0);
    expect(bucket.borrow(1_000, 0)).toBe(0);
    expect(bucket.borrow(500, 0)).toBe(500);
    expect(bucket.borrow(500, 500)).toBe(500);
  });
});

describe('log rate per job', () => {
  const log = createLogger({ level: 'silent', pretty: false });

  it('admits chunks under the rate at once and slows a job over it, per job', async () => {
    let now = 0;
    const rate = new LogRate(100 * 1024, 100 * 1024, { now: () => now }, log);
    const signal = new AbortController().signal;
    for (let i = 0; i < 100; i++) await rate.admit('job_a', 1024, signal); // exactly the burst
    expect(rate.throttled).toBe(0);
    const started = performance.now();
    await rate.admit('job_a', 2 * 1024, signal); // 2 KiB in debt at 100 KiB/s: about 20 ms
    expect(rate.throttled).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    await rate.admit('job_b', 1024, signal); // another job is not affected
    expect(rate.throttled).toBe(1);
    now += 1_000;
    await rate.admit('job_a', 1024, signal);
    expect(rate.throttled).toBe(1);
  });

  it('counts tiny chunks at a minimum cost, so a flood of them is slowed too', async () => {
    const rate = new LogRate(10 * MIN_CHUNK_COST, 10 * MIN_CHUNK_COST, { now: () => 0 }, log);
    const abort = new AbortController();
    for (let i = 0; i < 10; i++) await rate.admit('job_tiny', 1, abort.signal);
    expect(rate.throttled).toBe(0);
    abort.abort(); // an aborted stream does not wait
    await rate.admit('job_tiny', 1, abort.signal);
    expect(rate.throttled).toBe(1);
  });
});

describe('configuration', () => {
  it('security is on by default; development mode is refused off loopback', () => {
    expect(resolveServeConfig({}, {}).insecureDev).toBe(false);
    expect(resolveServeConfig({ insecureDev: true }, {}).insecureDev).toBe(true);
    expect(resolveServeConfig({ insecureDev: true, host: '::1' }, {}).insecureDev).toBe(true);
    expect(resolveServeConfig({}, { GIGAFACTORY_INSECURE_DEV: 'false' }).insecureDev).toBe(false);
    expect(() => resolveServeConfig({ insecureDev: true, host: '0.0.0.0' }, {})).toThrow(/insecureDev \(flag --insecure-dev\): .*only allowed on a loopback host/);
    expect(() => resolveServeConfig({}, { GIGAFACTORY_INSECURE_DEV: '1', GIGAFACTORY_HOST: '10.0.0.5' })).toThrow(/insecureDev \(environment variable GIGAFACTORY_INSECURE_DEV\)/);
  });

  it('TLS settings go together', () => {
    expect(() => resolveServeConfig({ tlsCertFile: 'c.pem' }, {})).toThrow(/tlsKeyFile .*go together/);
    expect(() => resolveServeConfig({ tlsClientCaFile: 'ca.pem' }, {})).toThrow(/tlsClientCaFile .*need the listener to serve TLS/);
  });
});

/**
 * JobService.SubmitJobs against a real server and a real SQLite file: many jobs in one call, over
 * the Connect JSON gateway and native gRPC. Every job is checked before any is stored (a bad one
 * refuses the call, naming its index, and leaves nothing behind), each job keeps its own idempotency
 * key across calls, and the batch's inserts share the store's commits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ServeConfigSchema } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server/app.js';
import { openSqliteStore, type SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let grpc: Client<typeof JobService>;

beforeAll(async () => {
  server = await startTestServer();
  grpc = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
});
afterAll(() => server.stop());

/** A Connect unary call with JSON, as `curl` makes it. */
async function connectJson(method: string, body: unknown) {
  const res = await fetch(`${server.httpUrl}/gigafactory.fleet.v1.JobService/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function jobsOf(productId: string): Promise<number> {
  return (await grpc.listJobs({ productId, pageSize: 500 })).jobs.length;
}

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => null,
    (e: unknown) => ConnectError.from(e),
  );
  if (!err) throw new Error('the call succeeded; a refusal was expected');
  return err;
}

describe('SubmitJobs', () => {
  it('stores every job over the Connect JSON gateway and answers in the request order', async () => {
    const titles = ['one', 'two', 'three'];
    const res = await connectJson('SubmitJobs', { jobs: titles.map((title) => ({ productId: 'batch-json', title, command: ['true'] })) });
    expect(res.status).toBe(200);
    const results = res.json.results as { job: Record<string, any>; created: boolean }[];
    expect(results.map((r) => r.job.title)).toEqual(titles);
    expect(results.every((r) => r.created && r.job.stage === 'JOB_STAGE_QUEUED')).toBe(true);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(3);
    for (const r of results) expect((await grpc.getJob({ jobId: r.job.id as string })).job?.title).toBe(r.job.title);
  });

  it('returns the jobs already stored for keys used before, in the same and in a later call', async () => {
    const first = await grpc.submitJob({ productId: 'batch-idem', command: ['true'], idempotencyKey: 'k0' });
    const batch = ['k0', 'k1', 'k2'].map((idempotencyKey) => ({ productId: 'batch-idem', command: ['echo', idempotencyKey], idempotencyKey }));
    const once = await grpc.submitJobs({ jobs: batch });
    expect(once.results.map((r) => r.created)).toEqual([false, true, true]);
    expect(once.results[0]!.job!.id).toBe(first.job!.id);
    expect(once.results[0]!.job!.command).toEqual(['true']); // the first job, not this request's

    const again = await grpc.submitJobs({ jobs: batch });
    expect(again.results.map((r) => r.created)).toEqual([false, false, false]);
    expect(again.results.map((r) => r.job!.id)).toEqual(once.results.map((r) => r.job!.id));
    expect(await jobsOf('batch-idem')).toBe(3);
  });

  it('allows one key in two products but refuses it twice in one product, storing nothing', async () => {
    const ok = await grpc.submitJobs({
      jobs: [
        { productId: 'batch-key-a', command: ['true'], idempotencyKey: 'same' },
        { productId: 'batch-key-b', command: ['true'], idempotencyKey: 'same' },
      ],
    });
    expect(ok.results.map((r) => r.created)).toEqual([true, true]);

    const err = await refusal(
      grpc.submitJobs({
        jobs: [
          { productId: 'batch-key-c', command: ['true'], idempotencyKey: 'dup' },
          { productId: 'batch-key-c', command: ['true'], idempotencyKey: 'other' },
          { productId: 'batch-key-c', command: ['true'], idempotencyKey: 'dup' },
        ],
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('jobs[2].idempotency_key "dup" is used by jobs[0] of the same product too; keys must be unique');
    expect(await jobsOf('batch-key-c')).toBe(0);
  });

  it('refuses the whole call when one job is invalid, naming its index, and stores nothing', async () => {
    const good = { productId: 'batch-bad', command: ['true'] };
    const cases: [unknown[], RegExp][] = [
      [[good, { productId: 'batch-bad', command: [] }], /^jobs\[1\]: command/],
      [[good, good, { productId: '', command: ['true'] }], /^jobs\[2\]: product_id/],
      [[{ ...good, maxAttempts: -1 }], /^jobs\[0\]: max_attempts/],
      [[good, { ...good, dependsOnKeys: ['a'] }], /^jobs\[1\]: depends_on_keys names siblings in an AddChildren request/],
      [[good, { ...good, dependsOn: ['job_NOPE'] }], /^jobs\[1\]\.depends_on\[0\]: job job_NOPE does not exist$/],
      [[], /^jobs must have at least one job$/],
    ];
    for (const [jobs, message] of cases) {
      const res = await connectJson('SubmitJobs', { jobs });
      expect(res.status, JSON.stringify(jobs)).toBe(400);
      expect(res.json.code).toBe('invalid_argument');
      expect(res.json.message).toMatch(message);
    }
    expect(await jobsOf('batch-bad')).toBe(0);
  });

  it('refuses more than 1,000 jobs in one call', async () => {
    const jobs = Array.from({ length: 1_001 }, () => ({ productId: 'batch-many', command: ['true'] }));
    const err = await refusal(grpc.submitJobs({ jobs }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('jobs has 1001 jobs; at most 1000 per request');
    expect(await jobsOf('batch-many')).toBe(0);

    const most = await grpc.submitJobs({ jobs: jobs.slice(1) });
    expect(most.results).toHaveLength(1_000);
  });

  it('links jobs to existing dependencies, as SubmitJob does', async () => {
    const dep = await grpc.submitJob({ productId: 'batch-dep', command: ['true'] });
    const res = await grpc.submitJobs({ jobs: [{ productId: 'batch-dep', command: ['true'], dependsOn: [dep.job!.id] }] });
    expect(res.results[0]!.job!.stage).toBe(JobStage.BLOCKED);
    expect(res.results[0]!.job!.dependsOn).toEqual([dep.job!.id]);
  });
});

/** A server of its own over an SQLite store the test can read counters from: no other test's jobs queued. */
async function withFreshServer(run: (client: Client<typeof JobService>, grpcUrl: string, store: SqliteJobStore) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-submit-jobs-'));
  const store = openSqliteStore(join(dataDir, 'jobs.sqlite'));
  const config = ServeConfigSchema.parse({ dataDir, grpcPort: 0, httpPort: 0, logLevel: 'silent', shutdownGraceMs: 250, insecureDev: true });
  const running = await startServer({ config, log: createLogger({ level: 'silent', pretty: false }), store });
  try {
    const grpcUrl = `http://${running.grpc.address}`;
    await run(createClient(JobService, createGrpcTransport({ baseUrl: grpcUrl })), grpcUrl, store);
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('SubmitJobs on a fresh server', () => {
  it('stores a call of 50 jobs in one SQLite transaction', () =>
    withFreshServer(async (client, _url, store) => {
      const before = { ...store.commitStats };
      const res = await client.submitJobs({ jobs: Array.from({ length: 50 }, () => ({ productId: 'batch-commit', command: ['true'] })) });
      expect(res.results).toHaveLength(50);
      expect(store.commitStats.commits - before.commits).toBe(1);
      expect(store.commitStats.committedOps - before.committedOps).toBe(50);
    }));

  it('offers the jobs of a call to a connected factory', () =>
    withFreshServer(async (client, grpcUrl) => {
      const factory = new RawFactory(grpcUrl);
      factory.hello('batch-factory', { slots: 4 });
      await factory.next('welcome');
      const res = await client.submitJobs({ jobs: Array.from({ length: 4 }, (_, i) => ({ productId: 'batch-run', title: `run-${i}`, command: ['true'] })) });
      const offered = await Promise.all(res.results.map((r) => factory.next('leaseOffer', (o) => o.job?.id === r.job!.id)));
      expect(offered.map((o) => o.job!.title).sort()).toEqual(['run-0', 'run-1', 'run-2', 'run-3']);
      factory.breakStream();
      await factory.closed();
    }));
});

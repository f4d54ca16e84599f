/**
 * Dispatch writes ride on group commit (src/store/sqlite/group-commit.ts): a job submitted while a
 * slot is free is claimed in its insert's transaction, and a dispatch pass claims all its jobs in
 * one transaction. Counted with the SQLite store's own commit counter, over a real coordinator and
 * a hand-driven factory on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { ServeConfigSchema } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { openSqliteStore, type SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { RawFactory } from '../support/raw-factory.js';

let dataDir: string;
let store: SqliteJobStore;
let server: RunningServer;
let jobs: Client<typeof JobService>;
const factories: RawFactory[] = [];

function factory(): RawFactory {
  const f = new RawFactory(`http://${server.grpc.address}`);
  factories.push(f);
  return f;
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-dispatch-commits-'));
  store = openSqliteStore(join(dataDir, 'gigafactory.sqlite'));
  // No periodic tick during a test (it could note waiting jobs): every commit counted is the test's.
  const config = ServeConfigSchema.parse({ dataDir, grpcPort: 0, httpPort: 0, logLevel: 'silent', shutdownGraceMs: 250, insecureDev: true, reaperIntervalMs: 60_000 });
  server = await startServer({ config, log: createLogger({ level: 'silent', pretty: false }), store });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: `http://${server.grpc.address}` }));
});
afterEach(async () => {
  for (const f of factories.splice(0)) f.breakStream();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dispatch commits', () => {
  it('claims a job submitted while a slot is free in the same commit as its insert', async () => {
    const f = factory();
    f.hello('f1', { slots: 1 });
    await f.next('welcome');
    const before = store.commitStats.commits;
    const { job } = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await f.next('leaseOffer');
    expect(offer.jobId).toBe(job!.id);
    expect(offer.epoch).toBe(1n);
    expect(store.commitStats.commits - before).toBe(1);
    const events = (await store.listEvents(job!.id)).map((e) => e.kind);
    expect(events).toEqual(['submitted', 'offered']);
  });

  it('claims every job a dispatch pass places in one commit', async () => {
    const submitted = [];
    for (let i = 0; i < 4; i++) submitted.push((await jobs.submitJob({ productId: 'p', command: ['true'] })).job!.id);
    const before = store.commitStats.commits;
    const f = factory();
    f.hello('f1', { slots: 4 });
    const offered = [];
    for (let i = 0; i < 4; i++) offered.push((await f.next('leaseOffer')).jobId);
    expect(offered.sort()).toEqual([...submitted].sort());
    expect(store.commitStats.commits - before).toBe(1);
  });

  // A factory's messages about different jobs are handled at once (MessageLanes), so these writes can
  // share commits; each job's accept must still be stored before its result, or the result is refused.
  it("handles a factory's interleaved accepts and results, each job's in the order sent", async () => {
    const submitted = [];
    for (let i = 0; i < 4; i++) submitted.push((await jobs.submitJob({ productId: 'p', command: ['true'] })).job!.id);
    const f = factory();
    f.hello('f1', { slots: 4 });
    const offers = [];
    for (let i = 0; i < 4; i++) offers.push(await f.next('leaseOffer'));
    // Each job's accept then its result, sent back to back.
    for (const o of offers) {
      f.send({ case: 'leaseAccept', value: { jobId: o.jobId, epoch: o.epoch } });
      f.send({ case: 'jobResult', value: { jobId: o.jobId, epoch: o.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    }
    const acked = [];
    for (let i = 0; i < 4; i++) acked.push((await f.next('resultAck')).jobId);
    expect(acked.sort()).toEqual([...submitted].sort());
    for (const id of submitted) {
      expect((await store.listEvents(id)).map((e) => e.kind)).toEqual(['submitted', 'offered', 'started', 'succeeded']);
    }
  });

  it('frees the slot held for a submit that created nothing (a repeated idempotency key)', async () => {
    const f = factory();
    f.hello('f1', { slots: 2 });
    await f.next('welcome');
    const first = await jobs.submitJob({ productId: 'p', command: ['true'], idempotencyKey: 'k' });
    await f.next('leaseOffer', (o) => o.jobId === first.job!.id);
    const again = await jobs.submitJob({ productId: 'p', command: ['true'], idempotencyKey: 'k' });
    expect(again.created).toBe(false);
    expect(again.job!.id).toBe(first.job!.id);
    // The repeat held the second slot for a moment; had it kept it, this job would wait.
    const other = await jobs.submitJob({ productId: 'p', command: ['true'] });
    const offer = await f.next('leaseOffer');
    expect(offer.jobId).toBe(other.job!.id);
    expect((await jobs.getJob({ jobId: other.job!.id })).job!.stage).toBe(JobStage.LEASED);
  });
});

/**
 * Operability against a real server: /metrics moves as jobs move, /healthz and /readyz answer and
 * readiness flips when the store is unreachable or the server is draining, and the AdminService
 * reports connected factories and the autoscaling signal.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { AttemptOutcome, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer | null = null;
const factories: RawFactory[] = [];
afterEach(async () => {
  for (const f of factories.splice(0)) f.breakStream();
  await server?.stop();
  server = null;
});

async function scrape(s: TestServer): Promise<string> {
  const res = await fetch(`${s.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one series, e.g. metric('gigafactory_jobs{product="p",stage="succeeded"}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('changes as a job moves through the fleet', async () => {
    server = await startTestServer();
    const jobs: Client<typeof JobService> = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const before = await scrape(server);
    expect(value(before, 'gigafactory_jobs{product="m",stage="succeeded"}')).toBeUndefined();
    expect(before).toContain('gigafactory_process_nodejs_eventloop_lag_seconds');

    const f = new RawFactory(server.grpcUrl);
    factories.push(f);
    f.hello('metered', { labels: { os: 'linux' } });
    await f.next('welcome');
    const { job } = await jobs.submitJob({ productId: 'm', command: ['true'] });
    expect(value(await scrape(server), 'gigafactory_jobs{product="m",stage="queued"}') ?? value(await scrape(server), 'gigafactory_jobs{product="m",stage="leased"}')).toBe(1);
    const offer = await f.next('leaseOffer');
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    f.send({ case: 'jobResult', value: { jobId: job!.id, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await f.next('resultAck');
    f.send({ case: 'jobResult', value: { jobId: job!.id, epoch: 99n, outcome: AttemptOutcome.SUCCEEDED } }); // stale
    await f.next('leaseRevoked');

    const after = await scrape(server);
    expect(value(after, 'gigafactory_jobs{product="m",stage="succeeded"}')).toBe(1);
    expect(value(after, 'gigafactory_job_transitions_total{kind="offered"}')).toBe(1);
    expect(value(after, 'gigafactory_job_transitions_total{kind="succeeded"}')).toBe(1);
    expect(value(after, 'gigafactory_dispatch_latency_seconds_count')).toBe(1);
    expect(value(after, 'gigafactory_stream_messages_total{direction="in",kind="hello"}')).toBe(1);
    expect(value(after, 'gigafactory_stream_messages_total{direction="out",kind="leaseOffer"}')).toBe(1);
    expect(value(after, 'gigafactory_stale_epoch_refusals_total{reason="stale_epoch"}')).toBe(1);
    expect(value(after, 'gigafactory_factories_connected{label="os",value="linux"}')).toBe(1);
    expect(value(after, 'gigafactory_factory_slots{state="free"}')).toBe(1);
    expect(after).toMatch(/gigafactory_store_operation_seconds_count\{operation="replaceJob",outcome="ok"\} \d+/);
  });

  it('keeps factory labels to a bounded number of short series, folding and counting the rest', async () => {
    server = await startTestServer();
    const f = new RawFactory(server.grpcUrl);
    factories.push(f);
    const labels: Record<string, string> = { os: 'linux' };
    for (let i = 0; i < 300; i++) labels[`made-up-${i}`] = `v${i}`;
    labels.long = 'x'.repeat(500);
    f.hello('labelled', { labels });
    await f.next('welcome');
    const text = await scrape(server);
    const series = text.split('\n').filter((l) => l.startsWith('gigafactory_factories_connected{'));
    expect(series).toHaveLength(201); // the 200 most common, and "_other"
    expect(value(text, 'gigafactory_factories_connected{label="_other",value="_other"}')).toBe(102);
    expect(value(text, 'gigafactory_factory_label_series_folded')).toBe(102);
    expect(text).not.toContain('x'.repeat(65));
  });

  it('reports queued jobs no connected factory can run (the autoscaling signal)', async () => {
    server = await startTestServer();
    const jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const f = new RawFactory(server.grpcUrl);
    factories.push(f);
    f.hello('cpu-only', { labels: { os: 'linux' }, slots: 1 });
    await f.next('welcome');
    const gpu = { key: 'gpu', operator: LabelOperator.EQUALS, values: ['a100'] };
    for (let i = 0; i < 3; i++) await jobs.submitJob({ productId: 's', command: ['train'], requiredLabels: [gpu] });
    await jobs.submitJob({ productId: 's', command: ['build'], requiredLabels: [{ key: 'os', operator: LabelOperator.EQUALS, values: ['linux'] }] });

    const signal = await admin.getScalingSignal({});
    expect(signal.demands).toHaveLength(1);
    expect(signal.demands[0]).toMatchObject({ requirementsKey: 'gpu=a100', queuedJobs: 3 });
    expect(value(await scrape(server), 'gigafactory_unplaceable_jobs{requirements="gpu=a100"}')).toBe(3);

    const listed = await admin.listFactories({});
    expect(listed.factories.map((x) => [x.id, x.slots, x.labels])).toEqual([['cpu-only', 1, { os: 'linux' }]]);
  });
});

describe('health', () => {
  it('/healthz answers and /readyz flips when the store is unreachable', async () => {
    server = await startTestServer();
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, problems: [] });
    await server.coordinator.store.close(); // the store goes away underneath the server
    const notReady = await fetch(`${server.httpUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect((await notReady.json()).problems[0]).toMatch(/^store unreachable/);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });

  it('/readyz reports not ready while the server drains before shutdown', async () => {
    server = await startTestServer({ shutdownDelayMs: 2_000 });
    const url = `${server.httpUrl}/readyz`;
    const closing = server.close();
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect((await res.json()).problems).toContain('shutting down');
    await closing;
  });
});

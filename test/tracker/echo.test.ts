/**
 * Tracker echo against a real local HTTP receiver: every event of every tracked job arrives, signed,
 * with the tracker's ids; a receiver that fails for a while gets everything later; one that never
 * answers gets nothing (echoes end dead after their attempts) while jobs still run to the end.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import type { ServeConfig } from '../../src/config.js';
import { echoEventId } from '../../src/store/echo-outbox.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'test-secret-0123456789';
const FAST: Partial<ServeConfig> = { trackerEchoSecret: SECRET, trackerEchoPollMs: 50, trackerEchoRetryBaseMs: 50, trackerEchoRetryMaxMs: 200 };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function coordinator(overrides: Partial<ServeConfig>): Promise<{ server: TestServer; tracker: Client<typeof TrackerService>; jobs: Client<typeof JobService> }> {
  const server = await startTestServer({ ...FAST, ...overrides });
  cleanups.push(() => server.stop());
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  return { server, tracker: createClient(TrackerService, transport), jobs: createClient(JobService, transport) };
}

async function receiver(opts: { failFirst?: number } = {}): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver({ secret: SECRET, ...opts });
  cleanups.push(() => r.close());
  return r;
}

async function agent(address: string): Promise<ManagedProcess> {
  const workDir = mkdtempSync(join(tmpdir(), 'gigafactory-echo-agent-'));
  const proc = await spawnAgent({ coordinator: address, id: 'echo-agent', slots: 2, workDir });
  cleanups.push(async () => {
    await proc.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });
  return proc;
}

const item = (externalId: string, command = ['sh', '-c', 'echo {{external_id}} {{labels.team}}']) => ({
  externalId,
  title: `Item ${externalId}`,
  productId: 'echo',
  labels: { team: 'infra' },
  commandTemplate: command,
  url: `https://tracker.example/${externalId}`,
});

/** Every event id the store holds for these jobs: what the tracker must receive. */
async function expectedIds(server: TestServer, jobIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const id of jobIds) for (const e of await server.coordinator.store.listEvents(id)) ids.push(echoEventId(id, e.revision));
  return ids.sort();
}

describe('tracker echo', () => {
  it('delivers every event of every tracked job, signed, with the tracker ids, and nothing for other jobs', async () => {
    const hook = await receiver();
    const { server, tracker, jobs } = await coordinator({ trackerEchoUrl: hook.url });
    await agent(server.grpc.address);
    const { results } = await tracker.ingestItems({ items: [item('PROJ-1'), item('PROJ-2'), item('PROJ-3', ['sleep', '60'])] });
    const [one, two, three] = results.map((r) => r.job!.id);
    const plain = (await jobs.submitJob({ productId: 'echo', command: ['true'] })).job!.id;
    await waitForStage(jobs, one!, JobStage.SUCCEEDED);
    await waitForStage(jobs, two!, JobStage.SUCCEEDED);
    await waitForStage(jobs, three!, JobStage.RUNNING);
    await jobs.cancelJob({ jobId: three!, reason: 'not needed' });
    await waitForStage(jobs, three!, JobStage.CANCELLED);
    await waitForStage(jobs, plain, JobStage.SUCCEEDED);

    const expected = await expectedIds(server, [one!, two!, three!]);
    await expect.poll(() => [...hook.byEventId().keys()].sort(), { timeout: 15_000, interval: 50 }).toEqual(expected);
    expect(hook.accepted.every((r) => r.signed)).toBe(true);
    expect(hook.accepted.some((r) => r.payload.job_id === plain)).toBe(false);
    const stages = (jobId: string) => hook.accepted.filter((r) => r.payload.job_id === jobId).sort((a, b) => a.payload.revision - b.payload.revision).map((r) => `${r.payload.kind}:${r.payload.to_stage}`);
    expect(stages(one!)).toEqual(['submitted:queued', 'offered:leased', 'started:running', 'succeeded:succeeded']);
    expect(stages(three!).at(-1)).toBe('cancelled:cancelled');
    const first = hook.accepted.find((r) => r.eventId === `${one}:1`)!;
    expect(first.payload).toMatchObject({ event_id: `${one}:1`, job_id: one, product_id: 'echo', external_id: 'PROJ-1', external_url: 'https://tracker.example/PROJ-1', revision: 1, kind: 'submitted', from_stage: null, to_stage: 'queued', actor: 'api' });
    expect(first.headers['content-type']).toBe('application/json');
    expect(Number(first.headers['x-gigafactory-timestamp'])).toBeGreaterThan(1_700_000_000);
    const metrics = () => fetch(`${server.httpUrl}/metrics`).then((res) => res.text());
    await expect.poll(metrics, { timeout: 5_000, interval: 50 }).toContain('gigafactory_tracker_echo_pending 0'); // the last settle landed
    expect(hook.accepted).toHaveLength(expected.length); // a healthy receiver gets each event once
    expect(await metrics()).toContain(`gigafactory_tracker_echoes_total{outcome="delivered"} ${expected.length}`);
  });

  it('delivers later to a receiver that fails for a while, retrying with back-off', async () => {
    const hook = await receiver({ failFirst: 6 });
    const { server, tracker } = await coordinator({ trackerEchoUrl: hook.url });
    const { results } = await tracker.ingestItems({ items: [item('A-1'), item('A-2')] });
    await tracker.ingestItem({ item: { ...item('A-1'), title: 'renamed' } }); // an 'updated' event too
    const expected = await expectedIds(server, results.map((r) => r.job!.id));
    expect(expected).toHaveLength(3);
    await expect.poll(() => [...hook.byEventId().keys()].sort(), { timeout: 15_000, interval: 50 }).toEqual(expected);
    expect(hook.refused).toBe(6);
    const metrics = () => fetch(`${server.httpUrl}/metrics`).then((res) => res.text());
    await expect.poll(metrics, { timeout: 5_000, interval: 50 }).toContain('gigafactory_tracker_echo_pending 0');
    expect(await metrics()).toContain('gigafactory_tracker_echoes_total{outcome="failed"} 6');
  });

  it('gives up on a tracker that never answers, while its jobs still run to the end', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer(() => undefined); // reads the request, never answers
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
    const { server, tracker, jobs } = await coordinator({ trackerEchoUrl: url, trackerEchoTimeoutMs: 200, trackerEchoMaxAttempts: 2 });
    await agent(server.grpc.address);
    const { results } = await tracker.ingestItems({ items: [item('S-1'), item('S-2')] });
    for (const r of results) await waitForStage(jobs, r.job!.id, JobStage.SUCCEEDED);
    const total = (await expectedIds(server, results.map((r) => r.job!.id))).length;
    await expect
      .poll(async () => (await fetch(`${server.httpUrl}/metrics`)).text(), { timeout: 20_000, interval: 100 })
      .toContain(`gigafactory_tracker_echo_dead ${total}`);
  });
});

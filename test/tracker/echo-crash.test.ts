/**
 * The echo outbox survives kill -9: a real coordinator process records echoes while the tracker is
 * down (and while ingests are in flight), is killed, and restarted on the same data dir with the
 * tracker back up. Every event of every stored job reaches the receiver, once per event id, and
 * nothing else does.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { trackerJobId } from '../../src/coordinator/tracker-ingest.js';
import { echoEventId } from '../../src/store/echo-outbox.js';
import { spawnCoordinator, type ManagedProcess } from '../support/processes.js';
import { freePort, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'crash-test-secret-0123456789';
const root = mkdtempSync(join(tmpdir(), 'gigafactory-echo-crash-'));
const processes: ManagedProcess[] = [];
let hook: WebhookReceiver | undefined;
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await hook?.close();
  rmSync(root, { recursive: true, force: true });
});

const ITEMS = 30;
const item = (i: number, title = `Item ${i}`) => ({ externalId: `CRASH-${i}`, title, productId: 'crash', commandTemplate: ['echo', '{{external_id}}'], url: `https://tracker.example/CRASH-${i}` });

it('delivers every echo exactly once by event id after kill -9 of the coordinator', async () => {
  const dataDir = join(root, 'data');
  const port = await freePort(); // the tracker is down: nothing listens here yet
  const env = {
    GIGAFACTORY_TRACKER_ECHO_URL: `http://127.0.0.1:${port}/hooks/gigafactory`,
    GIGAFACTORY_TRACKER_ECHO_SECRET: SECRET,
    GIGAFACTORY_TRACKER_ECHO_POLL_MS: '100',
    GIGAFACTORY_TRACKER_ECHO_RETRY_BASE_MS: '100',
    GIGAFACTORY_TRACKER_ECHO_RETRY_MAX_MS: '400',
    GIGAFACTORY_TRACKER_ECHO_TIMEOUT_MS: '1000',
  };
  const first = await spawnCoordinator({ dataDir, env });
  processes.push(first);
  const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
  const [grpcPort, httpPort] = [portOf(first.grpcAddress), portOf(first.httpAddress)];
  const transport = createGrpcTransport({ baseUrl: `http://${first.grpcAddress}` });
  const tracker = createClient(TrackerService, transport);
  const jobs = createClient(JobService, transport);

  // Changes while the tracker is down: creates, updates, cancels.
  await tracker.ingestItems({ items: Array.from({ length: ITEMS / 2 }, (_, i) => item(i)) });
  await tracker.ingestItems({ items: Array.from({ length: 5 }, (_, i) => item(i, `Item ${i}, renamed`)) });
  for (let i = 5; i < 8; i++) await jobs.cancelJob({ jobId: trackerJobId('crash', `CRASH-${i}`), reason: 'not needed' });
  await first.waitFor((l) => l.msg === 'tracker echo failed; will retry');
  // More ingests in flight when the process dies: whatever of them was stored must be echoed too.
  // It dies once the first of them is answered, with the others still on their way.
  const inFlight = Array.from({ length: ITEMS / 2 }, (_, i) => tracker.ingestItem({ item: item(ITEMS / 2 + i) }).catch(() => null));
  await Promise.race(inFlight);
  await first.kill('SIGKILL');
  await Promise.all(inFlight);

  hook = await startWebhookReceiver({ secret: SECRET, port });
  const second = await spawnCoordinator({ dataDir, grpcPort, httpPort, env });
  processes.push(second);

  // What the store holds is what the tracker must get: every revision of every stored job (no agent
  // runs here, so every revision has an event). The restarted coordinator adds events of its own
  // ("waiting": no factory can run the job), so the expectation is read again on every poll.
  const after = createClient(JobService, createGrpcTransport({ baseUrl: `http://${second.grpcAddress}` }));
  const expectedIds = async (): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < ITEMS; i++) {
      const job = (
        await after.getJob({ jobId: trackerJobId('crash', `CRASH-${i}`) }).catch((err: unknown) => {
          if (ConnectError.from(err).code === Code.NotFound) return null; // an ingest the kill stopped before it stored anything
          throw err;
        })
      )?.job;
      for (let revision = 1; job && revision <= Number(job.revision); revision++) ids.push(echoEventId(job.id, revision));
    }
    return ids.sort();
  };
  // The restarted coordinator notes waiting jobs a page per reaper tick (1 s), so the expectation is
  // settled only once two reads more than a tick apart agree; the tracker must then have exactly it.
  let expected: string[] = [];
  await expect
    .poll(
      async () => {
        const now = await expectedIds();
        const settled = JSON.stringify(now) === JSON.stringify(expected);
        expected = now;
        return settled && JSON.stringify([...hook!.byEventId().keys()].sort()) === JSON.stringify(now);
      },
      { timeout: 30_000, interval: 1_200 },
    )
    .toBe(true);
  expect(expected.length).toBeGreaterThanOrEqual(ITEMS / 2 + 5 + 3);
  expect([...hook.byEventId().keys()].sort()).toEqual(expected);
  expect(hook.accepted.every((r) => r.signed)).toBe(true);
  // Exactly once: nothing was delivered before the kill, and each event was then sent once.
  expect(hook.accepted.length).toBe(expected.length);
  // The secret is in the coordinator's environment, never in its logs.
  expect(JSON.stringify([...first.lines, ...second.lines])).not.toContain(SECRET);
  expect(second.lines.some((l) => l.msg === 'tracker echo sender started' && l.target === `http://127.0.0.1:${port}`)).toBe(true);
});

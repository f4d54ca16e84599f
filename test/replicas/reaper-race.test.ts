/**
 * Every replica runs the reaper. Two replicas' reapers finding the same expired leases at the same
 * moment must take each job back exactly once: the loser's write is fenced by compare-and-set and
 * counted as a race (the `reaper raced other writers` log line), never applied twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fleetSettings, resolveServeConfig } from '../../src/config.js';
import { systemClock } from '../../src/coordinator/clock.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { createLogger } from '../../src/logging.js';
import { openCosmosStore, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { insertRunning } from '../store/builders.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';

const JOBS = 60;

let server: CosmosTestServer;
const stores: CosmosJobStore[] = [];
beforeAll(async () => {
  server = await startCosmosTestServer();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.close();
});

it('two replicas reaping the same expired leases take each job back exactly once', async () => {
  const database = server.freshDatabase();
  const settings = fleetSettings(resolveServeConfig({}, {}), { sharedStore: true });
  const replicas = await Promise.all(
    [0, 1].map(async () => {
      const store = await openCosmosStore({ endpoint: server.endpoint, key: server.key, database });
      stores.push(store);
      return new Coordinator(store, systemClock, settings, createLogger({ level: 'silent' }));
    }),
  );
  const longAgo = Date.now() - 10 * 60_000; // leases expired minutes ago
  for (let i = 0; i < JOBS; i++) await insertRunning(stores[i % 2]!, `job-${i}`, `f${i % 3}`, longAgo);

  const reaped = await Promise.all(replicas.map((r) => r.fleet.reapOnce()));
  const raced = replicas.map((r) => r.fleet.races.reaperRaced);
  console.log(`reaper race: reaped ${reaped.join(' + ')}, raced ${raced.join(' + ')}, CAS retries ${replicas.map((r) => r.fleet.races.reaperCasRetries).join(' + ')}`);
  expect(reaped[0]! + reaped[1]!).toBe(JOBS);
  expect(reaped[0]! + reaped[1]! + raced[0]! + raced[1]!).toBe(2 * JOBS); // each saw every job: reaped it or lost the race
  for (let i = 0; i < JOBS; i++) {
    const job = (await stores[0]!.getJob(`job-${i}`))!;
    expect(job.stage).toBe('queued');
    expect(job.attempts.map((a) => a.outcome)).toEqual(['lease_expired']);
    const events = await stores[1]!.listEvents(job.id);
    expect(events).toHaveLength(4); // submitted, offered, started, and one requeue
  }
  expect(await stores[0]!.listExpiredLeases(Date.now(), 100)).toEqual([]);
}, 60_000);

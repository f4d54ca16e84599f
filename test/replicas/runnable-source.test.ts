/**
 * What a replica dividing the work lists for a dispatch pass (src/coordinator/runnable-source.ts),
 * over a real Cosmos store: only its own partitions' queued jobs while they fill its free slots;
 * with slots to spare, also jobs of other partitions that waited STEAL.afterMs (not fresher ones),
 * looked for again only after the steal interval, which backs off while steals find nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newJob } from '../../src/domain/lifecycle.js';
import { partitionOf } from '../../src/domain/partitions.js';
import { newId } from '../../src/coordinator/ids.js';
import { ownedQueue, STEAL } from '../../src/coordinator/runnable-source.js';
import { openCosmosStore, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';

let cosmos: CosmosTestServer;
let store: CosmosJobStore;
const T = 1_800_000_000_000;

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  store = await openCosmosStore({ endpoint: cosmos.endpoint, key: cosmos.key, database: cosmos.freshDatabase() });
});
afterAll(async () => {
  await store?.close();
  await cosmos?.close();
});

/** Stores a queued job created at `at` whose id falls in `partition`. */
async function queued(partition: number, at: number): Promise<string> {
  let id = newId('job', at);
  while (partitionOf(id, 64) !== partition) id = newId('job', at);
  const { job, event } = newJob({ productId: 'p', title: '', command: ['true'], env: {}, requiredLabels: [], priority: 0, idempotencyKey: '', maxAttempts: 0, timeoutMs: 0 }, id, at, 'test');
  await store.insertJob(job, event!);
  return id;
}

it('lists its own partitions, and steals only jobs that waited, at most once per interval', async () => {
  const mine = [1, 2];
  const ownOld = await queued(1, T - 5_000);
  const ownNew = await queued(2, T);
  const otherOld = await queued(40, T - 5_000);
  const otherNew = await queued(41, T - STEAL.afterMs + 100); // not waited long enough
  const list = ownedQueue({ claimable: () => mine, listRunnableIn: (p, now, limit) => store.listRunnableIn(p, now, limit), listRunnable: (now, limit) => store.listRunnable(now, limit) });

  // Own jobs fill the free slots: nothing else is read.
  expect((await list(T, 100, 2)).map((j) => j.id).sort()).toEqual([ownOld, ownNew].sort());
  // Slots to spare: own jobs first, then jobs of other partitions that waited STEAL.afterMs.
  const spare = (await list(T, 100, 8)).map((j) => j.id);
  expect(spare.slice(0, 2).sort()).toEqual([ownOld, ownNew].sort());
  expect(spare.slice(2)).toEqual([otherOld]);
  expect(spare).not.toContain(otherNew);
  // Within the steal interval, only own jobs again.
  expect((await list(T + STEAL.minIntervalMs - 1, 100, 8)).map((j) => j.id).sort()).toEqual([ownOld, ownNew].sort());
  // After it, the job that has now waited long enough is stolen too.
  expect((await list(T + STEAL.minIntervalMs, 100, 8)).map((j) => j.id)).toEqual(expect.arrayContaining([otherOld, otherNew]));
}, 60_000);

it('owning nothing (before its first step, or its row may have lapsed), it only steals', async () => {
  const id = await queued(7, T - 10_000);
  const list = ownedQueue({ claimable: () => [], listRunnableIn: () => Promise.reject(new Error('no partitions to list')), listRunnable: (now, limit) => store.listRunnable(now, limit) });
  expect((await list(T, 100, 1)).map((j) => j.id)).toContain(id);
}, 60_000);

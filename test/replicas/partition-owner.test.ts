/**
 * Partition owners (src/coordinator/partition-owner.ts) over the real partition tables in a Cosmos
 * test server's control container, with short timings so joins, deaths and orderly leaves play out
 * in seconds: the table converges to a fair share per live replica, a replica that stops stepping
 * (as after kill -9) loses its partitions to the others once its row lapses, an orderly stop hands
 * them over at once, and a replica whose row may have lapsed claims nothing. The property tests of
 * the rules themselves are test/domain/partitions.test.ts.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../src/coordinator/clock.js';
import { PartitionOwner, type PartitionTiming } from '../../src/coordinator/partition-owner.js';
import { partitionOf } from '../../src/domain/partitions.js';
import { createLogger } from '../../src/logging.js';
import { openCosmosControlStores, type CosmosControlStores } from '../../src/store/cosmos/index.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';

const TIMING: PartitionTiming = { stepMs: 200, fastStepMs: 50, memberTtlMs: 3_000, skewMarginMs: 300, forgetAfterMs: 5_000 };
const log = createLogger({ level: 'warn', pretty: false });

let cosmos: CosmosTestServer;
let stores: CosmosControlStores;
const owners: PartitionOwner[] = [];

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
});
afterEach(async () => {
  await Promise.all(owners.splice(0).map((o) => o.stop()));
  await stores?.partitions.close();
});
afterAll(async () => {
  await cosmos?.close();
});

async function freshTable(): Promise<void> {
  stores = await openCosmosControlStores({ endpoint: cosmos.endpoint, key: cosmos.key, database: cosmos.freshDatabase() });
  await Promise.all([stores.security.close(), stores.settings.close(), stores.leaseKeys.close(), stores.schedules.close()]);
}

async function join(id: string, timing = TIMING): Promise<PartitionOwner> {
  const owner = new PartitionOwner({ table: stores.partitions, clock: systemClock, log, timing, replicaId: id });
  owners.push(owner);
  await owner.start();
  return owner;
}

/** Each live owner's share, as the table says (read fresh). */
async function holdings(): Promise<Record<string, number>> {
  const table = await stores.partitions.readTable();
  const counts: Record<string, number> = {};
  for (const p of table.partitions) if (p.row.owner !== '') counts[p.row.owner] = (counts[p.row.owner] ?? 0) + 1;
  return counts;
}

it('a lone replica takes every partition on joining; others joining take their share', async () => {
  await freshTable();
  const a = await join('a');
  expect(a.claimable()).toHaveLength(64);
  expect(await holdings()).toEqual({ a: 64 });
  const b = await join('b');
  await expect.poll(holdings, { timeout: 10_000, interval: 50 }).toEqual({ a: 32, b: 32 });
  const c = await join('c');
  await expect.poll(async () => Object.values(await holdings()).sort(), { timeout: 10_000, interval: 50 }).toEqual([21, 21, 22]);
  // Each owner's claimable set is its rows, and no partition is claimable by two.
  await expect.poll(() => [a, b, c].map((o) => o.claimable().length).reduce((x, y) => x + y), { timeout: 5_000, interval: 50 }).toBe(64);
  const seen = new Set<number>();
  for (const p of [a, b, c].flatMap((o) => o.claimable())) {
    expect(seen.has(p), `partition ${p} claimable twice`).toBe(false);
    seen.add(p);
  }
  // A job id minted by an owner lands in one of its partitions.
  for (const o of [a, b, c]) expect(o.claimable()).toContain(partitionOf(o.newJobId(Date.now()), 64));
}, 30_000);

it('a replica that stops stepping (killed) loses its partitions to the live ones once its row lapses', async () => {
  await freshTable();
  await join('a');
  // The victim steps by hand only: never again after this, as after kill -9.
  const victim = new PartitionOwner({ table: stores.partitions, clock: systemClock, log, timing: TIMING, replicaId: 'victim' });
  const b = await join('b');
  for (let i = 0; i < 20 && (await holdings()).victim !== 21; i++) {
    await victim.step();
    await new Promise((resolve) => setTimeout(resolve, TIMING.fastStepMs));
  }
  expect(Object.values(await holdings()).sort()).toEqual([21, 21, 22]);
  const killedAt = Date.now();
  await victim.step(); // its last renewal
  // It stops claiming (its row may lapse soon) before any other replica takes one of its partitions.
  let claimingUntil = 0;
  let retakenAt = 0;
  while (retakenAt === 0 && Date.now() - killedAt < 10_000) {
    if (claimingUntil === 0 && victim.claimable().length === 0) claimingUntil = Date.now();
    const held = await holdings();
    if (held.victim === undefined && held.a === 32 && held.b === 32) retakenAt = Date.now();
    if (claimingUntil === 0 && held.victim !== 21) throw new Error(`partitions taken from a replica still claiming: ${JSON.stringify(held)}`);
  }
  expect(retakenAt).toBeGreaterThan(0);
  expect(claimingUntil).toBeGreaterThan(0);
  expect(claimingUntil).toBeLessThan(retakenAt);
  const retakenMs = retakenAt - killedAt;
  console.log(`partitions of a replica that stopped stepping retaken after ${retakenMs} ms (member TTL ${TIMING.memberTtlMs} ms, step ${TIMING.stepMs} ms)`);
  expect(retakenMs).toBeGreaterThanOrEqual(TIMING.memberTtlMs - 100); // never before its row lapsed
  expect(b.stats().members).toBe(2);
  // Its row is deleted once it has been gone forgetAfterMs, so the table does not grow with restarts.
  await expect.poll(async () => (await stores.partitions.readTable()).members.map((m) => m.row.id).sort(), { timeout: 10_000, interval: 100 }).toEqual(['a', 'b']);
}, 30_000);

it('an orderly stop hands the partitions over without waiting for the row to lapse', async () => {
  await freshTable();
  const slow = { ...TIMING, memberTtlMs: 60_000 };
  await join('a', slow);
  const b = await join('b', slow);
  await expect.poll(holdings, { timeout: 10_000, interval: 50 }).toEqual({ a: 32, b: 32 });
  const stoppedAt = Date.now();
  await b.stop();
  expect(b.claimable()).toEqual([]);
  await expect.poll(holdings, { timeout: 5_000, interval: 20 }).toEqual({ a: 64 });
  console.log(`partitions of a replica stopped in order retaken after ${Date.now() - stoppedAt} ms (step ${TIMING.stepMs} ms)`);
  expect(Date.now() - stoppedAt).toBeLessThan(slow.memberTtlMs);
}, 30_000);

it('every take and release bumps the partition epoch, so each holding is named once', async () => {
  await freshTable();
  await join('a');
  const before = new Map((await stores.partitions.readTable()).partitions.map((p) => [p.row.partition, p.row.epoch]));
  expect([...before.values()].every((e) => e === 1)).toBe(true);
  await join('b');
  await expect.poll(holdings, { timeout: 10_000, interval: 50 }).toEqual({ a: 32, b: 32 });
  const after = (await stores.partitions.readTable()).partitions;
  for (const p of after) {
    // Moved: released by a (epoch 2), taken by b (epoch 3). Stayed: still epoch 1.
    expect(p.row.epoch, `partition ${p.row.partition}`).toBe(p.row.owner === 'b' ? 3 : 1);
  }
}, 30_000);

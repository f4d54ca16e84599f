/**
 * The placement-decision stores (memory, SQLite, and Cosmos on the Cosmos test server) keep the same rules: one row per job and
 * epoch (a repeat is ignored), outcomes attached to their decisions (an orphan changes nothing),
 * newest first, and at most `keep` per product, dropping the oldest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlacementDecision } from '../../src/domain/placement-decision.js';
import { DEFAULT_WEIGHTS } from '../../src/domain/scheduler.js';
import type { DecisionStore } from '../../src/store/decision-store.js';
import { MemoryDecisionStore } from '../../src/store/memory/memory-decision-store.js';
import { SqliteDecisionStore } from '../../src/store/sqlite/sqlite-decision-store.js';
import { openCosmosStore, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { startCosmosTestServer, type CosmosTestServer } from '../replicas/cosmos-test-server.js';

const root = mkdtempSync(join(tmpdir(), 'gigafactory-decisions-'));
const sqlite: SqliteDecisionStore[] = [];
const cosmos: CosmosJobStore[] = [];
let server: CosmosTestServer;
beforeAll(async () => {
  server = await startCosmosTestServer();
});
afterAll(async () => {
  for (const s of sqlite) s.close();
  for (const s of cosmos) await s.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const providers: [string, () => Promise<DecisionStore>][] = [
  ['memory', async () => new MemoryDecisionStore()],
  ['sqlite', async () => {
    const store = new SqliteDecisionStore(join(root, `${sqlite.length}.sqlite`));
    sqlite.push(store);
    return store;
  }],
  ['cosmos', async () => {
    const store = await openCosmosStore({ endpoint: server.endpoint, key: server.key, database: server.freshDatabase() });
    cosmos.push(store);
    return store.decisions;
  }],
];

const signals = { priority: 1, aging: 0.5, affinity: 1, load: 0.25, fairShare: 0, costClass: -1 };

function decision(jobId: string, at: number, productId = 'p', epoch = 1): PlacementDecision {
  return {
    jobId,
    epoch,
    productId,
    decidedAt: at,
    arm: 'control',
    weights: DEFAULT_WEIGHTS,
    waitMs: 1_000,
    chosen: { factoryId: 'f1', signals },
    rejected: [{ factoryId: 'f2', signals: { ...signals, affinity: 0 } }],
    outcome: null,
  };
}

describe.each(providers)('%s decision store', (_name, open) => {
  it('stores a decision once per job and epoch, and lists a product newest first', async () => {
    const store = await open();
    await store.appendDecisions([decision('a', 1), decision('b', 2), decision('a', 3, 'p', 2), decision('c', 4, 'q')]);
    await store.appendDecisions([{ ...decision('a', 1), waitMs: 99 }]); // a repeat (a replayed batch) is ignored
    const listed = await store.listDecisions('p', 10);
    expect(listed.map((d) => `${d.jobId}/${d.epoch}`)).toEqual(['a/2', 'b/1', 'a/1']);
    expect(listed[2]).toEqual(decision('a', 1));
    expect(await store.listDecisions('p', 1)).toHaveLength(1);
    expect((await store.listDecisions('p', 10, 2)).map((d) => d.jobId)).toEqual(['a', 'b']);
  });

  it('attaches an outcome to its decision, and ignores one without a decision', async () => {
    const store = await open();
    await store.appendDecisions([decision('a', 1), decision('a', 2, 'p', 2)]);
    const outcome = { result: 'failed' as const, durationMs: 5_000, cost: 0.25, endedAt: 6 };
    await store.recordOutcomes([{ jobId: 'a', epoch: 1, productId: 'p', outcome }, { jobId: 'nobody', epoch: 1, productId: 'p', outcome }]);
    const [second, first] = await store.listDecisions('p', 10);
    expect(first!.outcome).toEqual(outcome);
    expect(second!.outcome).toBeNull();
  });

  it('keeps the newest `keep` decisions per product, whatever the other products hold', async () => {
    const store = await open();
    await store.appendDecisions(Array.from({ length: 8 }, (_, i) => decision(`p${i}`, i)), 5);
    await store.appendDecisions([decision('q0', 0, 'q')], 5);
    expect((await store.listDecisions('p', 100)).map((d) => d.jobId)).toEqual(['p7', 'p6', 'p5', 'p4', 'p3']);
    expect(await store.listDecisions('q', 100)).toHaveLength(1);
  });
});

describe('cosmos decision store', () => {
  it('is shared by replicas over one database: one stores a decision, another records its outcome and lists it', async () => {
    const database = server.freshDatabase();
    const [a, b] = await Promise.all([0, 1].map(() => openCosmosStore({ endpoint: server.endpoint, key: server.key, database })));
    cosmos.push(a!, b!);
    await a!.decisions.appendDecisions([decision('j', 1)]);
    await b!.decisions.appendDecisions([decision('j', 1)]); // the same placement from a replayed batch
    const outcome = { result: 'succeeded' as const, durationMs: 2_000, cost: null, endedAt: 3 };
    await b!.decisions.recordOutcomes([{ jobId: 'j', epoch: 1, productId: 'p', outcome }, { jobId: 'j', epoch: 1, productId: 'elsewhere', outcome }]);
    expect(await a!.decisions.listDecisions('p', 10)).toEqual([{ ...decision('j', 1), outcome }]);
    expect(await a!.decisions.listDecisions('elsewhere', 10)).toEqual([]);
  });

  it('trims at most its bound per append, and reaches `keep` over the next appends', async () => {
    const store = await openCosmosStore({ endpoint: server.endpoint, key: server.key, database: server.freshDatabase(), maxTrimmedDecisions: 4 });
    cosmos.push(store);
    await store.decisions.appendDecisions(Array.from({ length: 10 }, (_, i) => decision(`b${i}`, i)), 10); // nothing to trim yet
    await store.decisions.appendDecisions([decision('new', 10)], 5);
    expect(await store.decisions.listDecisions('p', 100)).toHaveLength(11 - 4); // 6 beyond `keep`, 4 of them trimmed
    await store.decisions.appendDecisions([decision('newer', 11)], 5);
    expect((await store.decisions.listDecisions('p', 100)).map((d) => d.jobId)).toEqual(['newer', 'new', 'b9', 'b8', 'b7']);
  });
});

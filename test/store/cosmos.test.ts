/**
 * The Cosmos provider against the Cosmos test server: the shared conformance suite (a fresh
 * database per test), then what only a shared document store has to get right: two replicas'
 * stores over the same data, an insert that died half way, ids Cosmos cannot take as they are,
 * jobs with more events than one document keeps, and the container it creates.
 */
import type { Container } from '@azure/cosmos';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { offer } from '../../src/domain/lifecycle.js';
import { openCosmosArtifactStore, openCosmosControlStores, openCosmosStore, type CosmosControlStores, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { idemDocId, jobDoc } from '../../src/store/cosmos/documents.js';
import { echoDocId } from '../../src/store/cosmos/cosmos-echo-outbox.js';
import { echoFor } from '../../src/store/echo-outbox.js';
import { COMPOSITE_INDEXES, CONTAINER_ID } from '../../src/store/cosmos/schema.js';
import { RevisionConflict } from '../../src/store/job-store.js';
import { openStoreAsync } from '../../src/store/open-store.js';
import { DuplicateJobId } from '../../src/store/store-errors.js';
import { startCosmosTestServer, type CosmosTestServer } from '../replicas/cosmos-test-server.js';
import { T0, TIMINGS, apply, chunk, insertRunning, insertSubmitted, submitted } from './builders.js';
import { describeJobStoreConformance } from './conformance.js';
import { describeSecurityStoreConformance } from './security-conformance.js';
import { describeSettingsStoreConformance } from './settings-conformance.js';
import { describeArtifactStoreConformance } from './artifact-conformance.js';

let server: CosmosTestServer;
beforeAll(async () => {
  server = await startCosmosTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** A store opened on a fresh database, dropped again by cleanup. */
async function onFreshDatabase<S extends { close(): Promise<void> }>(open: (options: { endpoint: string; key: string; database: string }) => Promise<S>) {
  const database = server.freshDatabase();
  const store = await open({ endpoint: server.endpoint, key: server.key, database });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await server.dropDatabase(database);
    },
  };
}

describeJobStoreConformance('cosmos', () => onFreshDatabase(openCosmosStore));

/** The control container's two stores on a fresh database; `pick` chooses the one under test. */
async function controlHarness<S>(pick: (stores: CosmosControlStores) => S & { close(): Promise<void> }) {
  const database = server.freshDatabase();
  const stores = await openCosmosControlStores({ endpoint: server.endpoint, key: server.key, database });
  return {
    store: pick(stores),
    cleanup: async () => {
      await stores.security.close();
      await stores.settings.close();
      await server.dropDatabase(database);
    },
  };
}

describeSecurityStoreConformance('cosmos', () => controlHarness((s) => s.security));
describeSettingsStoreConformance('cosmos', () => controlHarness((s) => s.settings));

describeArtifactStoreConformance('cosmos', () => onFreshDatabase(openCosmosArtifactStore));

describe('cosmos store', () => {
  const opened: CosmosJobStore[] = [];
  let database = '';
  /** A store on this test's database; call twice for two replicas sharing it. */
  const open = async (options: { maxEmbeddedEvents?: number } = {}): Promise<CosmosJobStore> => {
    database ||= server.freshDatabase();
    const store = await openCosmosStore({ endpoint: server.endpoint, key: server.key, database, ...options });
    opened.push(store);
    return store;
  };
  const container = (): Container => server.client().database(database).container(CONTAINER_ID);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    if (database) await server.dropDatabase(database);
    database = '';
  });

  it('creates its container partitioned by product, with a composite index for every ORDER BY', async () => {
    await Promise.all([open(), open()]); // two replicas starting at once
    const { resource } = await container().read();
    expect(resource?.partitionKey?.paths).toEqual(['/productId']);
    expect(resource?.indexingPolicy?.compositeIndexes).toEqual(COMPOSITE_INDEXES);
  });

  it('is opened from configuration and says it is shared', async () => {
    database = server.freshDatabase();
    const store = await openStoreAsync({ kind: 'cosmos', endpoint: server.endpoint, key: server.key, database });
    expect((store as CosmosJobStore).shared).toBe(true);
    await store.close();
  });

  it('lets two replicas read each other’s jobs, and fences their writes with the etag', async () => {
    const [a, b] = [await open(), await open()];
    const job = await insertSubmitted(a, 'j1', T0);
    expect(await b.getJob('j1')).toStrictEqual(job); // b found the product through the lookup
    const fromA = offer(job, 'fa', T0 + 1, TIMINGS);
    const fromB = offer((await b.getJob('j1'))!, 'fb', T0 + 2, TIMINGS);
    const results = await Promise.allSettled([a.replaceJob(fromA.job, fromA.event), b.replaceJob(fromB.job, fromB.event)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(RevisionConflict);
    const stored = (await a.getJob('j1'))!;
    expect([fromA.job, fromB.job]).toContainEqual(stored);
    expect((await b.listEvents('j1')).map((e) => e.kind)).toEqual(['submitted', 'offered']);
    // a's cached etag is stale when b wrote last (and the other way round): the store must re-read, not trust it.
    const next = offer({ ...stored, stage: 'queued', lease: null }, 'fc', T0 + 3, TIMINGS);
    await expect(a.replaceJob({ ...next.job, revision: stored.revision }, null)).rejects.toBeInstanceOf(RevisionConflict);
    await b.replaceJob({ ...stored, revision: stored.revision + 1, reason: 'by b' }, null);
    await a.replaceJob({ ...stored, revision: stored.revision + 2, reason: 'by a' }, null);
    expect((await b.getJob('j1'))?.reason).toBe('by a');
  });

  it('submits once per idempotency key across replicas racing on it', async () => {
    const [a, b] = [await open(), await open()];
    const attempts = Array.from({ length: 8 }, (_, i) => submitted(`j${i}`, T0 + i, { idempotencyKey: 'same' }));
    const results = await Promise.all(attempts.map(({ job, event }, i) => (i % 2 ? a : b).insertJob(job, event)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    expect((await a.listJobs({ limit: 100 })).jobs).toHaveLength(1);
  });

  it('completes a submit that died after taking its idempotency key', async () => {
    const store = await open();
    // What a submit leaves when it dies between taking the key and storing the job.
    const first = submitted('j1', T0, { idempotencyKey: 'k' });
    const intent = jobDoc(first.job, [first.event], 0, 'dead-insert');
    await container().items.create({ id: idemDocId('k'), productId: 'prod-a', type: 'idem', jobId: 'j1', intent });
    expect(await store.getJob('j1')).toBeNull();
    // The lookup answers with the job a retry would complete and return, and writes nothing.
    expect(await store.findJobByIdempotencyKey('prod-a', 'k')).toStrictEqual(first.job);
    expect(await store.getJob('j1')).toBeNull();

    const retry = submitted('j2', T0 + 5, { idempotencyKey: 'k' });
    expect(await store.insertJob(retry.job, retry.event)).toStrictEqual({ job: first.job, created: false });
    expect(await store.getJob('j1')).toStrictEqual(first.job);
    expect(await store.getJob('j2')).toBeNull();
    expect(await store.listEvents('j1')).toStrictEqual([first.event]);
    expect(await (await open()).getJob('j1')).toStrictEqual(first.job); // another replica finds it too
  });

  it('voids an echo intent whose job change was never committed, after a grace period', async () => {
    const store = await open();
    const tracker = { externalId: 'PROJ-1', url: '', labels: {} };
    const job = await insertSubmitted(store, 'j1', T0, { tracker });
    // What a replaceJob leaves when it dies after writing the echo intent and before the job.
    const lost = offer(job, 'f1', T0 + 1, TIMINGS);
    const intent = { ...echoFor(lost.job, lost.event!)! };
    await container().items.create({ id: echoDocId('j1', 2), productId: 'prod-a', type: 'echo', jobId: 'j1', revision: 2, echoState: 'pending', dueAt: T0 + 1, createdAt: T0 + 1, attempts: 0, claim: '', lastError: '', intent });
    expect((await store.echoOutbox.claimDueEchoes(T0 + 2, 10, T0 + 1_000_000, 'c1')).map((d) => d.eventId)).toEqual(['j1:1']); // j1:2 waits
    expect(await store.echoOutbox.echoBacklog()).toMatchObject({ pending: 2 });
    expect(await store.echoOutbox.claimDueEchoes(T0 + 120_000, 10, T0 + 130_000, 'c2')).toEqual([]); // j1:1 is still claimed by c1
    expect(await store.echoOutbox.echoBacklog()).toMatchObject({ pending: 1 }); // j1:2 voided
  });

  it('hands one echo to one of two replicas claiming it at once', async () => {
    const [a, b] = [await open(), await open()];
    await insertSubmitted(a, 'j1', T0, { tracker: { externalId: 'PROJ-1', url: '', labels: {} } });
    const [fromA, fromB] = await Promise.all([a.echoOutbox.claimDueEchoes(T0, 10, T0 + 100, 'a'), b.echoOutbox.claimDueEchoes(T0, 10, T0 + 100, 'b')]);
    expect([...fromA, ...fromB].map((d) => d.eventId)).toEqual(['j1:1']);
  });

  it('still refuses a duplicate id, also across products', async () => {
    const store = await open();
    await insertSubmitted(store, 'j1', T0);
    const other = submitted('j1', T0, { productId: 'prod-b' });
    await expect(store.insertJob(other.job, other.event)).rejects.toBeInstanceOf(DuplicateJobId);
    await expect((await open()).insertJob(other.job, other.event)).rejects.toBeInstanceOf(DuplicateJobId);
  });

  it('stores jobs whose ids Cosmos cannot take as document ids, and finds nothing for odd lookups', async () => {
    const store = await open();
    for (const id of ['a/b', 'a#b?c', 'back\\slash', 'ü n i', 'x'.repeat(300)]) {
      const job = await insertRunning(store, id, 'f1', T0);
      expect(await store.getJob(id)).toStrictEqual(job);
      expect(await store.appendLog(chunk(id, 1, 0, 'hi'))).toBe('stored');
      expect((await store.readLogs(id, null, 10)).map((c) => c.sequence)).toEqual([0]);
      expect((await store.listEvents(id)).length).toBe(3);
    }
    expect(await store.getJob('no/such?job#')).toBeNull();
    expect(await store.getJob('y'.repeat(5_000))).toBeNull();
  });

  it('moves the oldest events out of a job with many, and still lists them all in order', async () => {
    const store = await open({ maxEmbeddedEvents: 4 });
    let job = await insertSubmitted(store, 'j1', T0);
    for (let i = 1; i <= 12; i++) job = await apply(store, { job: { ...job, revision: job.revision + 1, updatedAt: T0 + i }, event: { ...(await store.listEvents('j1'))[0]!, revision: job.revision + 1, kind: `step-${i}`, at: T0 + i } });
    const events = await store.listEvents('j1');
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(events.slice(1).map((e) => e.kind)).toEqual(Array.from({ length: 12 }, (_, i) => `step-${i + 1}`));
    const { resources } = await container().items.query("SELECT * FROM c WHERE c.type = 'event'").fetchAll();
    expect(resources.length).toBeGreaterThan(0);
    expect(await (await open()).listEvents('j1')).toStrictEqual(events);
  });

  it('counts jobs by product and stage', async () => {
    const store = await open();
    await insertSubmitted(store, 'a1', T0);
    await insertSubmitted(store, 'a2', T0);
    await insertRunning(store, 'a3', 'f1', T0);
    await insertSubmitted(store, 'b1', T0, { productId: 'prod-b' });
    const counts = (await store.countJobs()).sort((x, y) => `${x.productId}${x.stage}`.localeCompare(`${y.productId}${y.stage}`));
    expect(counts).toEqual([
      { productId: 'prod-a', stage: 'queued', count: 2 },
      { productId: 'prod-a', stage: 'running', count: 1 },
      { productId: 'prod-b', stage: 'queued', count: 1 },
    ]);
  });

  it('counts its round trips: a transition is one read and one conditional replace', async () => {
    const store = await open();
    const job = await insertSubmitted(store, 'j1', T0);
    const before = store.stats();
    const current = (await store.getJob('j1'))!;
    const next = offer(current, 'f1', T0 + 1, TIMINGS);
    await store.replaceJob(next.job, next.event);
    const after = store.stats();
    expect(after.requests - before.requests).toBe(2);
    expect(after.byOperation['read.job']!.requests - (before.byOperation['read.job']?.requests ?? 0)).toBe(1);
    expect(after.byOperation['replace.job']!.requests).toBe(1);
    expect(before.byOperation['insert.job']!.requests).toBe(1);
    expect(before.byOperation['insert.jobref']!.requests).toBe(1);
    expect(job.id).toBe('j1');
  });
});

/**
 * Two replicas claiming the same queued jobs as fast as they can, each through its own Cosmos store
 * and the coordinator's one write path (Jobs.mutate + offer): every job is leased exactly once.
 * Both list the same runnable jobs and try them in a shuffled order, so they collide often (both
 * read a job as queued, both write): compare-and-set on the etag is all that stands between them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../src/coordinator/clock.js';
import { JobFeed } from '../../src/coordinator/job-feed.js';
import { Jobs } from '../../src/coordinator/jobs.js';
import { DomainError } from '../../src/domain/errors.js';
import { offer } from '../../src/domain/lifecycle.js';
import { openCosmosStore, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { TIMINGS, submitted } from '../store/builders.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';

const JOBS = 200;

let server: CosmosTestServer;
const stores: CosmosJobStore[] = [];
beforeAll(async () => {
  server = await startCosmosTestServer();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.close();
});

it('two replicas claiming the same jobs in a tight loop never lease one twice', async () => {
  const database = server.freshDatabase();
  const replicas = await Promise.all(['r1', 'r2'].map(async (name) => {
    const store = await openCosmosStore({ endpoint: server.endpoint, key: server.key, database });
    stores.push(store);
    return { name, store, jobs: new Jobs(store, new JobFeed(), systemClock), claimed: [] as string[], lost: 0, casRetries: 0 };
  }));
  const now = Date.now();
  for (let i = 0; i < JOBS; i++) {
    const { job, event } = submitted(`job-${String(i).padStart(4, '0')}`, now - JOBS + i, { productId: `p${i % 3}` });
    await replicas[i % 2]!.store.insertJob(job, event);
  }

  await Promise.all(
    replicas.map(async (replica) => {
      for (;;) {
        const runnable = await replica.store.listRunnable(Date.now(), 16);
        if (runnable.length === 0) return;
        for (const job of shuffle(runnable)) {
          let decisions = 0;
          try {
            await replica.jobs.mutate(job.id, (current) => {
              decisions++;
              return offer(current, replica.name, Date.now(), TIMINGS);
            });
            replica.claimed.push(job.id);
          } catch (err) {
            if (!(err instanceof DomainError)) throw err;
            replica.lost++; // the other replica got it first
          } finally {
            replica.casRetries += Math.max(0, decisions - 1);
          }
        }
      }
    }),
  );

  const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
  const both = a.claimed.filter((id) => b.claimed.includes(id));
  const retries = a.casRetries + b.casRetries;
  console.log(`claim race: ${a.name} ${a.claimed.length} claimed / ${a.lost} lost, ${b.name} ${b.claimed.length} / ${b.lost}; ${retries} etag conflicts (412)`);
  expect(both).toEqual([]);
  expect(retries).toBeGreaterThan(0); // they really did write over each other's reads
  expect(a.claimed.length + b.claimed.length).toBe(JOBS);
  expect(a.claimed.length).toBeGreaterThan(0);
  expect(b.claimed.length).toBeGreaterThan(0);
  for (const replica of replicas) {
    for (const id of replica.claimed) {
      const job = (await a.store.getJob(id))!;
      expect(job.stage).toBe('leased');
      expect(job.epoch).toBe(1);
      expect(job.lease?.factoryId).toBe(replica.name);
      expect((await b.store.listEvents(id)).map((e) => e.kind)).toEqual(['submitted', 'offered']);
    }
  }
}, 60_000);

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

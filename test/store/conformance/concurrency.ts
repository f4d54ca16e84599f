/**
 * Writes issued concurrently, as the coordinator issues them (a dispatch pass claims many jobs at
 * once; factories report results at the same time). A provider may batch them (SQLite commits the
 * writes of one event-loop turn together), but each write keeps its own outcome.
 */
import { describe, expect, it } from 'vitest';
import { offer } from '../../../src/domain/lifecycle.js';
import { RevisionConflict } from '../../../src/store/job-store.js';
import { T0, TIMINGS, insertSubmitted, submitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

export function describeConcurrency(makeStore: MakeStore): void {
  describe('concurrent writes', () => {
    const store = useStore(makeStore);

    it('commits concurrent compare-and-sets on different jobs, each with its event', async () => {
      const jobs = await Promise.all(['a', 'b', 'c', 'd'].map((id) => insertSubmitted(store(), id, T0)));
      const offers = jobs.map((job, i) => offer(job, `f${i}`, T0 + 1, TIMINGS));
      await Promise.all(offers.map((o) => store().replaceJob(o.job, o.event)));
      for (const o of offers) {
        expect(await store().getJob(o.job.id)).toStrictEqual(o.job);
        expect((await store().listEvents(o.job.id)).map((e) => e.kind)).toEqual(['submitted', 'offered']);
      }
    });

    it('fails only the losing compare-and-set when writes race on one job', async () => {
      const [contested, other] = await Promise.all([insertSubmitted(store(), 'contested', T0), insertSubmitted(store(), 'other', T0)]);
      const winner = offer(contested!, 'f1', T0 + 1, TIMINGS);
      const loser = offer(contested!, 'f2', T0 + 1, TIMINGS);
      const bystander = offer(other!, 'f3', T0 + 1, TIMINGS);
      const settled = await Promise.allSettled([
        store().replaceJob(winner.job, winner.event),
        store().replaceJob(loser.job, loser.event),
        store().replaceJob(bystander.job, bystander.event),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
      expect(await store().getJob('contested')).toStrictEqual(winner.job);
      expect((await store().listEvents('contested')).map((e) => e.actor)).toEqual(['test', 'factory:f1']);
      expect(await store().getJob('other')).toStrictEqual(bystander.job);
    });

    it('creates one job for concurrent submits with one idempotency key; the others get it back', async () => {
      const attempts = ['k1', 'k2', 'k3'].map((id, i) => submitted(id, T0 + i, { idempotencyKey: 'same' }));
      const results = await Promise.all(attempts.map(({ job, event }) => store().insertJob(job, event)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const first = results.find((r) => r.created)!.job;
      for (const r of results) expect(r.job).toStrictEqual(first);
      const page = await store().listJobs({ limit: 10 });
      expect(page.jobs.map((j) => j.id)).toEqual([first.id]);
    });
  });
}

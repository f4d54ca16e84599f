/**
 * listSpend: the cost each attempt reported, written with the result's compare-and-set, found by
 * product and time range, oldest first; a resent result (a write that changes nothing) counts once.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BACKOFF } from '../../../src/domain/backoff.js';
import { accept, complete, offer } from '../../../src/domain/lifecycle.js';
import type { JobRecord } from '../../../src/domain/job.js';
import type { JobStore } from '../../../src/store/job-store.js';
import { T0, TIMINGS, apply, insertRunning, insertSubmitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

/** Runs a job of `productId` to a result costing `cost` at `at`. */
async function ranFor(store: JobStore, id: string, productId: string, at: number, cost: number | undefined, outcome: 'succeeded' | 'failed' = 'succeeded'): Promise<JobRecord> {
  const job = await insertSubmitted(store, id, at - 1_000, { productId, title: `title ${id}` });
  const leased = await apply(store, offer(job, 'f1', at - 500, TIMINGS));
  const running = await apply(store, accept(leased, 'f1', leased.epoch, at - 400, TIMINGS));
  return apply(store, complete(running, 'f1', running.epoch, { outcome, exitCode: outcome === 'succeeded' ? 0 : 1, message: '', ...(cost === undefined ? {} : { cost }) }, at, DEFAULT_RETRY_BACKOFF, 0));
}

export function describeSpend(makeStore: MakeStore): void {
  describe('listSpend', () => {
    const store = useStore(makeStore);

    it('finds the costed attempts of a product within [from, to), oldest first', async () => {
      await ranFor(store(), 'a1', 'acme', T0 + 3_000, 2.5);
      await ranFor(store(), 'a2', 'acme', T0 + 1_000, 1);
      await ranFor(store(), 'a3', 'acme', T0 + 2_000, undefined); // reported no cost
      await ranFor(store(), 'b1', 'other', T0 + 1_500, 7);
      await ranFor(store(), 'a4', 'acme', T0 + 9_000, 4); // after the range
      expect(await store().listSpend({ productId: 'acme', from: T0 + 1_000, to: T0 + 9_000 })).toEqual([
        { jobId: 'a2', productId: 'acme', title: 'title a2', epoch: 1, cost: 1, at: T0 + 1_000 },
        { jobId: 'a1', productId: 'acme', title: 'title a1', epoch: 1, cost: 2.5, at: T0 + 3_000 },
      ]);
      expect((await store().listSpend({ from: T0, to: T0 + 10_000 })).map((r) => r.jobId)).toEqual(['a2', 'b1', 'a1', 'a4']);
      expect(await store().listSpend({ productId: 'nobody', from: T0, to: T0 + 10_000 })).toEqual([]);
    });

    it('keeps one record per attempt as the job moves on, and adds the next attempt', async () => {
      const failed = await ranFor(store(), 'r1', 'acme', T0 + 1_000, 1.5, 'failed'); // retried: queued again
      expect(failed.stage).toBe('queued');
      const again = await apply(store(), offer({ ...failed }, 'f2', failed.notBefore, TIMINGS));
      const running = await apply(store(), accept(again, 'f2', again.epoch, failed.notBefore + 1, TIMINGS));
      await apply(store(), complete(running, 'f2', running.epoch, { outcome: 'succeeded', exitCode: 0, message: '', cost: 0.25 }, failed.notBefore + 2, DEFAULT_RETRY_BACKOFF, 0));
      const records = await store().listSpend({ productId: 'acme', from: T0, to: failed.notBefore + 10 });
      expect(records.map((r) => [r.epoch, r.cost])).toEqual([
        [1, 1.5],
        [2, 0.25],
      ]);
    });

    it('records nothing for a result that lost its compare-and-set (a zombie)', async () => {
      const running = await insertRunning(store(), 'z1', 'f1', T0);
      await apply(store(), complete(running, 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: '', cost: 5 }, T0 + 10, DEFAULT_RETRY_BACKOFF, 0));
      const zombie = complete({ ...running, productId: 'acme' }, 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: '', cost: 50 }, T0 + 20, DEFAULT_RETRY_BACKOFF, 0);
      await expect(store().replaceJob(zombie.job, zombie.event)).rejects.toThrow();
      expect((await store().listSpend({ from: T0, to: T0 + 100 })).map((r) => r.cost)).toEqual([5]);
    });
  });
}

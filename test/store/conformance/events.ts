/** Events: appended with the job, listed oldest first, stored once per (jobId, revision). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BACKOFF } from '../../../src/domain/backoff.js';
import { accept, complete, offer } from '../../../src/domain/lifecycle.js';
import type { JobEventRecord } from '../../../src/domain/job.js';
import { T0, TIMINGS, insertRunning, insertSubmitted, submitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

export function describeEvents(makeStore: MakeStore): void {
  describe('events', () => {
    const store = useStore(makeStore);

    it('lists a job’s events oldest first, exactly as written, and no other job’s', async () => {
      const written: JobEventRecord[] = [];
      const first = submitted('j1', T0);
      await store().insertJob(first.job, first.event);
      written.push(first.event);
      await insertRunning(store(), 'other', 'f9', T0);
      let job = first.job;
      for (const change of [
        (j: typeof job) => offer(j, 'f1', T0 + 1, TIMINGS),
        (j: typeof job) => accept(j, 'f1', 1, T0 + 2, TIMINGS),
        (j: typeof job) =>
          complete(j, 'f1', 1, { outcome: 'failed', exitCode: 2, message: 'boom' }, T0 + 3, DEFAULT_RETRY_BACKOFF, 0.5),
      ]) {
        const next = change(job);
        await store().replaceJob(next.job, next.event);
        written.push(next.event!);
        job = next.job;
      }
      expect(await store().listEvents('j1')).toStrictEqual(written);
      expect((await store().listEvents('j1')).map((e) => e.revision)).toEqual([1, 2, 3, 4]);
      expect(await store().listEvents('nobody')).toEqual([]);
    });

    it('stores an event re-appended under the same (jobId, revision) once, keeping the first', async () => {
      const job = await insertSubmitted(store(), 'j1', T0);
      const offered = offer(job, 'f1', T0 + 1, TIMINGS);
      await store().replaceJob(offered.job, offered.event);
      const replayed = { ...offered.event!, message: 'replayed' };
      await store().replaceJob({ ...offered.job, revision: 3 }, replayed);
      const events = await store().listEvents('j1');
      expect(events).toHaveLength(2);
      expect(events[1]).toStrictEqual(offered.event);
    });
  });
}

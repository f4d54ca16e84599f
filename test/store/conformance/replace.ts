/** replaceJob: the compare-and-set on revision, and the epoch fence that stops zombie writes. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BACKOFF } from '../../../src/domain/backoff.js';
import { accept, complete, expire, offer, renew } from '../../../src/domain/lifecycle.js';
import { RevisionConflict } from '../../../src/store/job-store.js';
import { T0, TIMINGS, apply, insertRunning, insertSubmitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

export function describeReplace(makeStore: MakeStore): void {
  describe('replaceJob', () => {
    const store = useStore(makeStore);

    it('writes the next revision and appends its event', async () => {
      const job = await insertSubmitted(store(), 'j1', T0);
      const offered = offer(job, 'f1', T0 + 1, TIMINGS);
      await store().replaceJob(offered.job, offered.event);
      expect(await store().getJob('j1')).toStrictEqual(offered.job);
      expect((await store().listEvents('j1')).map((e) => e.kind)).toEqual(['submitted', 'offered']);
    });

    it('refuses a stale revision with RevisionConflict and changes nothing', async () => {
      const job = await insertSubmitted(store(), 'j1', T0);
      // Two writers read revision 1; the first to write wins.
      const winner = offer(job, 'f1', T0 + 1, TIMINGS);
      const loser = offer(job, 'f2', T0 + 2, TIMINGS);
      await store().replaceJob(winner.job, winner.event);
      const error = await store().replaceJob(loser.job, loser.event).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RevisionConflict);
      expect(error).toMatchObject({ jobId: 'j1', expectedRevision: 1 });
      expect(await store().getJob('j1')).toStrictEqual(winner.job);
      expect((await store().listEvents('j1')).map((e) => e.actor)).toEqual(['test', 'factory:f1']);
      // Replaying the winner's own write is stale too.
      await expect(store().replaceJob(winner.job, winner.event)).rejects.toBeInstanceOf(RevisionConflict);
    });

    it('refuses a revision from the future', async () => {
      const job = await insertSubmitted(store(), 'j1', T0);
      const skipped = { ...job, revision: 3 };
      await expect(store().replaceJob(skipped, null)).rejects.toBeInstanceOf(RevisionConflict);
      expect(await store().getJob('j1')).toStrictEqual(job);
    });

    it('refuses a write that would move the epoch backwards, even at the right revision', async () => {
      const running = await insertRunning(store(), 'j1', 'f1', T0);
      expect(running.epoch).toBe(1);
      const backwards = { ...running, epoch: 0, lease: null, stage: 'queued' as const, revision: running.revision + 1 };
      await expect(store().replaceJob(backwards, null)).rejects.toBeInstanceOf(RevisionConflict);
      expect(await store().getJob('j1')).toStrictEqual(running);
      // The same epoch is fine (a renewal), and so is a newer one.
      const renewed = await apply(store(), renew(running, 'f1', 1, T0 + 5, TIMINGS));
      const lost = await apply(store(), expire(renewed, T0 + 100_000, DEFAULT_RETRY_BACKOFF, 0, 'no heartbeat'));
      const reoffered = await apply(store(), offer(lost, 'f2', lost.notBefore, TIMINGS));
      expect(reoffered.epoch).toBe(2);
      expect(await store().getJob('j1')).toStrictEqual(reoffered);
    });

    it('fences a zombie: a result computed from the old lease loses', async () => {
      const running = await insertRunning(store(), 'j1', 'f1', T0);
      const zombie = complete(running, 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: 'ok' }, T0 + 200_000, DEFAULT_RETRY_BACKOFF, 0);
      const lost = await apply(store(), expire(running, T0 + 100_000, DEFAULT_RETRY_BACKOFF, 0, 'no heartbeat'));
      const reoffered = await apply(store(), offer(lost, 'f2', lost.notBefore, TIMINGS));
      const current = await apply(store(), accept(reoffered, 'f2', 2, lost.notBefore + 1, TIMINGS));
      await expect(store().replaceJob(zombie.job, zombie.event)).rejects.toBeInstanceOf(RevisionConflict);
      expect(await store().getJob('j1')).toStrictEqual(current);
    });

    it('refuses to replace a job that does not exist', async () => {
      const job = await insertSubmitted(store(), 'j1', T0);
      const ghost = { ...job, id: 'ghost', revision: 2 };
      await expect(store().replaceJob(ghost, null)).rejects.toBeInstanceOf(RevisionConflict);
      expect(await store().getJob('ghost')).toBeNull();
    });

    it('appends no event when none is given (renewals)', async () => {
      const running = await insertRunning(store(), 'j1', 'f1', T0);
      const renewal = renew(running, 'f1', 1, T0 + 5, TIMINGS);
      expect(renewal.event).toBeNull();
      await store().replaceJob(renewal.job, renewal.event);
      expect(await store().getJob('j1')).toStrictEqual(renewal.job);
      expect((await store().listEvents('j1')).map((e) => e.kind)).toEqual(['submitted', 'offered', 'started']);
    });
  });
}

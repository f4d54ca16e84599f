/**
 * The tracker echo outbox: every event of a job with a tracker link is owed once, atomically with the
 * event; claims lease entries to one sender; settlements move them on.
 */
import { describe, expect, it } from 'vitest';
import { accept, offer } from '../../../src/domain/lifecycle.js';
import type { JobSpec } from '../../../src/domain/job.js';
import { echoOutboxOf, type EchoDelivery, type EchoOutbox } from '../../../src/store/echo-outbox.js';
import { RevisionConflict } from '../../../src/store/job-store.js';
import { T0, TIMINGS, apply, insertSubmitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

const TRACKED: Partial<JobSpec> = { tracker: { externalId: 'PROJ-1', url: 'https://t.example/PROJ-1', labels: { team: 'infra' } } };
const FAR = T0 + 3_600_000;

export function describeEchoOutbox(makeStore: MakeStore): void {
  describe('echo outbox', () => {
    const store = useStore(makeStore);
    const outbox = (): EchoOutbox => {
      const o = echoOutboxOf(store());
      if (!o) throw new Error('this provider keeps no echo outbox');
      return o;
    };
    const claimAll = (now = FAR, claim = 'c1', until = now + 60_000): Promise<EchoDelivery[]> => outbox().claimDueEchoes(now, 100, until, claim);

    it('owes one echo per event of a tracked job, carrying the stored event, and none for other jobs', async () => {
      const job = await insertSubmitted(store(), 'j1', T0, TRACKED);
      const leased = await apply(store(), offer(job, 'f1', T0 + 1, TIMINGS));
      await apply(store(), accept(leased, 'f1', 1, T0 + 2, TIMINGS));
      await insertSubmitted(store(), 'plain', T0);
      const events = await store().listEvents('j1');
      const claimed = await claimAll();
      expect(claimed.map((d) => d.eventId)).toEqual(['j1:1', 'j1:2', 'j1:3']);
      expect(claimed.map((d) => d.event)).toStrictEqual(events);
      expect(claimed[0]).toMatchObject({ jobId: 'j1', productId: 'prod-a', revision: 1, externalId: 'PROJ-1', externalUrl: 'https://t.example/PROJ-1', attempts: 0, createdAt: T0, claim: 'c1' });
      expect(await outbox().echoBacklog()).toEqual({ pending: 3, dead: 0, oldestPendingAt: T0 });
    });

    it('hands an entry out only when due, and not again while it is claimed', async () => {
      await insertSubmitted(store(), 'j1', T0 + 10, TRACKED);
      expect(await claimAll(T0 + 9)).toEqual([]); // not yet due: due from the event's time
      expect(await claimAll(T0 + 10, 'c1', T0 + 1_000)).toHaveLength(1);
      expect(await claimAll(T0 + 999, 'c2')).toEqual([]); // claimed by c1 until T0 + 1000
      const again = await claimAll(T0 + 1_000, 'c2'); // c1's claim lapsed (it died mid-send)
      expect(again.map((d) => [d.eventId, d.claim])).toEqual([['j1:1', 'c2']]);
    });

    it('never hands out a delivered entry again, even to a sender whose claim lapsed', async () => {
      await insertSubmitted(store(), 'j1', T0, TRACKED);
      const [first] = await claimAll(T0, 'c1', T0 + 10);
      const [second] = await claimAll(T0 + 10, 'c2', T0 + 20);
      expect(await outbox().settleEcho(second!, { state: 'delivered' })).toBe(true);
      expect(await outbox().settleEcho(first!, { state: 'retry', dueAt: T0 + 30, error: 'HTTP 500' })).toBe(false);
      expect(await claimAll(FAR)).toEqual([]);
      expect(await outbox().echoBacklog()).toEqual({ pending: 0, dead: 0, oldestPendingAt: null });
    });

    it('reschedules a failed entry, counting the attempt; refuses a retry from a lapsed claim', async () => {
      await insertSubmitted(store(), 'j1', T0, TRACKED);
      const [first] = await claimAll(T0, 'c1', T0 + 10);
      expect(await outbox().settleEcho(first!, { state: 'retry', dueAt: T0 + 500, error: 'HTTP 503' })).toBe(true);
      expect(await claimAll(T0 + 499)).toEqual([]);
      const [retried] = await claimAll(T0 + 500, 'c2', T0 + 600);
      expect(retried).toMatchObject({ eventId: 'j1:1', attempts: 1, claim: 'c2' });
      expect(await outbox().settleEcho(first!, { state: 'dead', error: 'late' })).toBe(false); // c1 no longer holds it
      expect(await outbox().settleEcho(retried!, { state: 'dead', error: 'gave up' })).toBe(true);
      expect(await claimAll(FAR)).toEqual([]);
      expect(await outbox().echoBacklog()).toEqual({ pending: 0, dead: 1, oldestPendingAt: null });
    });

    it('owes nothing for a write that lost its compare-and-set, and once for a replayed event', async () => {
      const job = await insertSubmitted(store(), 'j1', T0, TRACKED);
      const winner = offer(job, 'f1', T0 + 1, TIMINGS);
      const loser = offer(job, 'f2', T0 + 2, TIMINGS);
      await apply(store(), winner);
      await expect(store().replaceJob(loser.job, loser.event)).rejects.toBeInstanceOf(RevisionConflict);
      const claimed = await claimAll();
      expect(claimed.map((d) => d.eventId)).toEqual(['j1:1', 'j1:2']);
      expect(claimed[1]!.event).toStrictEqual(winner.event);
    });

    it('returns claimed entries soonest due first, at most the limit', async () => {
      await insertSubmitted(store(), 'b', T0 + 2, TRACKED);
      await insertSubmitted(store(), 'a', T0 + 1, TRACKED);
      await insertSubmitted(store(), 'c', T0 + 3, TRACKED);
      const claimed = await outbox().claimDueEchoes(FAR, 2, FAR + 1, 'c1');
      expect(claimed.map((d) => d.eventId)).toEqual(['a:1', 'b:1']);
    });
  });
}

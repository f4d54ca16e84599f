/** insertJob / getJob: every field survives, idempotent submit, copies in and out, close. */
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../src/domain/job.js';
import { DuplicateJobId, StoreClosed } from '../../../src/store/store-errors.js';
import { T0, insertSubmitted, submitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

/** A running job with a non-default value in every field, and nulls where a running job has them. */
function everyField(): JobRecord {
  return {
    id: 'job-full',
    productId: 'prod-a',
    title: 'Build ✓ ünïcode "quoted" \\ back\nslash',
    command: ['bash', '-c', 'echo "$GREETING" && exit 3'],
    env: { GREETING: 'hi there', EMPTY: '', 'WITH=EQUALS': 'a=b', 'ключ': 'значение' },
    requiredLabels: [
      { key: 'os', operator: 'in', values: ['linux', 'darwin'] },
      { key: 'gpu', operator: 'exists', values: [] },
      { key: 'mem_gb', operator: 'gte', values: ['16'] },
    ],
    priority: -3,
    idempotencyKey: 'key-1',
    maxAttempts: 5,
    timeoutMs: 123_456,
    stage: 'running',
    epoch: 2,
    attemptCount: 1,
    attempts: [
      { epoch: 1, factoryId: 'f1', offeredAt: T0 + 10, startedAt: null, endedAt: T0 + 20, outcome: 'released', exitCode: null, message: 'declined' },
      { epoch: 2, factoryId: 'f2', offeredAt: T0 + 30, startedAt: T0 + 40, endedAt: null, outcome: null, exitCode: null, message: '' },
    ],
    lease: { factoryId: 'f2', epoch: 2, expiresAt: T0 + 60_040 },
    createdAt: T0,
    updatedAt: T0 + 50,
    startedAt: T0 + 40,
    endedAt: null,
    notBefore: T0 + 25,
    exitCode: null,
    result: '',
    cancelRequestedAt: T0 + 50,
    revision: 6,
    reason: 'cancelled by request',
    preemptionStreak: 2,
    lastPreemptedAt: 1_700_000_000_900,
  };
}

/** A finished job: the nullable fields set, the lease gone. */
function finished(): JobRecord {
  return {
    ...everyField(),
    id: 'job-done',
    idempotencyKey: '',
    stage: 'failed',
    lease: null,
    attempts: [{ epoch: 1, factoryId: 'f1', offeredAt: T0, startedAt: T0 + 1, endedAt: T0 + 9, outcome: 'failed', exitCode: 1, message: 'exit 1' }],
    endedAt: T0 + 9,
    exitCode: 1,
    result: 'exit 1',
    cancelRequestedAt: null,
  };
}

export function describeRecords(makeStore: MakeStore): void {
  describe('insertJob and getJob', () => {
    const store = useStore(makeStore);

    it('round-trips every field of a job and its event', async () => {
      for (const job of [everyField(), finished()]) {
        const event = { ...submitted(job.id, job.createdAt).event, productId: job.productId };
        const result = await store().insertJob(job, event);
        expect(result).toStrictEqual({ job, created: true });
        expect(await store().getJob(job.id)).toStrictEqual(job);
        expect(await store().listEvents(job.id)).toStrictEqual([event]);
      }
    });

    it('returns null for an unknown job', async () => {
      expect(await store().getJob('nope')).toBeNull();
    });

    it('keeps its own copy: mutating what went in or came out changes nothing stored', async () => {
      const { job, event } = submitted('j1', T0, { env: { A: '1' }, command: ['a'] });
      const inserted = await store().insertJob(job, event);
      job.env.A = 'changed';
      job.command.push('more');
      event.message = 'changed';
      inserted.job.title = 'changed';
      const read = (await store().getJob('j1'))!;
      read.requiredLabels.push({ key: 'x', operator: 'exists', values: [] });
      read.stage = 'dead';
      expect(await store().getJob('j1')).toStrictEqual(submitted('j1', T0, { env: { A: '1' }, command: ['a'] }).job);
      expect((await store().listEvents('j1'))[0]?.message).toBe('');
    });

    it('refuses a second job with an id already stored', async () => {
      await insertSubmitted(store(), 'j1', T0);
      const again = submitted('j1', T0 + 1, { title: 'other' });
      await expect(store().insertJob(again.job, again.event)).rejects.toBeInstanceOf(DuplicateJobId);
      expect((await store().getJob('j1'))?.title).toBe('build');
    });

    it('rejects calls after close, and closing twice is harmless', async () => {
      await store().close();
      await store().close();
      await expect(store().getJob('j1')).rejects.toBeInstanceOf(StoreClosed);
      const { job, event } = submitted('j1', T0);
      await expect(store().insertJob(job, event)).rejects.toBeInstanceOf(StoreClosed);
    });
  });

  describe('idempotent submit', () => {
    const store = useStore(makeStore);

    it('returns the first job, stores nothing, for a key already used in the product', async () => {
      const first = submitted('j1', T0, { idempotencyKey: 'k' });
      const second = submitted('j2', T0 + 5, { idempotencyKey: 'k', title: 'second' });
      expect(await store().insertJob(first.job, first.event)).toStrictEqual({ job: first.job, created: true });
      expect(await store().insertJob(second.job, second.event)).toStrictEqual({ job: first.job, created: false });
      expect(await store().getJob('j2')).toBeNull();
      expect(await store().listEvents('j2')).toEqual([]);
      expect(await store().listEvents('j1')).toHaveLength(1);
      expect((await store().listJobs({ limit: 10 })).jobs.map((j) => j.id)).toEqual(['j1']);
    });

    it('returns the job as it is now, not as it was submitted', async () => {
      const first = submitted('j1', T0, { idempotencyKey: 'k' });
      await store().insertJob(first.job, first.event);
      const moved = { ...first.job, stage: 'cancelled' as const, revision: 2 };
      await store().replaceJob(moved, null);
      const second = submitted('j2', T0 + 5, { idempotencyKey: 'k' });
      expect(await store().insertJob(second.job, second.event)).toStrictEqual({ job: moved, created: false });
    });

    it('treats the same key in another product as a different job', async () => {
      const a = submitted('j1', T0, { idempotencyKey: 'k', productId: 'prod-a' });
      const b = submitted('j2', T0, { idempotencyKey: 'k', productId: 'prod-b' });
      expect((await store().insertJob(a.job, a.event)).created).toBe(true);
      expect((await store().insertJob(b.job, b.event)).created).toBe(true);
      expect((await store().getJob('j2'))?.productId).toBe('prod-b');
    });

    it('finds the job holding a key, as it is now, only in the key\'s product', async () => {
      const first = submitted('j1', T0, { idempotencyKey: 'k', productId: 'prod-a' });
      expect(await store().findJobByIdempotencyKey('prod-a', 'k')).toBeNull();
      await store().insertJob(first.job, first.event);
      expect(await store().findJobByIdempotencyKey('prod-a', 'k')).toStrictEqual(first.job);
      const moved = { ...first.job, stage: 'cancelled' as const, revision: 2 };
      await store().replaceJob(moved, null);
      expect(await store().findJobByIdempotencyKey('prod-a', 'k')).toStrictEqual(moved);
      expect(await store().findJobByIdempotencyKey('prod-b', 'k')).toBeNull();
      expect(await store().findJobByIdempotencyKey('prod-a', 'other')).toBeNull();
      const found = (await store().findJobByIdempotencyKey('prod-a', 'k'))!;
      found.title = 'changed'; // a copy: changing it changes nothing stored
      expect(await store().findJobByIdempotencyKey('prod-a', 'k')).toStrictEqual(moved);
    });

    it('finds nothing for the empty key, which never deduplicates', async () => {
      const a = submitted('j1', T0);
      await store().insertJob(a.job, a.event);
      expect(await store().findJobByIdempotencyKey(a.job.productId, '')).toBeNull();
    });

    it('never deduplicates an empty key', async () => {
      const a = submitted('j1', T0);
      const b = submitted('j2', T0);
      expect((await store().insertJob(a.job, a.event)).created).toBe(true);
      expect((await store().insertJob(b.job, b.event)).created).toBe(true);
      expect(await store().getJob('j2')).not.toBeNull();
    });
  });
}

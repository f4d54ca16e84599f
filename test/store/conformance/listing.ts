/** listJobs filters and order, and the coordinator's queries: runnable, expired leases, leased-to. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BACKOFF } from '../../../src/domain/backoff.js';
import { accept, complete, offer } from '../../../src/domain/lifecycle.js';
import type { JobRecord } from '../../../src/domain/job.js';
import type { JobStore } from '../../../src/store/job-store.js';
import { T0, TIMINGS, apply, ids, insertLeased, insertRunning, insertSubmitted, submitted } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

/** Inserts a job directly in a given state, for listings that care about fields, not history. */
async function put(store: JobStore, id: string, fields: Partial<JobRecord>): Promise<JobRecord> {
  const { job, event } = submitted(id, fields.createdAt ?? T0);
  const record = { ...job, ...fields };
  await store.insertJob(record, { ...event, productId: record.productId });
  return record;
}

export function describeListing(makeStore: MakeStore): void {
  describe('listJobs', () => {
    const store = useStore(makeStore);

    it('lists newest first, ties broken by id descending', async () => {
      await put(store(), 'b', { createdAt: T0 + 300 });
      await put(store(), 'a', { createdAt: T0 + 100 });
      await put(store(), 'c', { createdAt: T0 + 200 });
      await put(store(), 'd', { createdAt: T0 + 300 });
      const page = await store().listJobs({ limit: 10 });
      expect(ids(page.jobs)).toEqual(['d', 'b', 'c', 'a']);
      expect(page.next).toBeNull();
    });

    it('filters by product, by stages, and by both', async () => {
      await put(store(), 'a1', { productId: 'a', stage: 'queued' });
      await put(store(), 'a2', { productId: 'a', stage: 'running' });
      await put(store(), 'a3', { productId: 'a', stage: 'dead' });
      await put(store(), 'b1', { productId: 'b', stage: 'running' });
      const list = async (q: Omit<Parameters<JobStore['listJobs']>[0], 'limit'>) =>
        ids((await store().listJobs({ ...q, limit: 10 })).jobs).sort();
      expect(await list({ productId: 'a' })).toEqual(['a1', 'a2', 'a3']);
      expect(await list({ productId: 'nope' })).toEqual([]);
      expect(await list({ stages: ['running'] })).toEqual(['a2', 'b1']);
      expect(await list({ stages: ['queued', 'dead'] })).toEqual(['a1', 'a3']);
      expect(await list({ stages: [] })).toEqual(['a1', 'a2', 'a3', 'b1']);
      expect(await list({ productId: 'a', stages: ['running'] })).toEqual(['a2']);
    });

    it('filters by label key, and by key and value within the same requirement', async () => {
      await put(store(), 'linux', { requiredLabels: [{ key: 'os', operator: 'equals', values: ['linux'] }] });
      await put(store(), 'mac-or-linux', { requiredLabels: [{ key: 'os', operator: 'in', values: ['darwin', 'linux'] }] });
      await put(store(), 'not-windows', { requiredLabels: [{ key: 'os', operator: 'not_in', values: ['windows'] }] });
      await put(store(), 'gpu', {
        requiredLabels: [
          { key: 'gpu', operator: 'exists', values: [] },
          { key: 'arch', operator: 'equals', values: ['linux'] },
        ],
      });
      await put(store(), 'none', {});
      const list = async (labelKey: string, labelValue?: string) =>
        ids((await store().listJobs({ labelKey, ...(labelValue === undefined ? {} : { labelValue }), limit: 10 })).jobs).sort();
      expect(await list('os')).toEqual(['linux', 'mac-or-linux', 'not-windows']);
      expect(await list('gpu')).toEqual(['gpu']);
      expect(await list('os', 'linux')).toEqual(['linux', 'mac-or-linux']);
      expect(await list('os', 'windows')).toEqual(['not-windows']);
      expect(await list('gpu', 'linux')).toEqual([]);
      expect(await list('os', 'lin')).toEqual([]);
      expect(await list('OS')).toEqual([]);
    });

    it('pages with the cursor and reports next only when more may follow', async () => {
      for (let i = 0; i < 5; i++) await put(store(), `j${i}`, { createdAt: T0 + i });
      const first = await store().listJobs({ limit: 2 });
      expect(ids(first.jobs)).toEqual(['j4', 'j3']);
      expect(first.next).toEqual({ createdAt: T0 + 3, id: 'j3' });
      const second = await store().listJobs({ limit: 2, after: first.next! });
      expect(ids(second.jobs)).toEqual(['j2', 'j1']);
      const last = await store().listJobs({ limit: 2, after: second.next! });
      expect(ids(last.jobs)).toEqual(['j0']);
      expect(last.next).toBeNull();
      expect((await store().listJobs({ limit: 5 })).next).toBeNull();
      expect(await store().listJobs({ limit: 0 })).toEqual({ jobs: [], next: null });
    });

    it('searches id, title, command, label requirements and product, folding ASCII case only', async () => {
      await put(store(), 'job-alpha', { title: 'Nightly Build', command: ['make', 'release'] });
      await put(store(), 'job-beta', { productId: 'payments-api', command: ['node', 'migrate.js'] });
      await put(store(), 'job-gamma', { requiredLabels: [{ key: 'gpu', operator: 'in', values: ['A100', 'h100'] }] });
      await put(store(), 'job-delta', { requiredLabels: [{ key: 'Docker', operator: 'exists', values: [] }], title: 'Ünïcode Straße' });
      const search = async (text: string) => ids((await store().listJobs({ text, limit: 10 })).jobs).sort();
      expect(await search('nightly build')).toEqual(['job-alpha']);
      expect(await search('alpha')).toEqual(['job-alpha']);
      expect(await search('release')).toEqual(['job-alpha']);
      expect(await search('migrate.js')).toEqual(['job-beta']);
      expect(await search('payments')).toEqual(['job-beta']);
      expect(await search('gpu=a100')).toEqual(['job-gamma']);
      expect(await search('u=h1')).toEqual(['job-gamma']);
      expect(await search('docker')).toEqual(['job-delta']);
      expect(await search('straße')).toEqual(['job-delta']);
      expect(await search('job-')).toEqual(['job-alpha', 'job-beta', 'job-delta', 'job-gamma']);
      // Text that only the separator of two fields would form, or "%" and "_", match nothing.
      expect(await search('make release')).toEqual([]);
      expect(await search('%')).toEqual([]);
      expect(await search('_')).toEqual([]);
      // Search combines with the other filters.
      expect(ids((await store().listJobs({ text: 'job-', productId: 'payments-api', limit: 10 })).jobs)).toEqual(['job-beta']);
    });

    it('sorts by priority, product or stage either way, ties by create time then id, and pages in that order', async () => {
      await put(store(), 'a', { priority: 1, productId: 'web', stage: 'queued', createdAt: T0 + 1 });
      await put(store(), 'b', { priority: 5, productId: 'api', stage: 'failed', createdAt: T0 + 2 });
      await put(store(), 'c', { priority: 1, productId: 'web', stage: 'running', createdAt: T0 + 3 });
      await put(store(), 'd', { priority: -2, productId: 'api', stage: 'queued', createdAt: T0 + 3 });
      await put(store(), 'e', { priority: 5, productId: 'ml', stage: 'succeeded', createdAt: T0 + 2 });
      const all = async (by: 'created' | 'priority' | 'product' | 'stage', descending: boolean) => {
        const seen: string[] = [];
        let after: Parameters<JobStore['listJobs']>[0]['after'];
        for (;;) {
          const page = await store().listJobs({ order: { by, descending }, limit: 2, ...(after ? { after } : {}) });
          seen.push(...ids(page.jobs));
          if (!page.next) return seen;
          after = page.next;
        }
      };
      expect(await all('priority', true)).toEqual(['e', 'b', 'c', 'a', 'd']);
      expect(await all('priority', false)).toEqual(['d', 'a', 'c', 'b', 'e']);
      expect(await all('product', false)).toEqual(['b', 'd', 'e', 'a', 'c']);
      expect(await all('stage', true)).toEqual(['e', 'c', 'd', 'a', 'b']);
      expect(await all('created', false)).toEqual(['a', 'b', 'e', 'c', 'd']);
      expect(await all('created', true)).toEqual(['d', 'c', 'e', 'b', 'a']);
    });
  });

  describe('listRunnable', () => {
    const store = useStore(makeStore);
    const now = T0 + 1_000;

    it('returns queued jobs due by now, best first: priority desc, createdAt asc, id asc', async () => {
      await put(store(), 'low', { priority: 0, createdAt: T0 });
      await put(store(), 'high-late', { priority: 5, createdAt: T0 + 300 });
      await put(store(), 'high-early-b', { priority: 5, createdAt: T0 + 200 });
      await put(store(), 'high-early-a', { priority: 5, createdAt: T0 + 200 });
      await put(store(), 'negative', { priority: -1, createdAt: T0 - 50 });
      await put(store(), 'due-now', { priority: 1, createdAt: T0, notBefore: now });
      await put(store(), 'backing-off', { priority: 9, createdAt: T0, notBefore: now + 1 });
      await insertLeased(store(), 'leased', 'f1', T0);
      await put(store(), 'done', { priority: 9, stage: 'succeeded' });
      await put(store(), 'blocked', { priority: 9, stage: 'blocked' });
      expect(ids(await store().listRunnable(now, 100))).toEqual([
        'high-early-a',
        'high-early-b',
        'high-late',
        'due-now',
        'low',
        'negative',
      ]);
      expect(ids(await store().listRunnable(now, 2))).toEqual(['high-early-a', 'high-early-b']);
      expect(ids(await store().listRunnable(now + 1, 1))).toEqual(['backing-off']);
      expect(await store().listRunnable(now, 0)).toEqual([]);
    });
  });

  describe('listExpiredLeases and listLeasedTo', () => {
    const store = useStore(makeStore);

    it('returns leased or running jobs whose lease expired at or before now, soonest expiry first', async () => {
      const offerExpires = (await insertLeased(store(), 'offer-lapsed', 'f1', T0)).lease!.expiresAt; // T0 + 10s
      const now = offerExpires + 5_000;
      await insertRunning(store(), 'run-lapsed', 'f2', now - TIMINGS.leaseTtlMs - 1); // expires now - 1
      await insertRunning(store(), 'run-exactly', 'f2', now - TIMINGS.leaseTtlMs); // expires now
      await insertRunning(store(), 'run-b-exactly', 'f3', now - TIMINGS.leaseTtlMs); // ties on expiry
      await insertRunning(store(), 'run-alive', 'f2', now - TIMINGS.leaseTtlMs + 1);
      await insertLeased(store(), 'offer-alive', 'f1', now);
      await insertSubmitted(store(), 'queued', T0);
      await put(store(), 'final-with-stale-lease', { stage: 'failed', lease: { factoryId: 'f1', epoch: 1, expiresAt: T0 } });
      expect(ids(await store().listExpiredLeases(now, 100))).toEqual(['offer-lapsed', 'run-lapsed', 'run-b-exactly', 'run-exactly']);
      expect(ids(await store().listExpiredLeases(now, 2))).toEqual(['offer-lapsed', 'run-lapsed']);
      expect(await store().listExpiredLeases(T0, 100)).toEqual([]);
    });

    it('lists the jobs a factory holds a lease on, leased or running, and no others', async () => {
      await insertLeased(store(), 'f1-leased', 'f1', T0);
      await insertRunning(store(), 'f1-running', 'f1', T0);
      await insertRunning(store(), 'f1-done', 'f1', T0).then((job) =>
        apply(store(), complete(job, 'f1', 1, { outcome: 'succeeded', exitCode: 0, message: '' }, T0 + 5, DEFAULT_RETRY_BACKOFF, 0)),
      );
      await insertRunning(store(), 'f2-running', 'f2', T0);
      await insertSubmitted(store(), 'queued', T0);
      expect(ids(await store().listLeasedTo('f1')).sort()).toEqual(['f1-leased', 'f1-running']);
      expect(await store().listLeasedTo('f2')).toStrictEqual([(await store().getJob('f2-running'))!]);
      expect(await store().listLeasedTo('nobody')).toEqual([]);
    });
  });

  describe('countActiveByConcurrencyKey', () => {
    const store = useStore(makeStore);

    it('counts leased and running jobs per asked key, across products, and nothing else', async () => {
      const key = (k: string) => ({ concurrencyKey: k, concurrencyLimit: 2 });
      const leased = await insertSubmitted(store(), 'deploy-leased', T0, key('deploy'));
      await apply(store(), offer(leased, 'f1', T0, TIMINGS));
      const other = await insertSubmitted(store(), 'deploy-running', T0, { ...key('deploy'), productId: 'prod-b' });
      const offered = await apply(store(), offer(other, 'f2', T0, TIMINGS));
      await apply(store(), accept(offered, 'f2', offered.epoch, T0, TIMINGS));
      await insertSubmitted(store(), 'deploy-queued', T0, key('deploy'));
      const test = await insertSubmitted(store(), 'test-running', T0, key('test'));
      await apply(store(), offer(test, 'f1', T0, TIMINGS));
      await insertRunning(store(), 'no-key', 'f3', T0);
      expect(await store().countActiveByConcurrencyKey(['deploy', 'test', 'idle'])).toEqual(new Map([['deploy', 2], ['test', 1]]));
      expect(await store().countActiveByConcurrencyKey(['deploy'])).toEqual(new Map([['deploy', 2]]));
      expect(await store().countActiveByConcurrencyKey([])).toEqual(new Map());
    });
  });
}

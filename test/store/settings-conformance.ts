/** The behaviour every SettingsStore provider must share (memory, SQLite, Cosmos). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RevisionConflict } from '../../src/store/job-store.js';
import type { ProductSettings, SettingsStore } from '../../src/store/settings-store.js';

export interface SettingsStoreHarness {
  store: SettingsStore;
  cleanup(): Promise<void>;
}

function settings(productId: string, revision: number, overrides: Partial<ProductSettings> = {}): ProductSettings {
  return { productId, weights: { priority: 2.5, aging: 0 }, shareWeight: 3, revision, updatedAt: 1_700_000_000_000 + revision, updatedBy: 'alice', ...overrides };
}

export function describeSettingsStoreConformance(name: string, make: () => Promise<SettingsStoreHarness>): void {
  describe(`SettingsStore conformance: ${name}`, () => {
    let harness: SettingsStoreHarness | undefined;
    beforeEach(async () => {
      harness = await make();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const store = (): SettingsStore => harness!.store;

    it('has nothing for a product never configured', async () => {
      expect(await store().getProductSettings('render')).toBeNull();
      expect(await store().listProductSettings()).toEqual([]);
    });

    it('stores settings as given and lists them by product', async () => {
      await store().putProductSettings(settings('render', 1));
      await store().putProductSettings(settings('build', 1, { weights: {}, shareWeight: 0.5 }));
      expect(await store().getProductSettings('render')).toStrictEqual(settings('render', 1));
      expect((await store().listProductSettings()).map((s) => s.productId)).toEqual(['build', 'render']);
    });

    it('compare-and-sets on the revision', async () => {
      await store().putProductSettings(settings('render', 1));
      await expect(store().putProductSettings(settings('render', 1))).rejects.toBeInstanceOf(RevisionConflict);
      await expect(store().putProductSettings(settings('render', 3))).rejects.toBeInstanceOf(RevisionConflict);
      await expect(store().putProductSettings(settings('other', 2))).rejects.toBeInstanceOf(RevisionConflict);
      await store().putProductSettings(settings('render', 2, { shareWeight: 7 }));
      expect(await store().getProductSettings('render')).toStrictEqual(settings('render', 2, { shareWeight: 7 }));
    });

    it('keeps a dispatch rate limit with the settings', async () => {
      const dispatchRate = { jobs: 5, perMs: 60_000, burst: 10 };
      await store().putProductSettings(settings('render', 1, { dispatchRate }));
      expect(await store().getProductSettings('render')).toStrictEqual(settings('render', 1, { dispatchRate }));
    });

    it('keeps a budget with the settings, and settings without one stay without', async () => {
      const budget = { costLimit: 100, period: 'week' as const, jobWallClockLimitMs: 30_000, paused: true, pauseReason: 'review', pausedBy: 'alice', pausedAt: 1_700_000_000_500 };
      await store().putProductSettings(settings('render', 1, { budget }));
      await store().putProductSettings(settings('plain', 1));
      expect(await store().getProductSettings('render')).toStrictEqual(settings('render', 1, { budget }));
      expect(await store().getProductSettings('plain')).not.toHaveProperty('budget');
      await store().putProductSettings(settings('render', 2, { budget: { ...budget, paused: false, pauseReason: '', pausedBy: '', pausedAt: null } }));
      expect((await store().getProductSettings('render'))?.budget).toMatchObject({ paused: false, pausedAt: null, costLimit: 100 });
    });

    it('lets exactly one of two racing writers of the same revision win', async () => {
      await store().putProductSettings(settings('render', 1));
      const results = await Promise.allSettled([
        store().putProductSettings(settings('render', 2, { updatedBy: 'a' })),
        store().putProductSettings(settings('render', 2, { updatedBy: 'b' })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
      const first = await Promise.allSettled([store().putProductSettings(settings('fresh', 1)), store().putProductSettings(settings('fresh', 1))]);
      expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('keeps dispatch-rate buckets apart from settings, compare-and-set on their revision', async () => {
      const bucket = { productId: 'render', tokens: 2.5, at: 1_700_000_000_000, revision: 1 };
      expect(await store().getDispatchBucket('render')).toBeNull();
      await store().putDispatchBucket(bucket);
      expect(await store().getDispatchBucket('render')).toStrictEqual(bucket);
      expect(await store().getProductSettings('render')).toBeNull();
      await expect(store().putDispatchBucket(bucket)).rejects.toBeInstanceOf(RevisionConflict);
      await expect(store().putDispatchBucket({ ...bucket, revision: 3 })).rejects.toBeInstanceOf(RevisionConflict);
      const racing = await Promise.allSettled([store().putDispatchBucket({ ...bucket, tokens: 1, revision: 2 }), store().putDispatchBucket({ ...bucket, tokens: 0, revision: 2 })]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store().getDispatchBucket('render'))?.revision).toBe(2);
    });
  });
}

/** A fresh, empty store per test, so tests never see each other's jobs. */
import { afterEach, beforeEach } from 'vitest';
import type { JobStore } from '../../../src/store/job-store.js';

export interface StoreHarness {
  store: JobStore;
  cleanup(): Promise<void>;
}

export type MakeStore = () => Promise<StoreHarness>;

/** Registers beforeEach/afterEach in the calling describe; call the result inside a test. */
export function useStore(makeStore: MakeStore): () => JobStore {
  let harness: StoreHarness | undefined;
  beforeEach(async () => {
    harness = await makeStore();
  });
  afterEach(async () => {
    await harness?.cleanup();
    harness = undefined;
  });
  return () => {
    if (!harness) throw new Error('the store is only available inside a test');
    return harness.store;
  };
}

import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../src/store/memory/memory-store.js';
import { openStore } from '../../src/store/open-store.js';
import { describeJobStoreConformance } from './conformance.js';

describeJobStoreConformance('memory', async () => {
  const store = new MemoryJobStore();
  return { store, cleanup: () => store.close() };
});

describe('openStore', () => {
  it('opens the memory provider from configuration', async () => {
    const store = openStore({ kind: 'memory' });
    expect(store).toBeInstanceOf(MemoryJobStore);
    await store.close();
  });
});

import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../src/store/memory/memory-store.js';
import { openStore } from '../../src/store/open-store.js';
import { MemorySecurityStore } from '../../src/store/memory/memory-security-store.js';
import { MemorySettingsStore } from '../../src/store/memory/memory-settings-store.js';
import { MemoryArtifactStore } from '../../src/store/memory/memory-artifact-store.js';
import { describeArtifactStoreConformance } from './artifact-conformance.js';
import { describeJobStoreConformance } from './conformance.js';
import { describeSecurityStoreConformance } from './security-conformance.js';
import { describeSettingsStoreConformance } from './settings-conformance.js';

describeJobStoreConformance('memory', async () => {
  const store = new MemoryJobStore();
  return { store, cleanup: () => store.close() };
});

describeSecurityStoreConformance('memory', async () => {
  const store = new MemorySecurityStore();
  return { store, cleanup: () => store.close() };
});

describeSettingsStoreConformance('memory', async () => ({ store: new MemorySettingsStore(), cleanup: async () => undefined }));
describeArtifactStoreConformance('memory', async () => ({ store: new MemoryArtifactStore(), cleanup: async () => undefined }));

describe('openStore', () => {
  it('opens the memory provider from configuration', async () => {
    const store = openStore({ kind: 'memory' });
    expect(store).toBeInstanceOf(MemoryJobStore);
    await store.close();
  });
});

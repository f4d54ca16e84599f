/**
 * Chooses a JobStore provider from configuration, so the server and CLI never import a provider
 * directly and a new one (Cosmos) is added here only.
 */
import type { JobStore } from './job-store.js';
import { MemoryJobStore } from './memory/memory-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export type StoreConfig = { kind: 'sqlite'; path: string } | { kind: 'memory' };

export function openStore(config: StoreConfig): JobStore {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore(config.path);
    case 'memory':
      return new MemoryJobStore();
  }
}

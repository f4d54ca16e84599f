/**
 * Chooses a JobStore provider from configuration, so the server and CLI never import a provider
 * directly and a new one is added here only. SQLite and memory open synchronously; Cosmos connects
 * (and creates its container) first, so it is opened with openStoreAsync.
 */
import { openCosmosStore } from './cosmos/index.js';
import type { JobStore } from './job-store.js';
import { MemoryJobStore } from './memory/memory-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export type StoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'memory' }
  | { kind: 'cosmos'; endpoint: string; key: string; database: string };

export function openStore(config: Exclude<StoreConfig, { kind: 'cosmos' }>): JobStore {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore(config.path);
    case 'memory':
      return new MemoryJobStore();
  }
}

/** Opens any provider, including those that must connect first (Cosmos). */
export async function openStoreAsync(config: StoreConfig): Promise<JobStore> {
  switch (config.kind) {
    case 'cosmos':
      return openCosmosStore({ endpoint: config.endpoint, key: config.key, database: config.database });
    default:
      return openStore(config);
  }
}

/** True for a store several coordinator replicas share (they must poll for each other's work). */
export function isSharedStore(store: JobStore): boolean {
  return (store as { shared?: unknown }).shared === true;
}

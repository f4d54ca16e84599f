/**
 * Chooses the BlobStore provider for the store mode, so the server never imports a provider
 * directly: files under the data dir beside SQLite, Azure Blob Storage beside Cosmos DB (shared by
 * the replicas as the jobs are). src/config.ts's blobStoreConfig maps the settings to this.
 */
import { AzureBlobStore, type AzureBlobConnection } from './azure-blob-store.js';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';

export type BlobStoreConfig = { kind: 'fs'; root: string } | { kind: 'azure'; connection: AzureBlobConnection; container: string };

/** Opens the provider, creating its directories or container when missing. */
export function openBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  switch (config.kind) {
    case 'fs':
      return FsBlobStore.open(config.root);
    case 'azure':
      return AzureBlobStore.open(config.connection, config.container);
  }
}

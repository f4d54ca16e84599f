/** The Cosmos provider's public surface; everything else in this folder is its implementation. */
export { CosmosJobStore, openCosmosStore, type CosmosStats, type CosmosStoreOptions } from './cosmos-store.js';
export { CONTAINER_ID } from './schema.js';

/** The Cosmos provider's public surface; everything else in this folder is its implementation. */
export { CosmosJobStore, openCosmosStore, type CosmosStats, type CosmosStoreOptions } from './cosmos-store.js';
export { CONTAINER_ID } from './schema.js';
export { CONTROL_CONTAINER_ID, type ControlOptions, type ControlStats } from './control.js';
export { CosmosSecurityStore } from './cosmos-security-store.js';
export { CosmosSettingsStore } from './cosmos-settings-store.js';
export { openCosmosControlStores, type CosmosControlStores } from './open-control.js';
export { CosmosPartitionTable } from './cosmos-partition-table.js';
export { CosmosArtifactStore, openCosmosArtifactStore } from './cosmos-artifact-store.js';

/** Opens the credential and settings stores over the control container, sharing one client. */
import { openControlDocs, type ControlOptions, type ControlStats } from './control.js';
import { CosmosSecurityStore } from './cosmos-security-store.js';
import { CosmosSettingsStore } from './cosmos-settings-store.js';

export interface CosmosControlStores {
  security: CosmosSecurityStore;
  settings: CosmosSettingsStore;
  /** Round trips, request units and throttling of both stores since opened. */
  stats(): ControlStats;
}

export async function openCosmosControlStores(options: ControlOptions): Promise<CosmosControlStores> {
  const docs = await openControlDocs(options, 2);
  return { security: new CosmosSecurityStore(docs), settings: new CosmosSettingsStore(docs), stats: () => docs.stats() };
}

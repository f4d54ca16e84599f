/** Opens the credential, settings and schedule stores over the control container, sharing one client. */
import { openControlDocs, type ControlOptions } from './control.js';
import { CosmosSecurityStore } from './cosmos-security-store.js';
import { CosmosScheduleStore } from './cosmos-schedule-store.js';
import { CosmosSettingsStore } from './cosmos-settings-store.js';

export interface CosmosControlStores {
  security: CosmosSecurityStore;
  settings: CosmosSettingsStore;
  schedules: CosmosScheduleStore;
  /** Round trips and request units of the three stores since opened. */
  stats(): { requests: number; requestCharge: number };
}

export async function openCosmosControlStores(options: ControlOptions): Promise<CosmosControlStores> {
  const docs = await openControlDocs(options, 3);
  return { security: new CosmosSecurityStore(docs), settings: new CosmosSettingsStore(docs), schedules: new CosmosScheduleStore(docs), stats: () => docs.stats() };
}

/** Opens the credential, settings, lease-key, schedule and partition-table stores over the control container, sharing one client. */
import { openControlDocs, type ControlOptions, type ControlStats } from './control.js';
import { CosmosSecurityStore } from './cosmos-security-store.js';
import { CosmosLeaseKeyStore } from './cosmos-lease-key-store.js';
import { CosmosScheduleStore } from './cosmos-schedule-store.js';
import { CosmosSettingsStore } from './cosmos-settings-store.js';
import { CosmosPartitionTable } from './cosmos-partition-table.js';

export interface CosmosControlStores {
  security: CosmosSecurityStore;
  settings: CosmosSettingsStore;
  leaseKeys: CosmosLeaseKeyStore;
  schedules: CosmosScheduleStore;
  /** Which replica owns which partition of the work (docs/scaling-out.md, "Dividing the work"). */
  partitions: CosmosPartitionTable;
  /** Round trips, request units and throttling of the four stores since opened. */
  stats(): ControlStats;
}

export async function openCosmosControlStores(options: ControlOptions): Promise<CosmosControlStores> {
  const docs = await openControlDocs(options, 5);
  return {
    security: new CosmosSecurityStore(docs),
    settings: new CosmosSettingsStore(docs),
    leaseKeys: new CosmosLeaseKeyStore(docs),
    schedules: new CosmosScheduleStore(docs),
    partitions: new CosmosPartitionTable(docs),
    stats: () => docs.stats(),
  };
}

/**
 * Artifacts wired for the process: metadata beside the jobs (SQLite in the data dir, Cosmos's jobs
 * container with store cosmos, memory otherwise: a given job store in tests), bytes in the blob
 * store of the store mode (store/blobs/open-blob-store.ts; none with Cosmos and no storage account:
 * artifacts are off), the coordinator's Artifacts over both, and the reaper on a timer.
 */
import { ArtifactReaper } from '../coordinator/artifact-reaper.js';
import { ARTIFACTS_OFF, Artifacts } from '../coordinator/artifacts.js';
import type { Clock } from '../coordinator/clock.js';
import type { Jobs } from '../coordinator/jobs.js';
import type { Scheduling } from '../coordinator/scheduling.js';
import type { Logger } from '../logging.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { openBlobStore } from '../store/blobs/open-blob-store.js';
import { blobStoreConfig, type ServeConfig } from '../config.js';
import { MemoryArtifactStore } from '../store/memory/memory-artifact-store.js';
import { SqliteArtifactStore } from '../store/sqlite/sqlite-artifact-store.js';
import { openCosmosArtifactStore } from '../store/cosmos/index.js';

/** How often the artifact reaper runs (retention is by the hour or day: a minute late is fine). */
const ARTIFACT_REAP_INTERVAL_MS = 60_000;

export interface ArtifactsSetup {
  artifacts: Artifacts;
  /** Null while artifacts are off (no blob storage). */
  reaper: ArtifactReaper | null;
  close(): Promise<void>;
}

export async function setupArtifacts(opts: { config: ServeConfig; sqlitePath: string | undefined; jobs: Pick<Jobs, 'find'>; scheduling: Scheduling; clock: Clock; log: Logger }): Promise<ArtifactsSetup> {
  const { config, sqlitePath, jobs, scheduling, clock, log } = opts;
  const blobConfig = blobStoreConfig(config);
  const blobs = blobConfig ? await openBlobStore(blobConfig) : null;
  if (!blobs) log.warn(ARTIFACTS_OFF);
  const store = await openArtifactStore(config, sqlitePath);
  const retention = (productId: string) => scheduling.productSettings(productId).artifactRetention ?? null;
  const artifacts = new Artifacts({ jobs, store, blobs, retention, clock });
  const reaper = blobs ? new ArtifactReaper({ store, blobs, retention, clock, log }) : null;
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= (reaper?.pass() ?? Promise.resolve())
      .catch((err: unknown) => log.warn({ err }, 'artifact reaper pass failed'))
      .finally(() => (running = null));
  }, ARTIFACT_REAP_INTERVAL_MS);
  timer.unref();
  return {
    artifacts,
    reaper,
    async close() {
      clearInterval(timer);
      await running;
      await store.close();
      await blobs?.close();
    },
  };
}

async function openArtifactStore(config: ServeConfig, sqlitePath: string | undefined): Promise<ArtifactStore> {
  if (sqlitePath) return new SqliteArtifactStore(sqlitePath);
  const { store, cosmosEndpoint: endpoint, cosmosKey: key, cosmosDatabase: database } = config;
  if (store === 'cosmos' && endpoint && key) return openCosmosArtifactStore({ endpoint, key, database });
  return new MemoryArtifactStore();
}

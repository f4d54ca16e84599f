/**
 * The coordinator process: store, coordinator, both listeners, and an orderly shutdown
 * (stop accepting → finish in-flight calls → end streams → flush the store).
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { join } from 'node:path';
import { fleetSettings, type ServeConfig } from '../config.js';
import { systemClock, type Clock } from '../coordinator/clock.js';
import { Coordinator } from '../coordinator/coordinator.js';
import type { FactoryStreams } from '../coordinator/factory-streams.js';
import type { Security } from '../coordinator/security.js';
import type { Logger } from '../logging.js';
import type { JobStore } from '../store/job-store.js';
import { isSharedStore, openStore, openStoreAsync } from '../store/open-store.js';
import { CosmosJobStore, openCosmosControlStores, type CosmosControlStores } from '../store/cosmos/index.js';
import { PartitionOwner } from '../coordinator/partition-owner.js';
import { registerPartitionMetrics } from './partition-metrics.js';
import type { SecurityStore } from '../store/security-store.js';
import { timedStore } from '../store/timed-store.js';
import { MemorySettingsStore } from '../store/memory/memory-settings-store.js';
import { SqliteSettingsStore } from '../store/sqlite/sqlite-settings-store.js';
import { SqliteLeaseKeyStore } from '../store/sqlite/sqlite-lease-key-store.js';
import { MemoryLeaseKeyStore } from '../store/memory/memory-lease-key-store.js';
import { LeaseKeys } from '../coordinator/lease-keys.js';
import { leaseKeysRoute } from './lease-keys-route.js';
import { SqliteScheduleStore } from '../store/sqlite/sqlite-schedule-store.js';
import { MemoryScheduleStore } from '../store/memory/memory-schedule-store.js';
import { Scheduling } from '../coordinator/scheduling.js';
import { SqliteDecisionStore } from '../store/sqlite/sqlite-decision-store.js';
import { CallAdmission } from './call-admission.js';
import { GatewayAdmission } from './gateway-admission.js';
import { nativeServer } from './grpc-native.js';
import { healthRoutes, type HealthState } from './health.js';
import { webRoutes } from './web-static.js';
import { CoordinatorMetrics } from './metrics.js';
import { registerCosmosMetrics } from './cosmos-metrics.js';
import { listenGrpc, listenHttp, type Listener } from './listeners.js';
import { connectRoutes, connectProcedures, services } from './services.js';
import { setupSecurity } from './security-setup.js';
import { startTrackerEcho } from './tracker-echo-setup.js';
import { makePrivateDir } from '../private-files.js';
import { setupArtifacts } from './artifacts-setup.js';
import { artifactRoute } from './artifact-route.js';
import type { Artifacts } from '../coordinator/artifacts.js';
import type { ArtifactReaper } from '../coordinator/artifact-reaper.js';

export interface RunningServer {
  coordinator: Coordinator;
  /** Credentials: keys, enrollment, factory tokens (tests and `serve --local-agent` use it directly). */
  security: Security;
  /** Open streams per authenticated factory (revocation closes them; tests count them). */
  factoryStreams: FactoryStreams;
  grpc: Listener;
  http: Listener;
  /** Artifact uploads and reads, and their reaper (tests run a pass directly). */
  artifacts: Artifacts;
  /** Null while artifacts are off (Cosmos without blob storage). */
  artifactReaper: ArtifactReaper | null;
  /** Orderly shutdown; safe to call more than once. */
  close(): Promise<void>;
}

export interface ServerOptions {
  config: ServeConfig;
  log: Logger;
  /** Defaults to the configured store: SQLite in config.dataDir, or Cosmos (config.store). */
  store?: JobStore;
  /**
   * Defaults to SQLite in the job store's file when that is opened here, the Cosmos control
   * container with store cosmos, memory otherwise.
   */
  securityStore?: SecurityStore;
  clock?: Clock;
}

export async function startServer({ config, log, store: givenStore, securityStore, clock = systemClock }: ServerOptions): Promise<RunningServer> {
  const sqlitePath = !givenStore && config.store !== 'cosmos' ? join(config.dataDir, 'gigafactory.sqlite') : undefined;
  const metrics = new CoordinatorMetrics();
  const opened = givenStore ?? (config.store === 'cosmos' ? await openCosmos(config, log) : openSqliteInDataDir(config.dataDir, log));
  const store = timedStore(opened, metrics.storeObserver);
  const shared = isSharedStore(opened);
  const settings = fleetSettings(config, { sharedStore: shared });
  // Credentials and product settings are shared by replicas through Cosmos's control container.
  const control = config.store === 'cosmos' ? await openCosmosControl(config, log) : null;
  // Product settings (scoring weights, fair share) live beside the jobs in SQLite, in Cosmos with
  // replicas, and in memory with a given store (tests).
  const productSettings = control?.settings ?? (sqlitePath ? new SqliteSettingsStore(sqlitePath) : new MemorySettingsStore());
  const scheduling = new Scheduling(productSettings);
  await scheduling.load();
  // Another replica's change to product settings reaches this one within this refresh.
  const settingsRefresh = shared ? setInterval(() => void scheduling.load().catch((err: unknown) => log.warn({ err }, 'reloading product settings failed')), SETTINGS_REFRESH_MS) : null;
  settingsRefresh?.unref();
  // Lease-token keys: shared like product settings, so every replica signs with the same key.
  const leaseKeyStore = control?.leaseKeys ?? (sqlitePath ? new SqliteLeaseKeyStore(sqlitePath) : new MemoryLeaseKeyStore());
  const leaseKeys = new LeaseKeys(leaseKeyStore, clock);
  await leaseKeys.load();
  // Rotation when due, and another replica's rotation, within this refresh.
  const leaseKeysRefresh = setInterval(() => void leaseKeys.load().catch((err: unknown) => log.warn({ err }, 'reloading lease-token keys failed')), LEASE_KEYS_REFRESH_MS);
  leaseKeysRefresh.unref();
  // Schedules live beside the product settings: in SQLite, in Cosmos's control container, or in memory.
  const scheduleStore = control?.schedules ?? (sqlitePath ? new SqliteScheduleStore(sqlitePath) : new MemoryScheduleStore());
  // Placement decisions for evaluating weights: beside the jobs, in SQLite or in the Cosmos jobs
  // container (shared by the replicas); in memory with a given store (tests).
  const decisionStore = opened instanceof CosmosJobStore ? opened.decisions : sqlitePath ? new SqliteDecisionStore(sqlitePath) : undefined;
  // Replicas over Cosmos divide the queued jobs by partition, each holding its share under a lease
  // (docs/scaling-out.md, "Dividing the work"). Joining does not hold up start-up: until its first
  // step lands the replica owns nothing and only steals jobs that waited (runnable-source.ts).
  const partitions = control && opened instanceof CosmosJobStore ? new PartitionOwner({ table: control.partitions, clock, log }) : null;
  void partitions?.start();
  const divided = partitions && opened instanceof CosmosJobStore ? { owner: partitions, listRunnableIn: opened.listRunnableIn.bind(opened) } : undefined;
  const coordinator = new Coordinator(store, clock, settings, log, metrics.fleetObserver, scheduling, leaseKeys, scheduleStore, decisionStore, divided);
  const credentialStore = securityStore ?? control?.security;
  const sec = setupSecurity({ config, log, clock, sharedStore: shared, followers: coordinator.streams, ...(credentialStore ? { store: credentialStore } : sqlitePath ? { sqlitePath } : {}) });
  const health: HealthState = { listening: false, shuttingDown: false, ...(sqlitePath ? { disk: { dir: config.dataDir, minFreeBytes: config.minFreeDiskBytes } } : {}) };
  const shutdown = new AbortController();
  const artifactsSetup = await setupArtifacts({ config, sqlitePath, jobs: coordinator.jobs, scheduling: coordinator.fleet.scheduling, clock, log });
  const mounted = services(coordinator, log, sec.routes, artifactsSetup.artifacts);
  // Every RPC on both listeners is admitted (request id, credential, role, rate) and run by this one.
  const calls = new CallAdmission(sec.authenticate, log);
  const gateway = new GatewayAdmission(calls, connectProcedures(mounted, { http2: false }));
  const connectHandler = connectNodeAdapter({
    routes: connectRoutes(mounted),
    interceptors: [gateway.interceptor()],
    contextValues: gateway.contextValues,
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    // curl and browser users see every field, including zeros and false ("created": false).
    // A field the message does not have is refused (INVALID_ARGUMENT naming it), not dropped: a typo
    // such as "cmd" would otherwise read as "command is empty". connect-node ignores them by default.
    jsonOptions: { alwaysEmitImplicit: true, ignoreUnknownFields: false },
  });
  const listenOptions = { tls: sec.tls, unauthenticatedDeadlineMs: config.unauthenticatedDeadlineMs, requestReadTimeoutMs: config.requestReadTimeoutMs };
  const grpc = await listenGrpc((admitted) => nativeServer(mounted, calls, { maxMessageBytes: config.maxMessageBytes, maxStreamsPerConnection: config.maxStreamsPerConnection, requestReadTimeoutMs: config.requestReadTimeoutMs, admitted }), config.host, config.grpcPort, listenOptions);
  const http = await listenHttp(gateway.wrap(connectHandler), config.host, config.httpPort, config.corsOrigins, [healthRoutes(store, metrics, health), leaseKeysRoute(leaseKeys), artifactRoute(artifactsSetup.artifacts, sec.authenticate, log), webRoutes()], {
    ...listenOptions,
    tls: sec.tls && { cert: sec.tls.cert, key: sec.tls.key }, // client certificates are for the native listener
  });
  health.listening = true;
  metrics.attach(coordinator, shutdown.signal);
  const jobStats = cosmosStatsOf(opened);
  if (jobStats || control) registerCosmosMetrics(metrics.registry, { ...(jobStats ? { jobs: jobStats } : {}), ...(control ? { control: control.stats } : {}) });
  if (partitions) registerPartitionMetrics(metrics.registry, () => partitions.stats());
  coordinator.fleet.start();
  // Its own loop over the store's outbox: a slow or failing tracker never holds up dispatch.
  const trackerEcho = startTrackerEcho(config, opened, coordinator.feed, clock, log, metrics.registry);
  const secure = { tls: sec.tls !== null, insecureDev: config.insecureDev };
  log.info({ listener: 'grpc', address: grpc.address, protocols: ['grpc'], ...secure, mtls: Boolean(sec.tls?.clientCa) }, 'listening');
  log.info({ listener: 'http', address: http.address, protocols: ['connect', 'grpc-web'], ...secure }, 'listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      log.info('shutting down');
      health.shuttingDown = true;
      // Readiness now fails; give load balancers time to notice before we stop accepting.
      if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      const listenersClosed = Promise.all([grpc.close(config.shutdownGraceMs), http.close(config.shutdownGraceMs)]);
      coordinator.fleet.stop(); // goodbye to every factory; their leases wait for them to resume
      await partitions?.stop(); // released now, so the other replicas take them on their next step
      // Ends WatchJobs / TailLogs streams; unary calls run to completion. Not connect-node's
      // shutdownSignal, which costs every call a walk of every open call's listener (open-streams.ts).
      coordinator.streams.closeAll();
      shutdown.abort();
      await listenersClosed;
      await trackerEcho?.stop();
      await artifactsSetup.close();
      if (settingsRefresh) clearInterval(settingsRefresh);
      clearInterval(leaseKeysRefresh);
      await sec.close();
      // What this replica cost in Cosmos round trips and request units (the benchmark reads it too).
      // The last buffered decisions are written before the store they go to (Cosmos: the job store) closes.
      await coordinator.fleet.decisions.flush();
      if (jobStats) log.info({ cosmos: { jobs: jobStats(), control: control?.stats() ?? null } }, 'store stats');
      await store.close();
      if (productSettings instanceof SqliteSettingsStore) productSettings.close();
      if (leaseKeyStore instanceof SqliteLeaseKeyStore) leaseKeyStore.close();
      await control?.leaseKeys.close();
      if (scheduleStore instanceof SqliteScheduleStore) scheduleStore.close();
      if (decisionStore instanceof SqliteDecisionStore) decisionStore.close();
      await control?.security.close();
      await control?.settings.close();
      await control?.schedules.close();
      await control?.partitions.close();
      log.info('stopped');
    })());
  return { coordinator, security: sec.security, factoryStreams: sec.routes.streams, grpc, http, artifacts: artifactsSetup.artifacts, artifactReaper: artifactsSetup.reaper, close };
}

/** How often a replica over a shared store reloads product settings changed by others. */
const SETTINGS_REFRESH_MS = 2_000;
/** How often a replica re-reads the lease-token key ring (rotating it when due). */
const LEASE_KEYS_REFRESH_MS = 60_000;

/** The store's Cosmos tallies, when it is the Cosmos job store. */
function cosmosStatsOf(store: JobStore): (() => ReturnType<CosmosJobStore['stats']>) | null {
  const stats = (store as Partial<CosmosJobStore>).stats;
  return typeof stats === 'function' ? () => stats.call(store) : null;
}

/** Credentials and product settings in the Cosmos control container; the key is never logged. */
async function openCosmosControl(config: ServeConfig, log: Logger): Promise<CosmosControlStores> {
  const { cosmosEndpoint: endpoint, cosmosKey: key, cosmosDatabase: database } = config;
  if (!endpoint || !key) throw new Error('store cosmos needs cosmosEndpoint and cosmosKey');
  log.info({ store: 'cosmos', endpoint, database, container: 'control' }, 'opening credential and settings store');
  return openCosmosControlStores({ endpoint, key, database });
}

/** The key is never logged: only the endpoint and database are. */
async function openCosmos(config: ServeConfig, log: Logger): Promise<JobStore> {
  const { cosmosEndpoint: endpoint, cosmosKey: key, cosmosDatabase: database } = config;
  if (!endpoint || !key) throw new Error('store cosmos needs cosmosEndpoint and cosmosKey');
  log.info({ store: 'cosmos', endpoint, database }, 'opening store');
  return openStoreAsync({ kind: 'cosmos', endpoint, key, database });
}

function openSqliteInDataDir(dataDir: string, log: Logger): JobStore {
  makePrivateDir(dataDir); // the store's file (credentials' hashes, jobs' env) and the local agent's token
  const path = join(dataDir, 'gigafactory.sqlite');
  log.info({ store: 'sqlite', path }, 'opening store');
  return openStore({ kind: 'sqlite', path });
}

/**
 * The coordinator process: store, coordinator, both listeners, and an orderly shutdown
 * (stop accepting → finish in-flight calls → end streams → flush the store).
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fleetSettings, type ServeConfig } from '../config.js';
import { systemClock, type Clock } from '../coordinator/clock.js';
import { Coordinator } from '../coordinator/coordinator.js';
import type { Logger } from '../logging.js';
import type { JobStore } from '../store/job-store.js';
import { openStore } from '../store/open-store.js';
import { timedStore } from '../store/timed-store.js';
import { errorMappingInterceptor } from './errors.js';
import { healthRoutes, type HealthState } from './health.js';
import { requestLogInterceptor } from './request-log.js';
import { CoordinatorMetrics } from './metrics.js';
import { listenGrpc, listenHttp, type Listener } from './listeners.js';
import { routes } from './routes.js';

export interface RunningServer {
  coordinator: Coordinator;
  grpc: Listener;
  http: Listener;
  /** Orderly shutdown; safe to call more than once. */
  close(): Promise<void>;
}

export interface ServerOptions {
  config: ServeConfig;
  log: Logger;
  /** Defaults to SQLite in config.dataDir. */
  store?: JobStore;
  clock?: Clock;
}

export async function startServer({ config, log, store: givenStore, clock = systemClock }: ServerOptions): Promise<RunningServer> {
  const metrics = new CoordinatorMetrics();
  const store = timedStore(givenStore ?? openSqliteInDataDir(config.dataDir, log), metrics.storeObserver);
  const coordinator = new Coordinator(store, clock, fleetSettings(config), log, metrics.fleetObserver);
  const health: HealthState = { listening: false, shuttingDown: false };
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes: routes(coordinator, log),
    // Outermost first: the request id exists before errors are mapped and logged with it.
    interceptors: [requestLogInterceptor(log), errorMappingInterceptor(log)],
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    shutdownSignal: shutdown.signal,
    // curl and browser users see every field, including zeros and false ("created": false).
    jsonOptions: { alwaysEmitImplicit: true },
  });
  const grpc = await listenGrpc(handler, config.host, config.grpcPort);
  const http = await listenHttp(handler, config.host, config.httpPort, config.corsOrigins, [healthRoutes(store, metrics, health)]);
  health.listening = true;
  metrics.attach(coordinator, shutdown.signal);
  coordinator.fleet.start();
  log.info({ listener: 'grpc', address: grpc.address, protocols: ['grpc'] }, 'listening');
  log.info({ listener: 'http', address: http.address, protocols: ['connect', 'grpc-web'] }, 'listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      log.info('shutting down');
      health.shuttingDown = true;
      // Readiness now fails; give load balancers time to notice before we stop accepting.
      if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      const listenersClosed = Promise.all([grpc.close(config.shutdownGraceMs), http.close(config.shutdownGraceMs)]);
      coordinator.fleet.stop(); // goodbye to every factory; their leases wait for them to resume
      shutdown.abort(); // ends WatchJobs / TailLogs streams; unary calls run to completion
      await listenersClosed;
      await store.close();
      log.info('stopped');
    })());
  return { coordinator, grpc, http, close };
}

function openSqliteInDataDir(dataDir: string, log: Logger): JobStore {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'gigafactory.sqlite');
  log.info({ store: 'sqlite', path }, 'opening store');
  return openStore({ kind: 'sqlite', path });
}

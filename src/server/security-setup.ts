/**
 * Security for one coordinator process, from configuration: the credential store (SQLite in the
 * coordinator's file by default, the Cosmos control container for replicas, opened by app.ts), the
 * authenticator, the factory stream limits, the TLS material for both listeners and, over a
 * shared store, the watch that closes streams of factories revoked on another replica.
 * Development mode is announced loudly here, once, at start.
 */
import { readFileSync } from 'node:fs';
import { isLoopbackHost, type ServeConfig } from '../config.js';
import type { Clock } from '../coordinator/clock.js';
import { FactoryStreams } from '../coordinator/factory-streams.js';
import { LogRate } from '../coordinator/log-rate.js';
import type { OpenStreams } from '../coordinator/open-streams.js';
import { RevocationWatch } from '../coordinator/revocation-watch.js';
import { Security } from '../coordinator/security.js';
import type { Logger } from '../logging.js';
import { MemorySecurityStore } from '../store/memory/memory-security-store.js';
import type { SecurityStore } from '../store/security-store.js';
import { SqliteSecurityStore } from '../store/sqlite/sqlite-security-store.js';
import { authenticator, type Authenticate } from './auth.js';
import type { SecurityRoutes } from './services.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** Set when clients must present a certificate signed by it (native listener only). */
  clientCa?: Buffer;
}

export interface SecuritySetup {
  security: Security;
  authenticate: Authenticate;
  routes: SecurityRoutes;
  tls: TlsFiles | null;
  close(): Promise<void>;
}

export interface SecuritySetupOptions {
  config: ServeConfig;
  log: Logger;
  clock: Clock;
  /** A store to use as is (tests, Cosmos); otherwise SQLite in `sqlitePath`, or memory without one. */
  store?: SecurityStore;
  sqlitePath?: string;
  /** Other replicas share the credential store: watch it for revocations made there. */
  sharedStore?: boolean;
  /** The coordinator's WatchJobs and TailLogs streams: that watch also ends those of keys revoked elsewhere. */
  followers: OpenStreams;
  /** How often that watch asks the store; REVOCATION_POLL_MS by default. */
  revocationPollMs?: number;
}

export function setupSecurity({ config, log, clock, store: given, sqlitePath, sharedStore = false, followers, revocationPollMs }: SecuritySetupOptions): SecuritySetup {
  if (config.insecureDev && !isLoopbackHost(config.host)) {
    throw new Error(`insecureDev is only allowed on a loopback host (127.0.0.1, ::1, localhost), not "${config.host}"`);
  }
  const store = given ?? openCredentialStore(sqlitePath, config, log);
  const security = new Security(store, clock, { rotationOverlapMs: config.tokenRotationOverlapMs });
  const logRate = new LogRate(config.logBytesPerSecondPerJob, Math.max(2 * config.logBytesPerSecondPerJob, config.maxLogChunkBytes), clock, log);
  const streams = new FactoryStreams(config.maxStreamsPerFactory);
  const revocations = sharedStore ? new RevocationWatch(security, streams, followers, log, revocationPollMs) : null;
  revocations?.start();
  if (config.insecureDev) {
    log.warn(
      { insecureDev: true, host: config.host },
      '!!! INSECURE DEVELOPMENT MODE: calls without a credential are accepted as admin on this loopback host. Never use --insecure-dev on a shared machine or in production !!!',
    );
  }
  return {
    security,
    authenticate: authenticator({ security, devMode: config.insecureDev, keyRate: { perSecond: config.keyRequestsPerSecond, burst: config.keyRequestBurst }, clock, log }),
    routes: { security, streams, logRate },
    tls: readTls(config),
    close: () => {
      revocations?.stop();
      return store.close();
    },
  };
}

function openCredentialStore(sqlitePath: string | undefined, config: ServeConfig, log: Logger): SecurityStore {
  if (sqlitePath) return new SqliteSecurityStore(sqlitePath);
  // Replicas share credentials through the Cosmos control container, which app.ts opens (it must connect first).
  if (config.store === 'cosmos') throw new Error('store cosmos: pass the Cosmos credential store to setupSecurity');
  if (!config.insecureDev) log.warn('credentials are kept in memory: API keys and factory tokens are lost when the coordinator stops');
  return new MemorySecurityStore();
}

function readTls(config: ServeConfig): TlsFiles | null {
  if (!config.tlsCertFile || !config.tlsKeyFile) return null;
  const read = (setting: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${setting}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  return {
    cert: read('tlsCertFile', config.tlsCertFile),
    key: read('tlsKeyFile', config.tlsKeyFile),
    ...(config.tlsClientCaFile ? { clientCa: read('tlsClientCaFile', config.tlsClientCaFile) } : {}),
  };
}

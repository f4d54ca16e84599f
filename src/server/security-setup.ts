/**
 * Security for one coordinator process, from configuration: the credential store (SQLite in the
 * coordinator's file by default), the auth interceptor, the factory stream limits, and the TLS
 * material for both listeners. Development mode is announced loudly here, once, at start.
 */
import type { Interceptor } from '@connectrpc/connect';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost, type ServeConfig } from '../config.js';
import type { Clock } from '../coordinator/clock.js';
import { FactoryStreams } from '../coordinator/factory-streams.js';
import { LogRate } from '../coordinator/log-rate.js';
import { Security } from '../coordinator/security.js';
import type { Logger } from '../logging.js';
import { MemorySecurityStore } from '../store/memory/memory-security-store.js';
import type { SecurityStore } from '../store/security-store.js';
import { SqliteSecurityStore } from '../store/sqlite/sqlite-security-store.js';
import { authInterceptor } from './auth.js';
import type { SecurityRoutes } from './routes.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** Set when clients must present a certificate signed by it (native listener only). */
  clientCa?: Buffer;
}

export interface SecuritySetup {
  security: Security;
  interceptor: Interceptor;
  routes: SecurityRoutes;
  tls: TlsFiles | null;
  close(): Promise<void>;
}

export interface SecuritySetupOptions {
  config: ServeConfig;
  log: Logger;
  clock: Clock;
  /** A store to use as is (tests); otherwise SQLite in `sqlitePath`, or memory without one. */
  store?: SecurityStore;
  sqlitePath?: string;
}

export function setupSecurity({ config, log, clock, store: given, sqlitePath }: SecuritySetupOptions): SecuritySetup {
  if (config.insecureDev && !isLoopbackHost(config.host)) {
    throw new Error(`insecureDev is only allowed on a loopback host (127.0.0.1, ::1, localhost), not "${config.host}"`);
  }
  const store = given ?? openCredentialStore(sqlitePath, config, log);
  const security = new Security(store, clock, { rotationOverlapMs: config.tokenRotationOverlapMs });
  const logRate = new LogRate(config.logBytesPerSecondPerJob, Math.max(2 * config.logBytesPerSecondPerJob, config.maxLogChunkBytes), clock, log);
  const streams = new FactoryStreams(config.maxStreamsPerFactory);
  if (config.insecureDev) {
    log.warn(
      { insecureDev: true, host: config.host },
      '!!! INSECURE DEVELOPMENT MODE: calls without a credential are accepted as admin on this loopback host. Never use --insecure-dev on a shared machine or in production !!!',
    );
  }
  return {
    security,
    interceptor: authInterceptor({ security, devMode: config.insecureDev, keyRate: { perSecond: config.keyRequestsPerSecond, burst: config.keyRequestBurst }, clock, log }),
    routes: { security, streams, logRate },
    tls: readTls(config),
    close: () => store.close(),
  };
}

function openCredentialStore(sqlitePath: string | undefined, config: ServeConfig, log: Logger): SecurityStore {
  if (sqlitePath) return new SqliteSecurityStore(sqlitePath);
  if (config.store === 'cosmos') {
    // Credentials are not in Cosmos yet: each replica keeps its own in its data dir.
    mkdirSync(config.dataDir, { recursive: true });
    const path = join(config.dataDir, 'credentials.sqlite');
    log.warn({ path }, 'credentials are kept per replica in SQLite (not shared through Cosmos): create keys and enroll factories on each replica');
    return new SqliteSecurityStore(path);
  }
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

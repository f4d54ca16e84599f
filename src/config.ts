/**
 * The coordinator's configuration: one typed, validated object. Flags win over GIGAFACTORY_*
 * environment variables, which win over defaults; a bad value is refused at start with a message
 * naming the setting and where it came from.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { ScaleOutSettings } from './coordinator/fleet.js';
import type { FollowerSettings } from './coordinator/open-streams.js';
import type { FleetSettings } from './coordinator/lease-settings.js';
import type { BlobStoreConfig } from './store/blobs/open-blob-store.js';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveMs = z.coerce.number().int().min(1);
/** A boolean from a flag (true), a file (true/false) or the environment ("true", "1", "false", "0"). */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

export const ServeConfigSchema = z.object({
  dataDir: z.string().min(1).default('.gigafactory'),
  host: z.string().min(1).default('127.0.0.1'),
  grpcPort: port.default(7070),
  httpPort: port.default(8080),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest message either listener accepts, in bytes. */
  maxMessageBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Browser origins allowed by CORS on the HTTP listener (comma-separated in env and flags). */
  corsOrigins: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean)))
    .default([]),
  heartbeatIntervalMs: positiveMs.default(5_000),
  leaseTtlMs: positiveMs.default(15_000),
  offerTimeoutMs: positiveMs.default(10_000),
  /** A factory stream silent for this long is closed (its leases then run out on their own). */
  heartbeatTimeoutMs: positiveMs.default(15_000),
  /** Largest log chunk a factory may send, in bytes. */
  maxLogChunkBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** Back-off before a failed or lost job is offered again: first delay and cap. */
  retryBaseMs: positiveMs.default(1_000),
  retryMaxMs: positiveMs.default(5 * 60_000),
  /** Preempt lower-priority jobs for a higher-priority one that cannot be placed. */
  preemption: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(true),
  /** SIGTERM→SIGKILL grace given to a preempted job. */
  preemptionGraceMs: positiveMs.default(30_000),
  /** Time a factory has to say hello after opening its stream. */
  helloTimeoutMs: positiveMs.default(10_000),
  /**
   * When a factory's stream breaks without a goodbye, its leases lapse this long after (unless it
   * reconnects and resumes them first). 3 s covers the agent's first reconnect attempts (back-off
   * from 0.5 s) on a brief blip, while a dead factory's jobs come back within a few seconds. Leases
   * are only ever shortened, so a grace longer than leaseTtlMs changes nothing.
   */
  reconnectGraceMs: positiveMs.default(3_000),
  reaperIntervalMs: positiveMs.default(1_000),
  /** Grace between SIGTERM and SIGKILL when a job is cancelled. */
  cancelGraceMs: positiveMs.default(10_000),
  /** How long shutdown waits for in-flight calls before closing connections. */
  shutdownGraceMs: positiveMs.default(5_000),
  /**
   * On SIGTERM, how long /readyz reports "not ready" while still serving, so a load balancer stops
   * sending new work before the listeners close.
   */
  shutdownDelayMs: z.coerce.number().int().min(0).default(0),
  /** Where jobs live: 'sqlite' (one coordinator, in dataDir) or 'cosmos' (shared by several replicas). */
  store: z.enum(['sqlite', 'cosmos']).default('sqlite'),
  /** Cosmos account endpoint, e.g. https://myaccount.documents.azure.com:443/ (store cosmos). */
  cosmosEndpoint: z.string().url().optional(),
  /** Cosmos account key (store cosmos). A secret: masked by `config print`, never logged. */
  cosmosKey: z.string().min(1).optional(),
  /** Cosmos database; it and its `jobs` container are created on start when missing. */
  cosmosDatabase: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be 1-255 letters, digits, ".", "_" or "-"').default('gigafactory'),
  /**
   * Where artifact blobs live with store cosmos: an Azure Storage account, by connection string or
   * by blob endpoint (https://<account>.blob.core.windows.net) and account key. Both secrets are
   * masked by `config print`, never logged. With store sqlite blobs live under dataDir/artifacts.
   */
  blobConnectionString: z.string().min(1).optional(),
  blobEndpoint: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http or https URL').optional(),
  blobKey: z.string().min(1).optional(),
  /** The blob container, created on start when missing. */
  blobContainer: z
    .string()
    .regex(/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/, 'must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (an Azure container name)')
    .default('gigafactory-artifacts'),
  /**
   * Goodbye (MAX_AGE) to a factory stream this old, so streams rebalance across replicas behind a
   * load balancer; 0 = never. Unset: never on SQLite, 30 minutes on Cosmos.
   */
  maxStreamAgeMs: z.coerce.number().int().min(0).optional(),
  /**
   * Development only: serve without requiring credentials (a call without one acts as an admin).
   * Refused unless host is loopback; logged loudly. Security is on otherwise.
   */
  insecureDev: flag.default(false),
  /** PEM certificate chain and key: both listeners serve TLS (https, h2 over TLS). */
  tlsCertFile: z.string().min(1).optional(),
  tlsKeyFile: z.string().min(1).optional(),
  /** PEM CA bundle: the native gRPC listener then requires client certificates it signed (mTLS). */
  tlsClientCaFile: z.string().min(1).optional(),
  /** How long a factory's old token keeps working after RotateFactoryToken. */
  tokenRotationOverlapMs: positiveMs.default(5 * 60_000),
  /** /readyz says not ready while the data dir's disk has less free than this (SQLite store). */
  minFreeDiskBytes: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  /** WatchJobs and TailLogs streams one API key may have open at once. */
  maxStreamsPerKey: z.coerce.number().int().min(1).max(10_000).default(32),
  /** Open streams one factory identity may hold at once (a reconnect briefly needs two). */
  maxStreamsPerFactory: z.coerce.number().int().min(1).max(100).default(3),
  /** A connection that has no call admitted (or does not finish its TLS handshake) within this is closed. */
  unauthenticatedDeadlineMs: positiveMs.default(10_000),
  /** An admitted call whose request (headers and body; a streaming call's first message) has not arrived within this is ended. */
  requestReadTimeoutMs: positiveMs.default(30_000),
  /** Calls one native connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); an agent needs a few. */
  maxStreamsPerConnection: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /** Requests per second each API key may make, and the burst above it (RESOURCE_EXHAUSTED beyond). */
  keyRequestsPerSecond: z.coerce.number().min(0.1).default(50),
  keyRequestBurst: z.coerce.number().int().min(1).default(100),
  /** Log bytes per second per job; a factory sending faster is slowed (backpressure), not cut off. */
  logBytesPerSecondPerJob: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
  /**
   * How far V8 lets the heap grow past what the last full collection kept, in percent; 0 leaves
   * V8's own choice (up to 300 % on a large machine). Memory against garbage-collection work: see
   * src/server/heap-growth.ts.
   */
  heapGrowingPercent: z.coerce.number().int().min(0).max(1_000).default(30),
  /** Where tracker echoes (signed status webhooks for jobs made from tracker items) are POSTed; unset: none sent. */
  trackerEchoUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http or https URL').optional(),
  /** HMAC-SHA256 key signing every echo. A secret: masked by `config print`, never logged. */
  trackerEchoSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  /** How long one echo POST may take before it counts as failed. */
  trackerEchoTimeoutMs: positiveMs.default(10_000),
  /** Back-off between failed attempts of one echo: first delay and cap (with jitter). */
  trackerEchoRetryBaseMs: positiveMs.default(1_000),
  trackerEchoRetryMaxMs: positiveMs.default(5 * 60_000),
  /** An echo is given up (dead, logged and counted) after this many failed attempts ... */
  trackerEchoMaxAttempts: z.coerce.number().int().min(1).max(1_000).default(50),
  /** ... or once its event is this old. */
  trackerEchoMaxAgeMs: positiveMs.default(24 * 60 * 60_000),
  /** How often the sender looks for due echoes when it found none. */
  trackerEchoPollMs: positiveMs.default(1_000),
}).superRefine((config, ctx) => {
  if (config.trackerEchoUrl !== undefined && config.trackerEchoSecret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['trackerEchoSecret'], message: 'required when trackerEchoUrl is set: every echo is signed (flag --tracker-echo-secret or GIGAFACTORY_TRACKER_ECHO_SECRET)' });
  }
}).superRefine((config, ctx) => {
  if (config.insecureDev && !isLoopbackHost(config.host)) {
    ctx.addIssue({ code: 'custom', path: ['insecureDev'], message: `development mode serves without credentials, so it is only allowed on a loopback host (127.0.0.1, ::1, localhost), not "${config.host}"` });
  }
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: [config.tlsCertFile === undefined ? 'tlsCertFile' : 'tlsKeyFile'], message: 'tlsCertFile and tlsKeyFile go together' });
  }
  if (config.tlsClientCaFile !== undefined && config.tlsCertFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tlsClientCaFile'], message: 'client certificates (mTLS) need the listener to serve TLS: set tlsCertFile and tlsKeyFile too' });
  }
}).superRefine((config, ctx) => {
  const blobKeys = (['blobConnectionString', 'blobEndpoint', 'blobKey'] as const).filter((key) => config[key] !== undefined);
  if (config.store !== 'cosmos') {
    for (const key of blobKeys) ctx.addIssue({ code: 'custom', path: [key], message: `applies to store cosmos only: with store ${config.store} artifact blobs live under the data dir` });
    return;
  }
  if (config.blobConnectionString !== undefined && (config.blobEndpoint !== undefined || config.blobKey !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['blobConnectionString'], message: 'give either blobConnectionString or blobEndpoint with blobKey, not both' });
  } else if ((config.blobEndpoint === undefined) !== (config.blobKey === undefined)) {
    ctx.addIssue({ code: 'custom', path: [config.blobEndpoint === undefined ? 'blobEndpoint' : 'blobKey'], message: 'blobEndpoint and blobKey go together' });
  }
}).superRefine((config, ctx) => {
  if (config.store !== 'cosmos') return;
  for (const key of ['cosmosEndpoint', 'cosmosKey'] as const) {
    if (config[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required when store is cosmos (flag --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} or ${envName(key)})` });
  }
});
export type ServeConfig = z.infer<typeof ServeConfigSchema>;

/** Environment variable for each setting: dataDir → GIGAFACTORY_DATA_DIR. */
export function envName(key: string): string {
  return `GIGAFACTORY_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Settings that are secrets: masked by `config print`, never logged. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['cosmosKey', 'trackerEchoSecret', 'blobConnectionString', 'blobKey']);

/** Where each effective value came from, for messages and `config print`. */
export type ConfigSources = Record<string, string>;

/**
 * Merges defaults < config file < environment < flags and validates; throws Error naming each bad
 * setting and where it came from. `file` is the parsed config file (YAML or JSON), if any.
 */
export function resolveServeConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: { path: string; values: Record<string, unknown> } | null = null,
): ServeConfig {
  return resolveWithSources(flags, env, file).config;
}

export function resolveWithSources(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: { path: string; values: Record<string, unknown> } | null,
): { config: ServeConfig; sources: ConfigSources } {
  const keys = Object.keys(ServeConfigSchema.shape);
  const merged: Record<string, unknown> = {};
  const source: ConfigSources = {};
  if (file) {
    for (const [key, value] of Object.entries(file.values)) {
      if (!keys.includes(key)) throw new Error(`invalid configuration: ${file.path} has an unknown setting "${key}" (known: ${keys.join(', ')})`);
      merged[key] = value;
      source[key] = `config file ${file.path}`;
    }
  }
  for (const key of keys) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') {
      merged[key] = fromEnv;
      source[key] = `environment variable ${envName(key)}`;
    }
    if (flags[key] !== undefined) {
      merged[key] = flags[key];
      source[key] = `flag --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    }
  }
  const parsed = ServeConfigSchema.safeParse(merged);
  if (parsed.success) {
    for (const key of keys) source[key] ??= 'default';
    return { config: parsed.data, sources: source };
  }
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    return `${key} (${source[key] ?? 'default'}): ${issue.message}`;
  });
  throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * Where artifact blobs live, for openBlobStore: under the data dir with SQLite, in Azure Blob
 * Storage with Cosmos; null with Cosmos and no storage account (artifacts are then off, and every
 * artifact call says how to turn them on).
 */
export function blobStoreConfig(config: ServeConfig): BlobStoreConfig | null {
  if (config.store === 'sqlite') return { kind: 'fs', root: join(config.dataDir, 'artifacts') };
  if (config.blobConnectionString !== undefined) return { kind: 'azure', connection: { connectionString: config.blobConnectionString }, container: config.blobContainer };
  if (config.blobEndpoint !== undefined && config.blobKey !== undefined) return { kind: 'azure', connection: { endpoint: config.blobEndpoint, accountKey: config.blobKey }, container: config.blobContainer };
  return null;
}

/** Default maximum stream age on a shared store: long enough to be cheap, short enough to rebalance. */
export const COSMOS_MAX_STREAM_AGE_MS = 30 * 60_000;

/**
 * The fleet protocol's timings, from the configuration. `sharedStore` says the store is shared with
 * other replicas (see ScaleOutSettings); it comes from the opened store, not from the settings.
 */
export function fleetSettings(config: ServeConfig, opts: { sharedStore?: boolean } = {}): FleetSettings & ScaleOutSettings & FollowerSettings {
  return {
    maxStreamsPerKey: config.maxStreamsPerKey,
    sharedStore: opts.sharedStore ?? false,
    maxStreamAgeMs: config.maxStreamAgeMs ?? (config.store === 'cosmos' ? COSMOS_MAX_STREAM_AGE_MS : 0),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    leaseTtlMs: config.leaseTtlMs,
    offerTimeoutMs: config.offerTimeoutMs,
    helloTimeoutMs: config.helloTimeoutMs,
    reconnectGraceMs: config.reconnectGraceMs,
    reaperIntervalMs: config.reaperIntervalMs,
    cancelGraceMs: config.cancelGraceMs,
    maxLogChunkBytes: config.maxLogChunkBytes,
    retryBackoff: { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs },
    preemption: config.preemption,
    preemptionGraceMs: config.preemptionGraceMs,
  };
}

/**
 * The coordinator's configuration: one typed, validated object. Flags win over GIGAFACTORY_*
 * environment variables, which win over defaults; a bad value is refused at start with a message
 * naming the setting and where it came from.
 */
import { z } from 'zod';
import type { FleetSettings } from './coordinator/lease-settings.js';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveMs = z.coerce.number().int().min(1);

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
  /** Time a factory has to say hello after opening its stream. */
  helloTimeoutMs: positiveMs.default(10_000),
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
});
export type ServeConfig = z.infer<typeof ServeConfigSchema>;

/** Environment variable for each setting: dataDir → GIGAFACTORY_DATA_DIR. */
export function envName(key: string): string {
  return `GIGAFACTORY_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Settings that are secrets: masked by `config print`, never logged. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['cosmosKey']);

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

/** The fleet protocol's timings, from the configuration. */
export function fleetSettings(config: ServeConfig): FleetSettings {
  return {
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    leaseTtlMs: config.leaseTtlMs,
    offerTimeoutMs: config.offerTimeoutMs,
    helloTimeoutMs: config.helloTimeoutMs,
    reaperIntervalMs: config.reaperIntervalMs,
    cancelGraceMs: config.cancelGraceMs,
    maxLogChunkBytes: config.maxLogChunkBytes,
    retryBackoff: { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs },
  };
}

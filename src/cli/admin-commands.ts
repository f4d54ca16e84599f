/**
 * Credential commands: API keys (`keys`), enrollment tokens (`enroll-token`) and factory revocation
 * and rotation (`factory`). They call AdminService with the global --key, except `keys bootstrap`,
 * which writes the first admin key straight into the coordinator's store: its SQLite file, or with
 * --store cosmos the Cosmos control container the replicas share (whoever can write either already
 * controls the coordinator).
 */
import { Command, InvalidArgumentError } from 'commander';
import { ROLES, type Role } from '../domain/credentials.js';
import type { SecurityStore } from '../store/security-store.js';
import { agentInstallLines, agentPackageFile } from '../domain/agent-install.js';
import { VERSION } from '../version.js';
import type { ClientSecurity } from './connection-options.js';
import { print } from './format-text.js';

// Everything below that talks to a coordinator or a store imports its modules when the action runs:
// `gigafactory --help` must not load protobuf, gRPC, SQLite or the Cosmos SDK.
const wire = () => import('./admin-wire.js');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`--role must be one of ${ROLES.join(', ')}, got "${value}"`);
  return value as Role;
}

/** "90s", "15m", "2h", "7d", or plain seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a duration like 90s, 15m, 2h or 7d`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** "--label gpu=a100|h100" grants gpu with those values; "--label gpu" grants any value. */
export function parseGrant(text: string): { key: string; values: string[] } {
  const eq = text.indexOf('=');
  if (eq === 0) throw new InvalidArgumentError(`--label "${text}" must look like key, key=value or key=a|b`);
  return eq < 0 ? { key: text, values: [] } : { key: text.slice(0, eq), values: text.slice(eq + 1).split('|').filter(Boolean) };
}

/** The credential store `keys bootstrap` writes to: the one `serve` with the same settings would use. */
async function bootstrapStore(opts: { dataDir: string; store?: string; cosmosEndpoint?: string; cosmosKey?: string; cosmosDatabase?: string }): Promise<SecurityStore> {
  const [{ join }, { resolveServeConfig }] = await Promise.all([import('node:path'), import('../config.js')]);
  let config;
  try {
    config = resolveServeConfig({ dataDir: opts.dataDir, store: opts.store, cosmosEndpoint: opts.cosmosEndpoint, cosmosKey: opts.cosmosKey, cosmosDatabase: opts.cosmosDatabase }, process.env);
  } catch (err) {
    process.stderr.write(`gigafactory keys bootstrap: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (config.store === 'cosmos') {
    const { openCosmosControlStores } = await import('../store/cosmos/index.js');
    const stores = await openCosmosControlStores({ endpoint: config.cosmosEndpoint!, key: config.cosmosKey!, database: config.cosmosDatabase });
    await stores.settings.close();
    await stores.schedules.close();
    await stores.partitions.close();
    return stores.security;
  }
  const { makePrivateDir } = await import('../private-files.js');
  makePrivateDir(config.dataDir);
  const { SqliteSecurityStore } = await import('../store/sqlite/sqlite-security-store.js');
  return new SqliteSecurityStore(join(config.dataDir, 'gigafactory.sqlite'));
}

export function adminCommands(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command[] {
  const admin = async () => (await import('./admin-client.js')).adminClient(coordinator(), security());

  const keys = new Command('keys').description('operator API keys (roles: viewer, operator, admin)');
  keys
    .command('bootstrap')
    .description("create an admin key directly in the coordinator's store (for the first key): its SQLite file, or Cosmos with --store cosmos")
    .requiredOption('--name <name>', 'the key name, recorded on everything it does')
    .option('--data-dir <dir>', 'the coordinator data dir [env GIGAFACTORY_DATA_DIR]', process.env.GIGAFACTORY_DATA_DIR || '.gigafactory')
    .option('--store <kind>', 'sqlite, or cosmos (the replicas\' shared store) [env GIGAFACTORY_STORE]')
    .option('--cosmos-endpoint <url>', 'Cosmos DB account endpoint [env GIGAFACTORY_COSMOS_ENDPOINT]')
    .option('--cosmos-key <key>', 'Cosmos DB account key; prefer the environment variable [env GIGAFACTORY_COSMOS_KEY]')
    .option('--cosmos-database <name>', 'Cosmos DB database [env GIGAFACTORY_COSMOS_DATABASE] (default "gigafactory")')
    .action(async (opts: { name: string; dataDir: string; store?: string; cosmosEndpoint?: string; cosmosKey?: string; cosmosDatabase?: string }) => {
      const store = await bootstrapStore(opts);
      const [{ Security }, { systemClock }] = await Promise.all([import('../coordinator/security.js'), import('../coordinator/clock.js')]);
      try {
        const { key } = await new Security(store, systemClock, { rotationOverlapMs: 0 }).createApiKey(opts.name, 'admin', 'bootstrap');
        if (json()) return print({ name: opts.name, role: 'admin', key });
        print(`admin key "${opts.name}" (shown once, keep it secret):\n${key}`);
      } finally {
        await store.close();
      }
    });
  keys
    .command('create')
    .description('create an API key (admin)')
    .requiredOption('--name <name>', 'unique key name, recorded on everything it does')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .action(async (opts: { name: string; role: Role }) => {
      const { roleToWire, apiKeyJson } = await wire();
      const res = await (await admin()).createApiKey({ name: opts.name, role: roleToWire(opts.role) });
      if (json()) return print({ key: res.key, apiKey: apiKeyJson(res.apiKey!) });
      print(`${opts.role} key "${opts.name}" (shown once, keep it secret):\n${res.key}`);
    });
  keys
    .command('list')
    .description('list API keys (admin); never shows secrets')
    .action(async () => {
      const { apiKeyJson, roleName, time } = await wire();
      const res = await (await admin()).listApiKeys({});
      if (json()) return print(res.apiKeys.map(apiKeyJson));
      for (const k of res.apiKeys) {
        print(`${k.name}\t${roleName(k.role)}\tcreated ${time(k.createTime)} by ${k.createdBy}${k.revokeTime ? `\trevoked ${time(k.revokeTime)}` : ''}`);
      }
    });
  keys
    .command('revoke')
    .description('revoke an API key at once (admin)')
    .argument('<name>')
    .action(async (name: string) => {
      const { apiKeyJson } = await wire();
      const res = await (await admin()).revokeApiKey({ name });
      if (json()) return print(apiKeyJson(res.apiKey!));
      print(`revoked key "${name}"`);
    });

  const enroll = new Command('enroll-token').description('one-time tokens new factories enroll with');
  enrollmentTokenOptions(enroll.command('create').description('create an enrollment token (admin); give it to `gigafactory agent --enroll-token`')).action(async (opts: EnrollmentTokenOptions) => {
    const res = await createEnrollmentToken(opts);
    const { time } = await wire();
    if (json()) return print({ token: res.token, tokenId: res.tokenId, expireTime: time(res.expireTime) });
    print(`enrollment token ${res.tokenId}, valid once until ${time(res.expireTime)} (shown once):\n${res.token}`);
  });

  const enrollCommand = enrollmentTokenOptions(
    new Command('enroll-command').description('create an enrollment token (admin) and print, per platform, the one line that installs the agent on a new machine and starts it as an enrolled service'),
  )
    .option('--address <host:port>', "the coordinator's gRPC address as factories reach it (default: --coordinator)")
    .option('--package <url-or-path>', `where factories install the agent package from (npm run build:agent's tarball)`, `./${agentPackageFile(VERSION)}`)
    .action(async (opts: EnrollmentTokenOptions & { address?: string; package: string }) => {
      const res = await createEnrollmentToken(opts);
      const { time } = await wire();
      const lines = agentInstallLines({ coordinator: opts.address ?? coordinator(), enrollToken: res.token, packageSource: opts.package, ...(opts.factoryId ? { factoryId: opts.factoryId } : {}) });
      if (json()) return print({ tokenId: res.tokenId, expireTime: time(res.expireTime), lines });
      print(`enrollment token ${res.tokenId}, valid once until ${time(res.expireTime)}. On the new machine:\n`);
      for (const l of lines) print(`# ${l.where}\n${l.line}\n`);
    });

  async function createEnrollmentToken(opts: EnrollmentTokenOptions) {
    const grants = opts.label.map(parseGrant);
    if (opts.defaultLabels) for (const key of ['os', 'arch']) if (!grants.some((g) => g.key === key)) grants.push({ key, values: [] });
    const { labelGrant, durationFromMs } = await wire();
    return (await admin()).createEnrollmentToken({
      ttl: durationFromMs(opts.ttl),
      allowedLabels: grants.map(labelGrant),
      allowedProducts: opts.product,
      factoryId: opts.factoryId ?? '',
      description: opts.description,
    });
  }

  const factory = new Command('factory').description("an enrolled factory's credentials");
  factory
    .command('revoke')
    .description('revoke a factory (admin): its streams close at once and it cannot reconnect')
    .argument('<factory-id>')
    .option('--reason <text>', 'recorded and sent to the factory', '')
    .action(async (factoryId: string, opts: { reason: string }) => {
      const { time } = await wire();
      const res = await (await admin()).revokeFactory({ factoryId, reason: opts.reason });
      if (json()) return print({ closedStreams: res.closedStreams, revokeTime: time(res.revokeTime) });
      print(`revoked factory "${factoryId}" (${res.closedStreams} open stream${res.closedStreams === 1 ? '' : 's'} closed)`);
    });
  factory
    .command('rotate')
    .description("issue a factory a new token (admin); a connected factory stores it itself")
    .argument('<factory-id>')
    .action(async (factoryId: string) => {
      const { time } = await wire();
      const res = await (await admin()).rotateFactoryToken({ factoryId });
      if (json()) return print({ factoryToken: res.factoryToken, delivered: res.delivered, previousTokenExpireTime: time(res.previousTokenExpireTime) });
      print(
        `new token for "${factoryId}" (shown once)${res.delivered ? ', also delivered to the connected factory' : ''}; the old one works until ${time(res.previousTokenExpireTime)}:\n${res.factoryToken}`,
      );
    });

  return [keys, enroll, enrollCommand, factory];
}

interface EnrollmentTokenOptions {
  label: string[];
  defaultLabels: boolean;
  product: string[];
  factoryId?: string;
  ttl: number;
  description: string;
}

/** What an enrollment token allows, for `enroll-token create` and `enroll-command`. */
function enrollmentTokenOptions(command: Command): Command {
  return command
    .option('--label <key[=v1|v2]>', 'a label the factory may advertise; no value means any value (repeatable)', collect, [])
    .option('--no-default-labels', 'do not grant os and arch (which the agent always advertises)')
    .option('--product <id>', 'a product whose jobs the factory may run (repeatable; default: every product)', collect, [])
    .option('--factory-id <id>', 'only this factory id may enroll with the token')
    .option('--ttl <duration>', 'how long the token may be used: 90s, 15m, 2h, 7d', parseDuration, 3_600_000)
    .option('--description <text>', 'a note for operators', '');
}


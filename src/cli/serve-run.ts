/** `gigafactory serve`: runs the coordinator until SIGTERM/SIGINT, then shuts down in order. */
import { join } from 'node:path';
import { resolveWithSources, type ConfigSources, type ServeConfig } from '../config.js';
import { readConfigFile } from './config-file.js';
import { createLogger } from '../logging.js';
import { startServer, type RunningServer } from '../server/app.js';
import { applyHeapGrowth } from '../server/heap-growth.js';
import { FactoryAgent } from '../../agent/agent.js';
import type { Logger } from '../logging.js';
import { defaultLabels } from './agent-command.js';
import type { RunAsUser } from '../../agent/job-process.js';
import { lookUpUser } from '../../agent/run-as.js';
import { makePassThroughDir } from '../private-files.js';

/** Resolves file < env < flags, or exits with status 2 and a message naming the bad setting. */
export function loadServeConfig(flags: Record<string, unknown>, commandName: string): { config: ServeConfig; sources: ConfigSources } {
  const { config: configPath, ...settings } = flags;
  const path = (configPath as string | undefined) ?? process.env.GIGAFACTORY_CONFIG;
  try {
    return resolveWithSources(settings, process.env, path ? readConfigFile(path) : null);
  } catch (err) {
    process.stderr.write(`gigafactory ${commandName}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

/** Runs the coordinator (and, with --local-agent, a factory in this process) until a signal. */
export async function serve(flags: Record<string, unknown>, localAgent: unknown, localAgentUser: string | undefined): Promise<void> {
  const { config } = loadServeConfig(flags, 'serve');
  const local = localAgent === undefined ? null : localAgentPlan(localAgent, localAgentUser, config);
  applyHeapGrowth(config.heapGrowingPercent);
  const log = createLogger({ level: config.logLevel });
  const server = await startServer({ config, log });
  const agentStop = new AbortController();
  const agentDone = local === null ? Promise.resolve() : runLocalAgent(local, server, config, log, agentStop.signal);
  // The line a newcomer looks for at the end of the start log: where to point the browser and the CLI.
  const ui = `${config.tlsCertFile ? 'https' : 'http'}://${browsable(server.http.address)}/`;
  log.info({ ui, grpc: server.grpc.address }, `ready: web control plane at ${ui}, gRPC at ${server.grpc.address}`);
  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received');
    agentStop.abort();
    agentDone.then(() => server.close()).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** A listener address a browser can open: a wildcard bind is reached through loopback. */
function browsable(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

interface LocalAgentPlan {
  slots: number;
  runAs?: RunAsUser;
}

/**
 * Checks the --local-agent flags before anything listens, or exits with status 2 saying why. Jobs
 * of the in-process agent would run as the coordinator's user, who can rewrite its SQLite file and
 * so mint an admin key: with security on they must run as another account.
 */
function localAgentPlan(slotsFlag: unknown, user: string | undefined, config: ServeConfig): LocalAgentPlan {
  const refuse = (why: string): never => {
    process.stderr.write(`gigafactory serve: ${why}\n`);
    process.exit(2);
  };
  const slots = slotsFlag === true ? 2 : Number(slotsFlag);
  if (!Number.isInteger(slots) || slots < 1) refuse(`--local-agent takes a positive number of slots, got "${String(slotsFlag)}"`);
  if (config.tlsCertFile) refuse('--local-agent does not speak TLS; run `gigafactory agent --tls-ca ...` beside a TLS coordinator instead');
  if (user === undefined) {
    if (!config.insecureDev) {
      refuse(
        "--local-agent with security on would run jobs as the coordinator's own user, who can rewrite its data dir and mint an admin key. " +
          'Give --local-agent-user NAME (as root) to run them as another account, or run `gigafactory agent` as another user beside the coordinator.',
      );
    }
    return { slots };
  }
  if (process.platform === 'win32') refuse('--local-agent-user is not supported on Windows; run `gigafactory agent` as another user instead');
  if (process.getuid?.() !== 0) refuse(`--local-agent-user ${user}: only root can run jobs as another account; start serve as root, or run \`gigafactory agent\` as ${user} instead`);
  let runAs: RunAsUser;
  try {
    runAs = lookUpUser(user);
  } catch (err) {
    return refuse(`--local-agent-user: ${(err as Error).message}`);
  }
  if (runAs.uid === 0) refuse(`--local-agent-user ${user} is root: name an unprivileged account`);
  return { slots, runAs };
}

/**
 * The in-process factory. In development mode it needs no credential; otherwise the coordinator
 * issues it a factory token directly (it is this process, so no enrollment is needed), scoped to
 * the id "local" and the os and arch labels it advertises.
 */
async function runLocalAgent(plan: LocalAgentPlan, server: RunningServer, config: ServeConfig, log: Logger, signal: AbortSignal): Promise<void> {
  const { slots, runAs } = plan;
  // Jobs running as another account pass through the data dir to their workspaces under
  // <data-dir>/agent/jobs; they can list nothing on the way, and the store's files are 0600.
  if (runAs) makePassThroughDir(config.dataDir);
  const labels = defaultLabels({});
  const factoryToken = config.insecureDev
    ? undefined
    : await server.security.issueFactoryToken({ factoryId: 'local', allowedLabels: Object.keys(labels).map((key) => ({ key, values: [] })), allowedProducts: [] });
  const agent = new FactoryAgent({
    coordinator: server.grpc.address,
    factoryId: 'local',
    labels,
    slots,
    workDir: join(config.dataDir, 'agent'),
    log: log.child({ component: 'local-agent' }),
    ...(factoryToken ? { factoryToken } : {}),
    ...(runAs ? { runAs } : {}),
  });
  return agent.run(signal).catch((err: unknown) => log.error({ err }, 'local agent failed'));
}

/**
 * `gigafactory agent` (and `gigafactory-agent run`): runs a factory agent. The first SIGTERM or
 * SIGINT drains it (running jobs finish, or are handed back after --drain-timeout); a second one
 * stops it at once.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../version.js';
import { DEFAULT_COORDINATOR, type ClientSecurity } from './connection-options.js';
import { checkPassEnvName } from '../../agent/job-environment.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`--label "${pair}" must look like key=value`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** Default --drain-timeout: long enough for a typical build to finish during an image roll. */
export const DEFAULT_DRAIN_TIMEOUT_S = 300;

/**
 * The options that say how the agent runs, shared by `run` and `install-service` (which writes
 * them into the service's command line). Tokens are not among them: a service keeps those in files.
 */
export function agentRunOptions(): Option[] {
  return [
    new Option('--id <name>', 'factory id, unique in the fleet (default: host name)'),
    new Option('--label <key=value>', 'a label jobs can require, e.g. os=linux (repeatable)').argParser(collect).default([]),
    new Option('--slots <n>', 'jobs run at once').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--slots must be a positive integer, got "${v}"`);
      return n;
    }).default(1),
    new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace').default('info'),
    new Option('--drain-timeout <seconds>', 'on SIGTERM/SIGINT, how long running jobs may take to finish before they are stopped and handed back').argParser((v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--drain-timeout must be a number of seconds, 0 or more, got "${v}"`);
      return n;
    }).default(DEFAULT_DRAIN_TIMEOUT_S),
    new Option('--pass-env <name>', "an environment variable of the agent's that jobs see too (repeatable); jobs see no others but PATH, HOME and LANG")
      .argParser((name: string, previous: string[]) => {
        try {
          return [...previous, checkPassEnvName(name)];
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      })
      .default([]),
  ];
}

export function agentCommand(name = 'agent'): Command {
  const command = new Command(name).description('run a factory: take jobs from the coordinator and run them on this machine (--coordinator may list replicas: a:7070,b:7070)');
  for (const option of agentRunOptions()) command.addOption(option);
  return command
    .option('--work-dir <dir>', 'where job workspaces, unsent results and the factory token live', '.gigafactory/agent')
    .addOption(new Option('--token <factory-token>', 'factory token (default: the one stored in <work-dir>/factory-token)').env('GIGAFACTORY_FACTORY_TOKEN'))
    .addOption(new Option('--enroll-token <token>', 'one-time enrollment token (default: <work-dir>/enroll-token): enroll on the first run and store the factory token').env('GIGAFACTORY_ENROLL_TOKEN'))
    .action(async (opts, command: Command) => {
      // --coordinator is the program's global option (env GIGAFACTORY_COORDINATOR). For the agent it
      // may list several replicas, comma-separated: each reconnect tries the next.
      const coordinator: string = command.parent?.opts().coordinator ?? DEFAULT_COORDINATOR;
      // Loaded only to run: `gigafactory-agent --version` and `--help` start without the gRPC stack.
      const [{ FactoryAgent }, { createLogger }, { agentChannelCredentials }] = await Promise.all([
        import('../../agent/agent.js'),
        import('../logging.js'),
        import('./agent-tls.js'),
      ]);
      const log = createLogger({ level: opts.logLevel });
      const agent = new FactoryAgent({
        coordinator,
        labels: defaultLabels(parseLabels(opts.label)),
        slots: opts.slots,
        workDir: opts.workDir,
        log,
        // --tls-ca, --tls-cert and --tls-key are the program's global options, shared with the CLI.
        credentials: agentChannelCredentials((command.parent?.opts() ?? {}) as ClientSecurity),
        passEnv: opts.passEnv,
        ...(opts.id ? { factoryId: opts.id } : {}),
        ...(opts.token ? { factoryToken: opts.token } : {}),
        ...(opts.enrollToken ? { enrollToken: opts.enrollToken } : {}),
      });
      const stop = new AbortController();
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (signals++ === 0) return agent.drain(`${signal}: the agent is stopping`, opts.drainTimeout * 1_000);
        log.warn({ signal }, 'second signal: stopping at once');
        stop.abort();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      log.info({ coordinators: agent.coordinators, factoryId: agent.factoryId, slots: opts.slots, version: VERSION }, 'agent starting');
      await agent.run(stop.signal);
      log.info('agent stopped');
    });
}

/** Every factory says what it runs on; explicit labels win. */
export function defaultLabels(explicit: Record<string, string>): Record<string, string> {
  return { os: process.platform, arch: process.arch, ...explicit };
}

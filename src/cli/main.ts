/**
 * The `gigafactory` CLI: `serve` runs the coordinator; the other commands are clients of its
 * services. Human output by default, `--json` for scripts. Only the commands' flags are defined
 * here and in the *-command(s) modules; each action imports what it needs when it runs, so
 * `--help` and a usage error cost a Node start and commander, nothing more.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { uiBaseUrl, jobPageUrl, type CliContext } from './context.js';
import { coordinatorOption, tlsOptions, usesTls, type ClientSecurity } from './connection-options.js';
import { adminCommands } from './admin-commands.js';
import { budgetCommand } from './budget-command.js';
import { schedulesCommand } from './schedules-command.js';
import { agentCommand } from './agent-command.js';
import { configCommand } from './config-command.js';
import { serveCommand } from './serve.js';
import { ingestCommand } from './ingest-command.js';
import { whoamiCommand } from './whoami-command.js';
import { artifactsCommand } from './artifacts-command.js';
import { jobCommands } from './job-commands.js';
import { JOB_EXIT } from './job-exit.js';

const program = new Command('gigafactory')
  .description('Fleet coordinator: jobs to factories over long-lived gRPC streams')
  .addOption(coordinatorOption())
  .option('--json', 'print JSON for scripts instead of human output', false)
  .addOption(new Option('--key <api-key>', 'API key, sent as a bearer token').env('GIGAFACTORY_API_KEY'))
  .addOption(new Option('--ui-url <url>', "the web control plane's address, for job links (default: the coordinator's host, port 8080)").env('GIGAFACTORY_UI_URL'));
for (const option of tlsOptions()) program.addOption(option);

/** The global --key and --tls-* options (also read by `agent`). */
function security(): ClientSecurity {
  const o = program.opts();
  return { ...(o.key ? { key: o.key } : {}), ...(o.tlsCa ? { tlsCa: o.tlsCa } : {}), ...(o.tlsCert ? { tlsCert: o.tlsCert } : {}), ...(o.tlsKey ? { tlsKey: o.tlsKey } : {}) };
}

const ctx: CliContext = {
  coordinator: () => program.opts().coordinator,
  security,
  json: () => Boolean(program.opts().json),
  jobUrl: (jobId) => jobPageUrl(uiBaseUrl(program.opts().coordinator, program.opts().uiUrl, usesTls(security())), jobId),
};

program.addCommand(serveCommand());
program.addCommand(agentCommand());
program.addCommand(configCommand());
for (const command of jobCommands(ctx)) program.addCommand(command);
for (const command of adminCommands(ctx.coordinator, ctx.security, ctx.json)) program.addCommand(command);
program.addCommand(budgetCommand(ctx.coordinator, ctx.security, ctx.json));
program.addCommand(schedulesCommand(ctx.coordinator, ctx.security, ctx.json));
program.addCommand(ingestCommand(ctx.coordinator, ctx.security, ctx.json));
program.addCommand(whoamiCommand(ctx.coordinator, ctx.security, ctx.json));
program.addCommand(artifactsCommand(ctx.coordinator, ctx.security, ctx.json));

/**
 * A usage error is one line and where to read more, not the whole help: every command throws
 * instead of exiting (so the status is ours to choose) and names its own --help.
 */
function oneLineUsageErrors(command: Command, path: string): void {
  command.showHelpAfterError(`Run '${path} --help' for usage.`).exitOverride();
  for (const sub of command.commands) oneLineUsageErrors(sub, `${path} ${sub.name()}`);
}
oneLineUsageErrors(program, 'gigafactory');

/** The command whose action runs, to name its --help when the action finds a flag's value wrong. */
let running = 'gigafactory';
program.hook('preAction', (_program, action) => {
  const names: string[] = [];
  for (let c: Command | null = action; c; c = c.parent) names.unshift(c.name());
  running = names.join(' ');
});

// `gigafactory jobs | head` closes our stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = await failure(err);
}

/** Writes what went wrong (one line) and returns the exit status. */
async function failure(err: unknown): Promise<number> {
  // First: an action's own InvalidArgumentError is a CommanderError too, but nothing printed it yet.
  if (err instanceof InvalidArgumentError) {
    process.stderr.write(`error: ${err.message}\nRun '${running} --help' for usage.\n`);
    return JOB_EXIT.usage;
  }
  if (err instanceof CommanderError) {
    // commander has written the message and the hint already; --help and --version end here too.
    return err.exitCode === 0 ? 0 : JOB_EXIT.usage;
  }
  // Loaded only on this path: a usage error or --help never pays for the Connect runtime.
  const { Code, ConnectError } = await import('@connectrpc/connect');
  if (err instanceof ConnectError) process.stderr.write(`error: ${err.rawMessage} (${Code[err.code]})\n`);
  else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

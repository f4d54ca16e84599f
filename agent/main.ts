/**
 * `gigafactory-agent`: the factory agent on its own, the program of the packaged agent
 * (`npm run build:agent` bundles this file and everything it imports into one JavaScript file).
 * `run` is the default command, so `gigafactory-agent --coordinator host:7070` runs a factory.
 */
import { Command } from 'commander';
import { VERSION } from '../src/version.js';
import { agentCommand } from '../src/cli/agent-command.js';
import { coordinatorOption, tlsOptions } from '../src/cli/connection-options.js';
import { installServiceCommand, uninstallServiceCommand } from './service/commands.js';

const program = new Command('gigafactory-agent')
  .description('Gigafactory factory agent: takes jobs from a coordinator and runs them on this machine')
  .version(VERSION, '-V, --version', 'print the version')
  .addOption(coordinatorOption('coordinator gRPC address (several replicas: a:7070,b:7070)'))
  .showHelpAfterError();
for (const option of tlsOptions()) program.addOption(option);
program.addCommand(agentCommand('run'), { isDefault: true });
program.addCommand(installServiceCommand());
program.addCommand(uninstallServiceCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}

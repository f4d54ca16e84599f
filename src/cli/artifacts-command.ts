/** `gigafactory artifacts`'s help and flags; the calls are in artifacts-run.ts, loaded when they run. */
import { Command } from 'commander';
import type { ClientSecurity } from './connection-options.js';

export function artifactsCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  const command = new Command('artifacts')
    .description("list a job's artifacts, per attempt (name, size, SHA-256, type)")
    .argument('<job-id>', 'the job')
    .option('--epoch <n>', 'only this attempt (default: every attempt)')
    .action(async (jobId: string, opts: { epoch?: string }) => (await import('./artifacts-run.js')).listArtifacts(coordinator(), security(), json(), jobId, opts));
  command
    .command('get')
    .description('download one artifact, with a progress bar on stderr')
    .argument('<job-id>', 'the job')
    .argument('<name>', 'the artifact\'s name, e.g. "reports/summary.txt"')
    .option('-o, --output <path>', 'where to write it (default: the last part of the name, in the current directory; "-" for stdout)')
    .option('--epoch <n>', 'from this attempt (default: the latest that has it)')
    .action(async (jobId: string, name: string, opts: { output?: string; epoch?: string }) => (await import('./artifacts-run.js')).getArtifact(coordinator(), security(), jobId, name, opts));
  return command;
}

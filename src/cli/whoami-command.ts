/** `gigafactory whoami`'s help; the call is in whoami-run.ts, loaded when it runs. */
import { Command } from 'commander';
import type { ClientSecurity } from './connection-options.js';

export function whoamiCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  return new Command('whoami')
    .description("show who the coordinator takes you for: your API key's name and role")
    .action(async () => (await import('./whoami-run.js')).whoami(coordinator, security, json));
}

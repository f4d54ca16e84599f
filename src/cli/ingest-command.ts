/**
 * `gigafactory ingest FILE`'s flags; what it does is in ingest-run.ts, loaded when it runs.
 */
import { Command } from 'commander';
import type { ClientSecurity } from './connection-options.js';

export function ingestCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  return new Command('ingest')
    .description('ingest a tracker manifest (YAML): create or update one job per item')
    .argument('<file>', 'the manifest (see docs/tracker.md)')
    .option('--dry-run', 'report what would be created, updated or skipped; store nothing', false)
    .action(async (file: string, opts: { dryRun: boolean }) => (await import('./ingest-run.js')).ingest(coordinator, security, json, file, opts));
}

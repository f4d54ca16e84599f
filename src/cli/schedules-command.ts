/**
 * `gigafactory schedules`: job templates fired on a cron schedule. Flags only; the actions are in
 * schedules-run.ts, imported when one runs, so `gigafactory --help` loads no protobuf.
 */
import { Command, Option } from 'commander';
import type { ClientSecurity } from './connection-options.js';
import { integer, jobOptions } from './submit-flags.js';

const OVERLAP_NAMES = ['skip', 'queue-one', 'allow', 'cancel-running'] as const;
const CATCH_UP_NAMES = ['skip', 'once', 'all'] as const;
export type OverlapName = (typeof OVERLAP_NAMES)[number];
export type CatchUpName = (typeof CATCH_UP_NAMES)[number];

export function schedulesCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  const actions = async () => (await import('./schedules-run.js')).scheduleActions({ coordinator, security, json });
  const schedules = new Command('schedules').description('job templates fired on a cron schedule');
  schedules
    .command('list')
    .description('every schedule, oldest first')
    .option('--product <id>', 'only this product')
    .action(async (opts: { product?: string }) => (await actions()).list(opts));
  schedules
    .command('get')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => (await actions()).get(scheduleId));
  jobOptions(
    schedules
      .command('create')
      .description('create a schedule: gigafactory schedules create --cron "0 3 * * *" [options] -- CMD ARGS...')
      .argument('<command...>', 'the program each run starts and its arguments (put them after --)')
      .requiredOption('--cron <expr>', 'five fields (minute hour day month weekday) or six with seconds first, e.g. "0 3 * * 1-5"')
      .option('--tz <zone>', 'IANA time zone the cron expression is read in', 'UTC')
      .option('--name <text>', 'a name for people (defaults to the title)')
      .addOption(new Option('--overlap <policy>', 'when a slot comes while the last run is unfinished').choices(OVERLAP_NAMES).default('skip'))
      .addOption(new Option('--catch-up <policy>', 'slots missed while no coordinator ran: skip them, run the latest once, or run all').choices(CATCH_UP_NAMES).default('skip'))
      .option('--catch-up-limit <n>', 'with --catch-up all: at most this many missed slots run (default 10)', integer('--catch-up-limit'))
      .option('--paused', 'create it paused', false),
    { delayed: false },
  ).action(async (command: string[], opts) => (await actions()).create(command, opts));
  schedules
    .command('pause')
    .description('stop a schedule firing')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => (await actions()).pause(scheduleId));
  schedules
    .command('resume')
    .description('let a paused schedule fire again from the next slot')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => (await actions()).resume(scheduleId));
  schedules
    .command('delete')
    .description('remove a schedule (jobs it fired stay)')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => (await actions()).remove(scheduleId));
  schedules
    .command('trigger')
    .description('fire one run now, outside the cron slots')
    .argument('<schedule-id>')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first run instead of firing again')
    .action(async (scheduleId: string, opts: { idempotencyKey?: string }) => (await actions()).trigger(scheduleId, opts));
  return schedules;
}

/**
 * `gigafactory schedules list|get|create|pause|resume|delete|trigger`: job templates fired at the
 * slots of a cron expression, through ScheduleService (list/get: viewer; the rest: operator).
 */
import { toJson } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Command, Option } from 'commander';
import { JobSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { ScheduleCatchUpPolicy, ScheduleOverlapPolicy, ScheduleSchema, type Schedule } from '../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import { scheduleClient } from './client.js';
import type { ClientSecurity } from './tls.js';
import { print } from './format.js';
import { integer, jobOptions, jobRequestFromFlags } from './submit-flags.js';

const OVERLAP = { skip: ScheduleOverlapPolicy.SKIP, 'queue-one': ScheduleOverlapPolicy.QUEUE_ONE, allow: ScheduleOverlapPolicy.ALLOW, 'cancel-running': ScheduleOverlapPolicy.CANCEL_RUNNING } as const;
const CATCH_UP = { skip: ScheduleCatchUpPolicy.SKIP_MISSED, once: ScheduleCatchUpPolicy.RUN_ONCE, all: ScheduleCatchUpPolicy.RUN_ALL } as const;

const when = (t: Timestamp | undefined): string => (t ? timestampDate(t).toISOString() : '-');

/** One schedule per line: id, state, cron and zone, next slot, last run, name. */
function summary(s: Schedule): string {
  return [s.scheduleId, s.paused ? 'paused' : 'active', `"${s.cron}" ${s.timeZone}`, `next ${when(s.nextFireTime)}`, `last ${s.lastJobId || '-'}`, s.name].join('  ');
}

function details(s: Schedule): string {
  const lines = [
    `${s.scheduleId}  ${s.name}`,
    `  product   ${s.template?.productId ?? ''}   command ${s.template?.command.join(' ') ?? ''}`,
    `  cron      "${s.cron}" in ${s.timeZone}  (overlap ${ScheduleOverlapPolicy[s.overlapPolicy].toLowerCase()}, catch-up ${ScheduleCatchUpPolicy[s.catchUpPolicy].toLowerCase()}${s.catchUpPolicy === ScheduleCatchUpPolicy.RUN_ALL ? ` up to ${s.catchUpLimit}` : ''})`,
    `  state     ${s.paused ? 'paused' : 'active'}   next ${when(s.nextFireTime)}   last slot ${when(s.lastSlotTime)}   last run ${s.lastJobId || '-'}`,
  ];
  if (s.pendingSlotTime) lines.push(`  waiting   the slot at ${when(s.pendingSlotTime)} runs once the last run finishes`);
  if (s.reason) lines.push(`  note      ${s.reason}`);
  return lines.join('\n');
}

export function schedulesCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  const client = () => scheduleClient(coordinator(), security());
  const show = (s: Schedule | undefined): void => (json() ? print(toJson(ScheduleSchema, s!)) : print(details(s!)));
  const schedules = new Command('schedules').description('job templates fired on a cron schedule');
  schedules
    .command('list')
    .description('every schedule, oldest first')
    .option('--product <id>', 'only this product')
    .action(async (opts: { product?: string }) => {
      const res = await client().listSchedules({ productId: opts.product ?? '' });
      if (json()) return print(res.schedules.map((s) => toJson(ScheduleSchema, s)));
      print(res.schedules.length ? res.schedules.map(summary).join('\n') : 'no schedules');
    });
  schedules
    .command('get')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => show((await client().getSchedule({ scheduleId })).schedule));
  jobOptions(
    schedules
      .command('create')
      .description('create a schedule: gigafactory schedules create --cron "0 3 * * *" [options] -- CMD ARGS...')
      .argument('<command...>', 'the program each run starts and its arguments (put them after --)')
      .requiredOption('--cron <expr>', 'five fields (minute hour day month weekday) or six with seconds first, e.g. "0 3 * * 1-5"')
      .option('--tz <zone>', 'IANA time zone the cron expression is read in', 'UTC')
      .option('--name <text>', 'a name for people (defaults to the title)')
      .addOption(new Option('--overlap <policy>', 'when a slot comes while the last run is unfinished').choices(Object.keys(OVERLAP)).default('skip'))
      .addOption(new Option('--catch-up <policy>', 'slots missed while no coordinator ran: skip them, run the latest once, or run all').choices(Object.keys(CATCH_UP)).default('skip'))
      .option('--catch-up-limit <n>', 'with --catch-up all: at most this many missed slots run (default 10)', integer('--catch-up-limit'))
      .option('--paused', 'create it paused', false),
    { delayed: false },
  ).action(async (command: string[], opts) => {
    const res = await client().createSchedule({
      name: opts.name ?? '',
      template: jobRequestFromFlags(command, opts),
      cron: opts.cron,
      timeZone: opts.tz,
      overlapPolicy: OVERLAP[opts.overlap as keyof typeof OVERLAP],
      catchUpPolicy: CATCH_UP[opts.catchUp as keyof typeof CATCH_UP],
      catchUpLimit: opts.catchUpLimit ?? 0,
      paused: Boolean(opts.paused),
    });
    show(res.schedule);
  });
  for (const [name, description] of [
    ['pause', 'stop a schedule firing'],
    ['resume', 'let a paused schedule fire again from the next slot'],
  ] as const) {
    schedules
      .command(name)
      .description(description)
      .argument('<schedule-id>')
      .action(async (scheduleId: string) => show((name === 'pause' ? await client().pauseSchedule({ scheduleId }) : await client().resumeSchedule({ scheduleId })).schedule));
  }
  schedules
    .command('delete')
    .description('remove a schedule (jobs it fired stay)')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => {
      await client().deleteSchedule({ scheduleId });
      print(json() ? { deleted: scheduleId } : `deleted ${scheduleId}`);
    });
  schedules
    .command('trigger')
    .description('fire one run now, outside the cron slots')
    .argument('<schedule-id>')
    .action(async (scheduleId: string) => {
      const { job } = await client().triggerSchedule({ scheduleId });
      print(json() ? toJson(JobSchema, job!) : `submitted ${job!.id}`);
    });
  return schedules;
}

/**
 * What `gigafactory schedules` does once parsed (its flags are in schedules-command.ts). Loaded only
 * when one of its commands runs: this is where protobuf and the gRPC client come in.
 */
import { toJson } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { JobSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { ScheduleCatchUpPolicy, ScheduleOverlapPolicy, ScheduleSchema, type Schedule } from '../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { serviceClient } from './client.js';
import type { ClientSecurity } from './connection-options.js';
import { print } from './format-text.js';
import { jobRequestFromFlags } from './job-request.js';
import type { CatchUpName, OverlapName } from './schedules-command.js';

const OVERLAP: Record<OverlapName, ScheduleOverlapPolicy> = { skip: ScheduleOverlapPolicy.SKIP, 'queue-one': ScheduleOverlapPolicy.QUEUE_ONE, allow: ScheduleOverlapPolicy.ALLOW, 'cancel-running': ScheduleOverlapPolicy.CANCEL_RUNNING };
const CATCH_UP: Record<CatchUpName, ScheduleCatchUpPolicy> = { skip: ScheduleCatchUpPolicy.SKIP_MISSED, once: ScheduleCatchUpPolicy.RUN_ONCE, all: ScheduleCatchUpPolicy.RUN_ALL };

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

export interface ScheduleCli {
  coordinator(): string;
  security(): ClientSecurity;
  json(): boolean;
}

export function scheduleActions(cli: ScheduleCli) {
  const client = () => serviceClient(ScheduleService, cli.coordinator(), cli.security());
  const show = (s: Schedule | undefined): void => (cli.json() ? print(toJson(ScheduleSchema, s!)) : print(details(s!)));
  return {
    async list(opts: { product?: string }): Promise<void> {
      const res = await client().listSchedules({ productId: opts.product ?? '' });
      if (cli.json()) return print(res.schedules.map((s) => toJson(ScheduleSchema, s)));
      print(res.schedules.length ? res.schedules.map(summary).join('\n') : 'no schedules');
    },
    async get(scheduleId: string): Promise<void> {
      show((await client().getSchedule({ scheduleId })).schedule);
    },
    async create(command: string[], opts: Record<string, unknown>): Promise<void> {
      const res = await client().createSchedule({
        name: (opts.name as string | undefined) ?? '',
        template: jobRequestFromFlags(command, opts),
        cron: opts.cron as string,
        timeZone: opts.tz as string,
        overlapPolicy: OVERLAP[opts.overlap as OverlapName],
        catchUpPolicy: CATCH_UP[opts.catchUp as CatchUpName],
        catchUpLimit: (opts.catchUpLimit as number | undefined) ?? 0,
        paused: Boolean(opts.paused),
      });
      show(res.schedule);
    },
    async pause(scheduleId: string): Promise<void> {
      show((await client().pauseSchedule({ scheduleId })).schedule);
    },
    async resume(scheduleId: string): Promise<void> {
      show((await client().resumeSchedule({ scheduleId })).schedule);
    },
    async remove(scheduleId: string): Promise<void> {
      await client().deleteSchedule({ scheduleId });
      print(cli.json() ? { deleted: scheduleId } : `deleted ${scheduleId}`);
    },
    async trigger(scheduleId: string, opts: { idempotencyKey?: string }): Promise<void> {
      const { job } = await client().triggerSchedule({ scheduleId, idempotencyKey: opts.idempotencyKey ?? '' });
      print(cli.json() ? toJson(JobSchema, job!) : `submitted ${job!.id}`);
    },
  };
}

/**
 * ScheduleService handlers: wire ↔ domain for schedules, mounted on both listeners. The rules live
 * in domain/schedule.ts and the ticker in coordinator/schedules.ts.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  ScheduleCatchUpPolicy,
  ScheduleOverlapPolicy,
  ScheduleSchema,
  type Schedule,
} from '../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import {
  CreateScheduleResponseSchema,
  DeleteScheduleResponseSchema,
  GetScheduleResponseSchema,
  ListSchedulesResponseSchema,
  PauseScheduleResponseSchema,
  ResumeScheduleResponseSchema,
  ScheduleService,
  TriggerScheduleResponseSchema,
} from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { forItem, invalidArgument } from '../domain/errors.js';
import { nextSlot, type CatchUpPolicy, type OverlapPolicy, type ScheduleRecord } from '../domain/schedule.js';
import type { Schedules } from '../coordinator/schedules.js';
import type { JobRecord } from '../domain/job.js';
import type { Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { actorOf } from './actor.js';
import { jobSpecFromRequest, jobSpecToRequest } from './submit-request.js';
import { seesSecretEnv } from './principal.js';
import { hideSecretEnv } from '../domain/job-spec.js';

const OVERLAP_TO_WIRE: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  queue_one: ScheduleOverlapPolicy.QUEUE_ONE,
  allow: ScheduleOverlapPolicy.ALLOW,
  cancel_running: ScheduleOverlapPolicy.CANCEL_RUNNING,
};
const CATCH_UP_TO_WIRE: Record<CatchUpPolicy, ScheduleCatchUpPolicy> = {
  skip_missed: ScheduleCatchUpPolicy.SKIP_MISSED,
  run_once: ScheduleCatchUpPolicy.RUN_ONCE,
  run_all: ScheduleCatchUpPolicy.RUN_ALL,
};

/** UNSPECIFIED means the default; an unknown number is refused naming the field. */
function fromWire<D extends string, W extends number>(table: Record<D, W>, value: W, fallback: D, field: string, known: string): D {
  if (value === 0) return fallback;
  const found = (Object.keys(table) as D[]).find((k) => table[k] === value);
  if (!found) throw invalidArgument(`${field} ${value} is not a known ${known} value`);
  return found;
}

/** The schedule as `ctx`'s caller may read it: a viewer gets its template without secret-named env values. */
export function scheduleToWire(s: ScheduleRecord, ctx: Pick<HandlerContext, 'values'>): Schedule {
  const next = s.paused ? null : nextSlot(s, s.cursor);
  const template = seesSecretEnv(ctx) ? s.template : { ...s.template, env: hideSecretEnv(s.template.env) };
  return create(ScheduleSchema, {
    scheduleId: s.id,
    name: s.name,
    template: jobSpecToRequest(template),
    cron: s.cron,
    timeZone: s.timeZone,
    overlapPolicy: OVERLAP_TO_WIRE[s.overlap],
    catchUpPolicy: CATCH_UP_TO_WIRE[s.catchUp],
    catchUpLimit: s.catchUpLimit,
    paused: s.paused,
    nextFireTime: next !== null ? timestampFromMs(next) : undefined,
    lastSlotTime: s.lastSlot !== null ? timestampFromMs(s.lastSlot) : undefined,
    lastJobId: s.lastJobId ?? '',
    pendingSlotTime: s.pendingSlot !== null ? timestampFromMs(s.pendingSlot) : undefined,
    reason: s.reason,
    createTime: timestampFromMs(s.createdAt),
    updateTime: timestampFromMs(s.updatedAt),
    createdBy: s.createdBy,
    revision: BigInt(s.revision),
  });
}

function requireId(id: string): string {
  if (!id) throw invalidArgument('schedule_id is required');
  return id;
}

export function scheduleServiceImpl(schedules: Schedules, toWireJob: (job: JobRecord) => Job): ServiceImpl<typeof ScheduleService> {
  return {
    async createSchedule(req, ctx) {
      if (!req.template) throw invalidArgument('template is required: the job each run submits');
      const template = forItem('template', () => jobSpecFromRequest(req.template!));
      const schedule = await schedules.create(
        {
          name: req.name,
          template,
          cron: req.cron,
          timeZone: req.timeZone,
          overlap: fromWire(OVERLAP_TO_WIRE, req.overlapPolicy, 'skip', 'overlap_policy', 'SCHEDULE_OVERLAP_POLICY_*'),
          catchUp: fromWire(CATCH_UP_TO_WIRE, req.catchUpPolicy, 'skip_missed', 'catch_up_policy', 'SCHEDULE_CATCH_UP_POLICY_*'),
          catchUpLimit: req.catchUpLimit,
          paused: req.paused,
        },
        actorOf(ctx),
      );
      return create(CreateScheduleResponseSchema, { schedule: scheduleToWire(schedule, ctx) });
    },

    async getSchedule(req, ctx) {
      return create(GetScheduleResponseSchema, { schedule: scheduleToWire(await schedules.get(requireId(req.scheduleId)), ctx) });
    },

    async listSchedules(req, ctx) {
      const list = await schedules.list(req.productId || undefined);
      return create(ListSchedulesResponseSchema, { schedules: list.map((s) => scheduleToWire(s, ctx)) });
    },

    async pauseSchedule(req, ctx) {
      return create(PauseScheduleResponseSchema, { schedule: scheduleToWire(await schedules.pause(requireId(req.scheduleId)), ctx) });
    },

    async resumeSchedule(req, ctx) {
      return create(ResumeScheduleResponseSchema, { schedule: scheduleToWire(await schedules.resume(requireId(req.scheduleId)), ctx) });
    },

    async deleteSchedule(req) {
      await schedules.delete(requireId(req.scheduleId));
      return create(DeleteScheduleResponseSchema, {});
    },

    async triggerSchedule(req, ctx) {
      const job = await schedules.trigger(requireId(req.scheduleId), actorOf(ctx), req.idempotencyKey);
      return create(TriggerScheduleResponseSchema, { job: toWireJob(job) });
    },
  };
}

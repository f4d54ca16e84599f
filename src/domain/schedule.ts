/**
 * Schedules: a job template fired at the slots of a cron expression read in an IANA time zone
 * (croner does the calendar, DST included). Pure: `decide` takes the stored schedule, the time and
 * whether its last run is unfinished, and says which slots to fire, whether to cancel the last run,
 * and the schedule to compare-and-set. Each run's idempotency key is derived from the schedule and
 * its slot (runKey), so deciding twice (a restart, a second replica) never fires one slot twice.
 */
import { Cron } from 'croner';
import { forItem, invalidArgument } from './errors.js';
import type { JobSpec } from './job.js';
import { validateJobSpec } from './job-spec.js';

export const OVERLAP_POLICIES = ['skip', 'queue_one', 'allow', 'cancel_running'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const CATCH_UP_POLICIES = ['skip_missed', 'run_once', 'run_all'] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

export const SCHEDULE_LIMITS = {
  defaultCatchUpLimit: 10,
  maxCatchUpLimit: 100,
  maxNameLength: 200,
  maxCronLength: 200,
  /** A slot older than this when first seen was missed (the coordinator was down or behind). */
  misfireGraceMs: 60_000,
} as const;

export interface ScheduleSpec {
  name: string;
  /** The job each run submits; its productId is the schedule's product. */
  template: JobSpec;
  cron: string;
  /** IANA zone; empty means UTC. */
  timeZone: string;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  /** run_all only: at most this many missed slots fire. */
  catchUpLimit: number;
  paused: boolean;
}

export interface ScheduleRecord extends ScheduleSpec {
  id: string;
  productId: string;
  /** Slots strictly after this time are due once they pass: the last slot handled, or creation/resume time. */
  cursor: number;
  /** The latest slot handled (fired, skipped or dropped); null before the first. */
  lastSlot: number | null;
  /** The job of the latest run; null before the first. */
  lastJobId: string | null;
  /** queue_one: the slot waiting for the last run to finish. */
  pendingSlot: number | null;
  /** What the schedule last did that is not obvious (a skipped slot and why). */
  reason: string;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  /** Compare-and-set token: +1 on every change. */
  revision: number;
}

/** Checks a schedule as submitted and fills its defaults; INVALID_ARGUMENT names the field. */
export function validateScheduleSpec(input: ScheduleSpec): ScheduleSpec {
  if (input.name.length > SCHEDULE_LIMITS.maxNameLength) throw invalidArgument(`name is ${input.name.length} characters; at most ${SCHEDULE_LIMITS.maxNameLength}`);
  const template = forItem('template', () => validateTemplate(input.template));
  const timeZone = input.timeZone || 'UTC';
  validateTimeZone(timeZone);
  cronOf(input.cron, timeZone);
  if (!(OVERLAP_POLICIES as readonly string[]).includes(input.overlap)) throw invalidArgument(`overlap_policy "${input.overlap}" must be one of ${OVERLAP_POLICIES.join(', ')}`);
  if (!(CATCH_UP_POLICIES as readonly string[]).includes(input.catchUp)) throw invalidArgument(`catch_up_policy "${input.catchUp}" must be one of ${CATCH_UP_POLICIES.join(', ')}`);
  const catchUpLimit = input.catchUpLimit === 0 ? SCHEDULE_LIMITS.defaultCatchUpLimit : input.catchUpLimit;
  if (!Number.isInteger(catchUpLimit) || catchUpLimit < 1 || catchUpLimit > SCHEDULE_LIMITS.maxCatchUpLimit) {
    throw invalidArgument(`catch_up_limit ${input.catchUpLimit} must be from 1 to ${SCHEDULE_LIMITS.maxCatchUpLimit} (0 means ${SCHEDULE_LIMITS.defaultCatchUpLimit})`);
  }
  return { ...input, template, timeZone, catchUpLimit, name: input.name || template.title };
}

/** A run's job is the template with a derived key: the fields that would fight that are refused. */
function validateTemplate(template: JobSpec): JobSpec {
  if (template.idempotencyKey) throw invalidArgument('idempotency_key must be empty: each run gets a key derived from the schedule and its slot');
  if (template.runAt !== undefined || template.delayMs !== undefined) throw invalidArgument('run_at and delay must be unset: the schedule decides when runs start');
  if (template.dependsOn?.length) throw invalidArgument('depends_on must be empty: a run cannot wait for fixed jobs');
  if (template.inputs?.length) throw invalidArgument('inputs must be empty: a run has no dependencies to fetch artifacts from');
  return validateJobSpec(template);
}

function validateTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw invalidArgument(`time_zone "${timeZone.slice(0, 60)}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  }
}

/** The cron expression as croner reads it (paused: it never runs anything itself). */
function cronOf(cron: string, timeZone: string): Cron {
  if (!cron.trim()) throw invalidArgument('cron is required, e.g. "0 3 * * *" (03:00 every day)');
  if (cron.length > SCHEDULE_LIMITS.maxCronLength) throw invalidArgument(`cron is ${cron.length} characters; at most ${SCHEDULE_LIMITS.maxCronLength}`);
  try {
    return new Cron(cron, { timezone: timeZone, paused: true });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    throw invalidArgument(`cron "${cron.slice(0, 60)}" is not a valid cron expression: ${why}`);
  }
}

/** The first slot strictly after `after`, or null when the expression has none. */
export function nextSlot(schedule: Pick<ScheduleSpec, 'cron' | 'timeZone'>, after: number): number | null {
  return cronOf(schedule.cron, schedule.timeZone).nextRun(new Date(after))?.getTime() ?? null;
}

/** The idempotency key of the run for `slot`: the same on every replica and after any restart. */
export function runKey(scheduleId: string, slot: number): string {
  return `schedule:${scheduleId}:${new Date(slot).toISOString()}`;
}

/** A caller's trigger key, short enough that the derived job key stays within the job's limit. */
const MAX_TRIGGER_KEY_LENGTH = 200;

/**
 * The key of an operator's out-of-slot run (TriggerSchedule): the caller's own key when it gave one,
 * so a retried call returns the first call's job, else one per moment.
 */
export function triggerKey(scheduleId: string, now: number, callerKey = ''): string {
  if (callerKey.length > MAX_TRIGGER_KEY_LENGTH) throw invalidArgument(`idempotency_key is ${callerKey.length} characters; at most ${MAX_TRIGGER_KEY_LENGTH}`);
  return callerKey ? `schedule:${scheduleId}:trigger-key:${callerKey}` : `schedule:${scheduleId}:trigger:${new Date(now).toISOString()}`;
}

/** The job a run of `schedule` submits for `slot` (its key makes a second submit return the first job). */
export function runSpec(schedule: ScheduleRecord, key: string): JobSpec {
  return { ...schedule.template, idempotencyKey: key, scheduleId: schedule.id };
}

/**
 * The slots due at `now` (after the cursor, not after now) under the catch-up policy, oldest first,
 * and the latest due slot (what the cursor moves to), whether or not it fires. Bounded: croner
 * walks back from now at most catchUpLimit slots, however long the coordinator was down.
 */
export function dueSlots(schedule: ScheduleRecord, now: number): { fire: number[]; latest: number | null; missed: number } {
  const cron = cronOf(schedule.cron, schedule.timeZone);
  const back = schedule.catchUp === 'run_all' ? schedule.catchUpLimit : 1;
  // previousRuns includes a slot at `now` itself; +1 ms so a slot exactly at now counts as due.
  const recent = cron
    .previousRuns(back, new Date(now + 1))
    .map((d) => d.getTime())
    .filter((slot) => slot > schedule.cursor && slot <= now)
    .reverse();
  const latest = recent.at(-1) ?? null;
  if (latest === null) return { fire: [], latest: null, missed: 0 };
  const onTime = now - latest <= SCHEDULE_LIMITS.misfireGraceMs;
  switch (schedule.catchUp) {
    case 'skip_missed':
      return { fire: onTime ? [latest] : [], latest, missed: onTime ? 0 : 1 };
    case 'run_once':
      return { fire: [latest], latest, missed: 0 };
    case 'run_all':
      return { fire: recent, latest, missed: 0 };
  }
}

export interface ScheduleDecision {
  /** Slots to submit a run for, oldest first. */
  fire: number[];
  /** cancel_running: cancel the last run before firing. */
  cancelLast: boolean;
  /** The schedule to compare-and-set; null when nothing changed. */
  next: ScheduleRecord | null;
}

/**
 * What the schedule does at `now`. `lastRunActive` says whether its last run is unfinished (queued,
 * blocked, leased or running); only the overlap policy reads it. Under skip, queue_one and
 * cancel_running at most one run starts per decision, so catch-up slots never overlap each other.
 */
export function decide(schedule: ScheduleRecord, now: number, lastRunActive: boolean): ScheduleDecision {
  if (schedule.paused) return { fire: [], cancelLast: false, next: null };
  const due = dueSlots(schedule, now);
  const candidates = [...(schedule.pendingSlot !== null ? [schedule.pendingSlot] : []), ...due.fire];
  const cursor = Math.max(schedule.cursor, due.latest ?? schedule.cursor);
  const lastSlot = due.latest ?? schedule.lastSlot;
  const missedNote = due.missed > 0 ? `missed the slot at ${iso(due.latest!)} (more than ${SCHEDULE_LIMITS.misfireGraceMs / 1000}s late; catch-up policy skip_missed)` : '';
  let fire: number[] = [];
  let pendingSlot: number | null = null;
  let cancelLast = false;
  let reason = missedNote;
  if (candidates.length > 0) {
    switch (schedule.overlap) {
      case 'allow':
        fire = candidates;
        break;
      case 'skip':
        if (lastRunActive) reason = `skipped the slot at ${iso(candidates.at(-1)!)}: run ${schedule.lastJobId} is unfinished (overlap policy skip)`;
        else fire = [candidates.at(-1)!];
        break;
      case 'queue_one':
        if (lastRunActive) {
          pendingSlot = candidates[0]!;
          reason = `the slot at ${iso(pendingSlot)} waits for run ${schedule.lastJobId} to finish (overlap policy queue_one)`;
        } else {
          fire = [candidates[0]!];
          pendingSlot = candidates[1] ?? null;
        }
        break;
      case 'cancel_running':
        cancelLast = lastRunActive;
        fire = [candidates.at(-1)!];
        if (lastRunActive) reason = `cancelled run ${schedule.lastJobId} for the slot at ${iso(fire[0]!)} (overlap policy cancel_running)`;
        break;
    }
  }
  const unchanged = cursor === schedule.cursor && pendingSlot === schedule.pendingSlot && fire.length === 0 && (reason === '' || reason === schedule.reason);
  if (unchanged) return { fire: [], cancelLast: false, next: null };
  const next: ScheduleRecord = { ...schedule, cursor, lastSlot, pendingSlot, reason: reason || (fire.length > 0 ? '' : schedule.reason), updatedAt: now, revision: schedule.revision + 1 };
  return { fire, cancelLast, next };
}

/** Records the job a run submitted (the latest fired one), on the record `decide` returned. */
export function withLastRun(schedule: ScheduleRecord, jobId: string): ScheduleRecord {
  return { ...schedule, lastJobId: jobId };
}

/** Paused: nothing fires. Null when it already is. */
export function pause(schedule: ScheduleRecord, now: number): ScheduleRecord | null {
  if (schedule.paused) return null;
  return { ...schedule, paused: true, pendingSlot: null, updatedAt: now, revision: schedule.revision + 1 };
}

/** Running again from now: slots that came due while paused never fire. Null when it is not paused. */
export function resume(schedule: ScheduleRecord, now: number): ScheduleRecord | null {
  if (!schedule.paused) return null;
  return { ...schedule, paused: false, cursor: Math.max(schedule.cursor, now), reason: '', updatedAt: now, revision: schedule.revision + 1 };
}

/** A new schedule: its first slot is the first one after `now`. */
export function newSchedule(spec: ScheduleSpec, id: string, now: number, actor: string): ScheduleRecord {
  return {
    ...spec,
    id,
    productId: spec.template.productId,
    cursor: now,
    lastSlot: null,
    lastJobId: null,
    pendingSlot: null,
    reason: '',
    createdAt: now,
    updatedAt: now,
    createdBy: actor,
    revision: 1,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Schedules: the commands ScheduleService calls (create, read, pause, resume, delete, trigger) and
 * the ticker that fires due slots. Each tick reads every schedule, lets domain/schedule.ts decide,
 * submits the runs (idempotency key per slot, so a repeat returns the first job) and then
 * compare-and-sets the schedule's cursor. A crash between the two re-decides the same slot and
 * gets the same job back; a replica that loses the compare-and-set re-reads and finds nothing due.
 */
import { DomainError, notFound } from '../domain/errors.js';
import { isFinal, type JobRecord } from '../domain/job.js';
import {
  decide,
  newSchedule,
  pause,
  resume,
  runKey,
  runSpec,
  triggerKey,
  validateScheduleSpec,
  withLastRun,
  type ScheduleRecord,
  type ScheduleSpec,
} from '../domain/schedule.js';
import type { Logger } from '../logging.js';
import { RevisionConflict } from '../store/job-store.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import type { Clock } from './clock.js';
import { newId } from './ids.js';
import type { Jobs } from './jobs.js';

/** How often a compare-and-set on one schedule may lose before the call gives up with CONFLICT. */
const MAX_CAS_ATTEMPTS = 8;

export class Schedules {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly store: ScheduleStore,
    private readonly jobs: Jobs,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly tickMs: number,
  ) {}

  async create(input: ScheduleSpec, actor: string): Promise<ScheduleRecord> {
    const spec = validateScheduleSpec(input);
    const now = this.clock.now();
    const schedule = newSchedule(spec, newId('sch', now), now, actor);
    await this.store.insertSchedule(schedule);
    return schedule;
  }

  async get(id: string): Promise<ScheduleRecord> {
    const schedule = await this.store.getSchedule(id);
    if (!schedule) throw notFound(`schedule ${id} not found`);
    return schedule;
  }

  async list(productId?: string): Promise<ScheduleRecord[]> {
    const all = await this.store.listSchedules();
    return productId ? all.filter((s) => s.productId === productId) : all;
  }

  pause(id: string): Promise<ScheduleRecord> {
    return this.mutate(id, (s) => pause(s, this.clock.now()));
  }

  resume(id: string): Promise<ScheduleRecord> {
    return this.mutate(id, (s) => resume(s, this.clock.now()));
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteSchedule(id))) throw notFound(`schedule ${id} not found`);
  }

  /**
   * One run now, outside the slots and whatever the overlap policy; it becomes the last run. With the
   * caller's idempotency key a retried call returns the first call's job.
   */
  async trigger(id: string, actor: string, idempotencyKey = ''): Promise<JobRecord> {
    const key = triggerKey(id, this.clock.now(), idempotencyKey);
    const schedule = await this.get(id);
    const { job } = await this.jobs.submit(runSpec(schedule, key), actor);
    await this.mutate(id, (s) => ({ ...withLastRun(s, job.id), updatedAt: this.clock.now(), revision: s.revision + 1 }));
    return job;
  }

  /** Starts the ticker (the fleet starts and stops it with itself). */
  start(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every schedule; overlapping calls share the pass in flight. Tests call it with a fake clock. */
  tick(): Promise<void> {
    this.ticking ??= this.tickAll().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async tickAll(): Promise<void> {
    let schedules: ScheduleRecord[];
    try {
      schedules = await this.store.listSchedules();
    } catch (err) {
      this.log.error({ err }, 'listing schedules failed');
      return;
    }
    for (const schedule of schedules) {
      if (schedule.paused) continue;
      await this.fireDue(schedule).catch((err: unknown) => this.log.error({ err, scheduleId: schedule.id }, 'schedule tick failed'));
    }
  }

  /** Fires what is due for one schedule, re-deciding on the stored record after a lost compare-and-set. */
  private async fireDue(first: ScheduleRecord): Promise<void> {
    let schedule: ScheduleRecord | null = first;
    for (let attempt = 1; schedule && attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      // With no slot due or waiting the decision does not depend on the last run: then it is not
      // read (otherwise every tick would read one job per schedule from the store for nothing).
      if (decide(schedule, now, false).next === null) return;
      const last = schedule.lastJobId && schedule.overlap !== 'allow' ? await this.jobs.find(schedule.lastJobId) : null;
      const decision = decide(schedule, now, last !== null && !isFinal(last.stage) && last.stage !== 'awaiting_review');
      if (!decision.next) return;
      if (decision.cancelLast && last) await this.cancelRun(last, schedule);
      let next = decision.next;
      for (const slot of decision.fire) {
        const { job, created } = await this.jobs.submit(runSpec(schedule, runKey(schedule.id, slot)), `schedule:${schedule.id}`);
        next = withLastRun(next, job.id);
        if (created) this.log.info({ scheduleId: schedule.id, slot: new Date(slot).toISOString(), jobId: job.id }, 'schedule fired');
      }
      try {
        await this.store.replaceSchedule(next);
        return;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
        schedule = await this.store.getSchedule(schedule.id); // another replica (or a pause) won: decide again
      }
    }
  }

  private async cancelRun(job: JobRecord, schedule: ScheduleRecord): Promise<void> {
    await this.jobs.cancel(job.id, `schedule:${schedule.id}`, 'cancelled for the next run of its schedule (overlap policy cancel_running)').catch((err: unknown) => {
      if (!(err instanceof DomainError)) throw err; // it ended meanwhile
    });
  }

  private async mutate(id: string, change: (s: ScheduleRecord) => ScheduleRecord | null): Promise<ScheduleRecord> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(id);
      const next = change(current);
      if (!next) return current;
      try {
        await this.store.replaceSchedule(next);
        return next;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
        if (attempt >= MAX_CAS_ATTEMPTS) throw new DomainError('conflict', `schedule ${id} is changing too often to update; try again`);
      }
    }
  }
}

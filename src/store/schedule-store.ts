/**
 * Schedules (domain/schedule.ts): one small record each, replaced with compare-and-set on its
 * revision like a job, so the "last slot handled" cursor moves once however many replicas tick.
 */
import type { ScheduleRecord } from '../domain/schedule.js';

export interface ScheduleStore {
  /** Stores a new schedule (revision 1); its id is new, so this never overwrites one. */
  insertSchedule(schedule: ScheduleRecord): Promise<void>;
  getSchedule(id: string): Promise<ScheduleRecord | null>;
  /** Every schedule, oldest first (createdAt, then id). */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Compare-and-set on `next.revision - 1`; throws RevisionConflict when it changed or went. */
  replaceSchedule(next: ScheduleRecord): Promise<void>;
  /** Removes the schedule; false when there was none. */
  deleteSchedule(id: string): Promise<boolean>;
}

/** Oldest first: the order every provider lists in. */
export function scheduleOrder(a: ScheduleRecord, b: ScheduleRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Schedules in memory, with the same compare-and-set as the SQLite provider (tests, dev). */
import type { ScheduleRecord } from '../../domain/schedule.js';
import { RevisionConflict } from '../job-store.js';
import { scheduleOrder, type ScheduleStore } from '../schedule-store.js';

export class MemoryScheduleStore implements ScheduleStore {
  readonly #byId = new Map<string, string>();

  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    if (this.#byId.has(schedule.id)) throw new RevisionConflict(schedule.id, 0);
    this.#byId.set(schedule.id, JSON.stringify(schedule));
  }

  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    const doc = this.#byId.get(id);
    return doc ? (JSON.parse(doc) as ScheduleRecord) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return [...this.#byId.values()].map((doc) => JSON.parse(doc) as ScheduleRecord).sort(scheduleOrder);
  }

  async replaceSchedule(next: ScheduleRecord): Promise<void> {
    // Checked and written in one synchronous step, so two racing writers cannot both pass the check.
    const current = await this.getSchedule(next.id);
    if (current?.revision !== next.revision - 1) throw new RevisionConflict(next.id, next.revision - 1);
    this.#byId.set(next.id, JSON.stringify(next));
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return this.#byId.delete(id);
  }
}

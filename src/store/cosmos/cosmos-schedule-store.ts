/**
 * Schedules in Cosmos DB, shared by every replica: one document per schedule in the control
 * container (control.ts), `schedule:<id>`, replaced with If-Match on the etag of the version whose
 * revision was checked, so the slot cursor is a compare-and-set however many replicas tick.
 */
import type { ScheduleRecord } from '../../domain/schedule.js';
import { RevisionConflict } from '../job-store.js';
import { scheduleOrder, type ScheduleStore } from '../schedule-store.js';
import { ControlStore, type ControlDoc } from './control.js';
import { docId } from './documents.js';

interface ScheduleDoc extends ControlDoc {
  type: 'schedule';
  record: ScheduleRecord;
}

const scheduleDocId = (id: string): string => `schedule:${docId(id)}`;

export class CosmosScheduleStore extends ControlStore implements ScheduleStore {
  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    this.assertOpen();
    const id = scheduleDocId(schedule.id);
    if (!(await this.docs.createIfAbsent({ id, pk: id, type: 'schedule', record: schedule } as ScheduleDoc))) throw new RevisionConflict(schedule.id, 0);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    this.assertOpen();
    return (await this.docs.read<ScheduleDoc>(scheduleDocId(id)))?.doc.record ?? null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    this.assertOpen();
    const rows = await this.docs.query<{ record: ScheduleRecord }>({ query: "SELECT c.record FROM c WHERE c.type = 'schedule'" });
    return rows.map((r) => r.record).sort(scheduleOrder);
  }

  async replaceSchedule(next: ScheduleRecord): Promise<void> {
    this.assertOpen();
    const id = scheduleDocId(next.id);
    const current = await this.docs.read<ScheduleDoc>(id);
    const body: ScheduleDoc = { id, pk: id, type: 'schedule', record: next };
    if (!current || current.doc.record.revision !== next.revision - 1 || !(await this.docs.replaceIfMatch(current, body))) {
      throw new RevisionConflict(next.id, next.revision - 1);
    }
  }

  async deleteSchedule(id: string): Promise<boolean> {
    this.assertOpen();
    return this.docs.remove(scheduleDocId(id));
  }
}

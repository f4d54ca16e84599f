/** Schedules in the coordinator's SQLite file (its own connection; WAL lets it share the file). */
import type Database from 'better-sqlite3';
import type { ScheduleRecord } from '../../domain/schedule.js';
import { RevisionConflict } from '../job-store.js';
import type { ScheduleStore } from '../schedule-store.js';
import { openConnection } from './connection.js';

export class SqliteScheduleStore implements ScheduleStore {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], { doc: string }>;
  readonly #list: Database.Statement<[], { doc: string }>;
  readonly #insert: Database.Statement<[{ id: string; productId: string; createdAt: number; revision: number; doc: string }]>;
  readonly #update: Database.Statement<[{ id: string; revision: number; doc: string }]>;
  readonly #delete: Database.Statement<[string]>;

  constructor(path: string) {
    this.#db = openConnection(path);
    this.#get = this.#db.prepare('SELECT doc FROM schedules WHERE id = ?');
    this.#list = this.#db.prepare('SELECT doc FROM schedules ORDER BY created_at, id');
    this.#insert = this.#db.prepare('INSERT INTO schedules (id, product_id, created_at, revision, doc) VALUES (@id, @productId, @createdAt, @revision, @doc)');
    this.#update = this.#db.prepare('UPDATE schedules SET revision = @revision, doc = @doc WHERE id = @id AND revision = @revision - 1');
    this.#delete = this.#db.prepare('DELETE FROM schedules WHERE id = ?');
  }

  async insertSchedule(schedule: ScheduleRecord): Promise<void> {
    this.#insert.run({ id: schedule.id, productId: schedule.productId, createdAt: schedule.createdAt, revision: schedule.revision, doc: JSON.stringify(schedule) });
  }

  async getSchedule(id: string): Promise<ScheduleRecord | null> {
    const row = this.#get.get(id);
    return row ? (JSON.parse(row.doc) as ScheduleRecord) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.#list.all().map((row) => JSON.parse(row.doc) as ScheduleRecord);
  }

  async replaceSchedule(next: ScheduleRecord): Promise<void> {
    if (this.#update.run({ id: next.id, revision: next.revision, doc: JSON.stringify(next) }).changes === 0) throw new RevisionConflict(next.id, next.revision - 1);
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return this.#delete.run(id).changes > 0;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

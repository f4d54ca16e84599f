/**
 * The embedded JobStore: one SQLite file in WAL mode. better-sqlite3 is synchronous, so each method
 * runs its statements to completion (and, for writes, to a durable commit) before its promise
 * settles; the async signatures exist for providers that do real I/O, like Cosmos.
 *
 * Every write is one IMMEDIATE transaction: it takes the write lock before reading, so a read-then-
 * write (idempotency lookup, epoch fence) cannot be invalidated by another process in between.
 */
import type Database from 'better-sqlite3';
import type { JobEventRecord, JobRecord, LogChunkRecord } from '../../domain/job.js';
import {
  RevisionConflict,
  type AppendLogResult,
  type JobCount,
  type JobPage,
  type JobQuery,
  type JobStore,
  type LogPosition,
} from '../job-store.js';
import { normalizeLimit, toPage } from '../paging.js';
import { DuplicateJobId, StoreClosed } from '../store-errors.js';
import { openConnection } from './connection.js';
import { listJobsSql } from './list-jobs-sql.js';
import { eventFromRow, eventRowParams, jobFromRow, jobRowParams, logFromRow, logRowParams, type DocRow } from './rows.js';
import { prepareStatements, type Statements } from './statements.js';

/** Opens (creating and migrating when needed) the store in the SQLite file at `path`. */
export function openSqliteStore(path: string): SqliteJobStore {
  return new SqliteJobStore(openConnection(path));
}

export class SqliteJobStore implements JobStore {
  readonly #db: Database.Database;
  readonly #sql: Statements;
  /** listJobs statements by SQL text: at most one per combination of filters. */
  readonly #listJobs = new Map<string, Database.Statement<[Record<string, string | number>], DocRow>>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = prepareStatements(db);
  }

  async insertJob(job: JobRecord, event: JobEventRecord): Promise<{ job: JobRecord; created: boolean }> {
    return this.#write(() => {
      const existing = job.idempotencyKey === '' ? undefined : this.#sql.jobByIdempotencyKey.get({ productId: job.productId, idempotencyKey: job.idempotencyKey });
      if (existing) return { job: jobFromRow(existing), created: false };
      if (this.#sql.jobEpoch.get(job.id)) throw new DuplicateJobId(job.id);
      const row = jobRowParams(job);
      this.#sql.insertJob.run(row);
      this.#sql.insertEvent.run(eventRowParams(event));
      return { job: jobFromRow(row), created: true };
    });
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = this.#open().getJob.get(id);
    return row ? jobFromRow(row) : null;
  }

  async replaceJob(next: JobRecord, event: JobEventRecord | null): Promise<void> {
    this.#write(() => {
      const expectedRevision = next.revision - 1;
      const { changes } = this.#sql.replaceJob.run({ ...jobRowParams(next), expectedRevision });
      if (changes === 0) throw new RevisionConflict(next.id, expectedRevision);
      if (event) this.#sql.insertEvent.run(eventRowParams(event));
    });
  }

  async listJobs(query: JobQuery): Promise<JobPage> {
    const limit = normalizeLimit(query.limit);
    if (limit === 0) return { jobs: [], next: null };
    const { sql, params } = listJobsSql(query, limit + 1);
    return toPage(this.#listJobsStatement(sql).all(params).map(jobFromRow), limit);
  }

  async listRunnable(now: number, limit: number): Promise<JobRecord[]> {
    return this.#open().listRunnable.all({ now, limit: normalizeLimit(limit) }).map(jobFromRow);
  }

  async listExpiredLeases(now: number, limit: number): Promise<JobRecord[]> {
    return this.#open().listExpiredLeases.all({ now, limit: normalizeLimit(limit) }).map(jobFromRow);
  }

  async listLeasedTo(factoryId: string): Promise<JobRecord[]> {
    return this.#open().listLeasedTo.all(factoryId).map(jobFromRow);
  }

  async countJobs(): Promise<JobCount[]> {
    return this.#open().countJobs.all();
  }

  async listEvents(jobId: string): Promise<JobEventRecord[]> {
    return this.#open().listEvents.all(jobId).map(eventFromRow);
  }

  async appendLog(chunk: LogChunkRecord): Promise<AppendLogResult> {
    return this.#write((): AppendLogResult => {
      const job = this.#sql.jobEpoch.get(chunk.jobId);
      if (!job) return 'not_found';
      if (job.epoch !== chunk.epoch) return 'stale_epoch';
      return this.#sql.insertLog.run(logRowParams(chunk)).changes === 0 ? 'duplicate' : 'stored';
    });
  }

  async readLogs(jobId: string, after: LogPosition | null, limit: number): Promise<LogChunkRecord[]> {
    const sql = this.#open();
    const rows = after
      ? sql.readLogsAfter.all({ jobId, epoch: after.epoch, sequence: after.sequence, limit: normalizeLimit(limit) })
      : sql.readLogs.all({ jobId, limit: normalizeLimit(limit) });
    return rows.map(logFromRow);
  }

  /** Folds the WAL back into the main file so the database is one self-contained file at rest. */
  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#db.close();
  }

  /** Runs `fn` in an IMMEDIATE transaction; it commits (durably) when `fn` returns, rolls back when it throws. */
  #write<T>(fn: () => T): T {
    this.#open();
    return this.#db.transaction(fn).immediate();
  }

  #open(): Statements {
    if (!this.#db.open) throw new StoreClosed();
    return this.#sql;
  }

  #listJobsStatement(sql: string): Database.Statement<[Record<string, string | number>], DocRow> {
    let statement = this.#listJobs.get(sql);
    if (!statement) {
      statement = this.#db.prepare<[Record<string, string | number>], DocRow>(sql);
      this.#listJobs.set(sql, statement);
    }
    return statement;
  }
}

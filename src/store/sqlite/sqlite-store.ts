/**
 * The embedded JobStore: one SQLite file in WAL mode. better-sqlite3 is synchronous: reads run to
 * completion before their promise settles.
 *
 * Writes are group-committed (group-commit.ts): the writes of one event-loop turn run in one
 * IMMEDIATE transaction, each in its own savepoint, and every write's promise settles only once that
 * transaction is durably committed (the WAL sync runs off the main thread). The write lock is taken
 * before reading, so a read-then-write (idempotency lookup, epoch fence) cannot be invalidated by
 * another process in between. Reads wait while a committed batch is being synced, so they see only
 * durable data, and a read issued after a write's promise resolved sees that write.
 */
import type Database from 'better-sqlite3';
import { spendOf, type SpendRecord } from '../../domain/budget.js';
import type { JobEventRecord, JobRecord, LogChunkRecord } from '../../domain/job.js';
import {
  RevisionConflict,
  type AppendLogResult,
  type JobCount,
  type JobPage,
  type JobQuery,
  type JobStore,
  type LogPosition,
  type SpendQuery,
} from '../job-store.js';
import { normalizeLimit, toPage } from '../paging.js';
import { DuplicateJobId, StoreClosed } from '../store-errors.js';
import { openConnection } from './connection.js';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import { listJobsSql } from './list-jobs-sql.js';
import { eventFromRow, eventRowParams, jobFromRow, jobRowParams, logFromRow, logRowParams, type DocRow } from './rows.js';
import { prepareStatements, type Statements } from './statements.js';
import { SqliteEchoOutbox } from './sqlite-echo-outbox.js';
import { guardedOutbox, type EchoOutbox, type WithEchoOutbox } from '../echo-outbox.js';

/** Opens (creating and migrating when needed) the store in the SQLite file at `path`. */
export function openSqliteStore(path: string): SqliteJobStore {
  return new SqliteJobStore(openConnection(path));
}

export class SqliteJobStore implements JobStore, WithEchoOutbox {
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #commits: GroupCommit;
  /** Tracker echoes owed, recorded in the transaction of the event they echo. */
  readonly #echoes: SqliteEchoOutbox;
  readonly echoOutbox: EchoOutbox;
  /** listJobs statements by SQL text: at most one per combination of filters. */
  readonly #listJobs = new Map<string, Database.Statement<[Record<string, string | number>], DocRow>>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#commits = new GroupCommit(db);
    this.#echoes = new SqliteEchoOutbox(db, (fn) => this.#write(fn));
    this.echoOutbox = guardedOutbox(this.#echoes, () => this.#open());
  }

  /** Commits and operations so far (the benchmark's "store transactions per job" are these commits). */
  get commitStats(): Readonly<GroupCommitStats> {
    return this.#commits.stats;
  }

  async insertJob(job: JobRecord, event: JobEventRecord): Promise<{ job: JobRecord; created: boolean }> {
    return this.#write(() => {
      const existing = job.idempotencyKey === '' ? undefined : this.#sql.jobByIdempotencyKey.get({ productId: job.productId, idempotencyKey: job.idempotencyKey });
      if (existing) return { job: jobFromRow(existing), created: false };
      if (this.#sql.jobEpoch.get(job.id)) throw new DuplicateJobId(job.id);
      const row = jobRowParams(job);
      this.#sql.insertJob.run(row);
      this.#projectSpend(job);
      this.#sql.insertEvent.run(eventRowParams(event));
      this.#echoes.record(job, event);
      return { job, created: true }; // the record just stored, not a re-parse of its JSON
    });
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = (await this.#readable()).getJob.get(id);
    return row ? jobFromRow(row) : null;
  }

  async findJobByIdempotencyKey(productId: string, idempotencyKey: string): Promise<JobRecord | null> {
    const row = (await this.#readable()).jobByIdempotencyKey.get({ productId, idempotencyKey });
    return row ? jobFromRow(row) : null;
  }

  async replaceJob(next: JobRecord, event: JobEventRecord | null): Promise<void> {
    return this.#write(() => {
      const expectedRevision = next.revision - 1;
      const { changes } = this.#sql.replaceJob.run({ ...jobRowParams(next), expectedRevision });
      if (changes === 0) throw new RevisionConflict(next.id, expectedRevision);
      this.#projectSpend(next);
      if (event) {
        this.#sql.insertEvent.run(eventRowParams(event));
        this.#echoes.record(next, event);
      }
    });
  }

  async listJobs(query: JobQuery): Promise<JobPage> {
    const limit = normalizeLimit(query.limit);
    if (limit === 0) return { jobs: [], next: null };
    await this.#readable();
    const { sql, params } = listJobsSql(query, limit + 1);
    return toPage(this.#listJobsStatement(sql).all(params).map(jobFromRow), limit, query.order);
  }

  async listRunnable(now: number, limit: number): Promise<JobRecord[]> {
    return (await this.#readable()).listRunnable.all({ now, limit: normalizeLimit(limit) }).map(jobFromRow);
  }

  async listExpiredLeases(now: number, limit: number): Promise<JobRecord[]> {
    return (await this.#readable()).listExpiredLeases.all({ now, limit: normalizeLimit(limit) }).map(jobFromRow);
  }

  async listLeasedTo(factoryId: string): Promise<JobRecord[]> {
    return (await this.#readable()).listLeasedTo.all(factoryId).map(jobFromRow);
  }

  async countActiveByConcurrencyKey(keys: readonly string[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const rows = (await this.#readable()).countActiveByConcurrencyKey.all({ keys: JSON.stringify(keys) });
    return new Map(rows.map((r) => [r.key, r.count]));
  }

  async countJobs(): Promise<JobCount[]> {
    return (await this.#readable()).countJobs.all();
  }

  async listSpend(query: SpendQuery): Promise<SpendRecord[]> {
    const sql = await this.#readable();
    return query.productId === undefined
      ? sql.listSpend.all({ from: query.from, to: query.to })
      : sql.listProductSpend.all({ productId: query.productId, from: query.from, to: query.to });
  }

  async listEvents(jobId: string): Promise<JobEventRecord[]> {
    return (await this.#readable()).listEvents.all(jobId).map(eventFromRow);
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
    const sql = await this.#readable();
    const rows = after
      ? sql.readLogsAfter.all({ jobId, epoch: after.epoch, sequence: after.sequence, limit: normalizeLimit(limit) })
      : sql.readLogs.all({ jobId, limit: normalizeLimit(limit) });
    return rows.map(logFromRow);
  }

  /** Folds the WAL back into the main file so the database is one self-contained file at rest. */
  async close(): Promise<void> {
    if (!this.#db.open) return;
    await this.#commits.close(); // queued writes are committed and synced (and their callers answered), not dropped
    if (!this.#db.open) return;
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#db.close();
  }

  /** Keeps the spend table in step with the job's costed attempts (inside the job's write). */
  #projectSpend(job: JobRecord): void {
    if (!job.cost) return; // no attempt reported a cost: nothing to project
    for (const record of spendOf(job)) this.#sql.upsertSpend.run(record);
  }

  /**
   * Runs `fn` in the next group commit, in a savepoint of its own: its writes commit (durably) with
   * the batch when it returns, and are rolled back alone when it throws.
   */
  #write<T>(fn: () => T): Promise<T> {
    this.#open();
    return this.#commits.enqueue(fn);
  }

  /** The statements, once every committed write is durable: reads never show what a crash could undo. */
  async #readable(): Promise<Statements> {
    const pending = this.#commits.durable();
    if (pending) await pending;
    return this.#open();
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

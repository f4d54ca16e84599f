/**
 * Every fixed SQL statement the SQLite store runs, prepared once per connection. One statement per
 * operation, named for what it does, so each store method reads as a short sequence of them and the
 * SQL can be reviewed (and EXPLAINed against the indexes in migrations.ts) in one place.
 */
import type Database from 'better-sqlite3';
import type { JobStage } from '../../domain/job.js';
import type { SpendRecord } from '../../domain/budget.js';
import type { DocRow, EventRowParams, JobRowParams, LogRow, LogRowParams } from './rows.js';

export function prepareStatements(db: Database.Database) {
  return {
    getJob: db.prepare<[string], DocRow>('SELECT doc FROM jobs WHERE id = ?'),

    jobEpoch: db.prepare<[string], { epoch: number }>('SELECT epoch FROM jobs WHERE id = ?'),

    /** The `<> ''` term repeats the partial index's condition so SQLite may use that index. */
    jobByIdempotencyKey: db.prepare<[{ productId: string; idempotencyKey: string }], DocRow>(
      `SELECT doc FROM jobs
       WHERE product_id = @productId AND idempotency_key = @idempotencyKey AND idempotency_key <> ''`,
    ),

    insertJob: db.prepare<[JobRowParams]>(
      `INSERT INTO jobs (id, product_id, stage, priority, created_at, not_before, lease_expires_at,
                         lease_factory_id, idempotency_key, revision, epoch, doc)
       VALUES (@id, @productId, @stage, @priority, @createdAt, @notBefore, @leaseExpiresAt,
               @leaseFactoryId, @idempotencyKey, @revision, @epoch, @doc)`,
    ),

    /**
     * The compare-and-set: matches only the expected revision and a stored epoch not newer than ours.
     * It sets only the columns a transition can change: a job's product, creation time and
     * idempotency key are fixed at submit, and leaving them out of SET spares SQLite rewriting the
     * three indexes on them (listing, idempotency) on every transition. The product is still part of
     * the match, so a record naming another product changes nothing, as in the other providers.
     */
    replaceJob: db.prepare<[JobRowParams & { expectedRevision: number }]>(
      `UPDATE jobs SET stage = @stage, priority = @priority, not_before = @notBefore,
              lease_expires_at = @leaseExpiresAt, lease_factory_id = @leaseFactoryId,
              revision = @revision, epoch = @epoch, doc = @doc
       WHERE id = @id AND revision = @expectedRevision AND epoch <= @epoch
         AND product_id = @productId AND created_at = @createdAt AND idempotency_key = @idempotencyKey`,
    ),

    /** ON CONFLICT DO NOTHING (not OR IGNORE) so only a repeated (job_id, revision) is skipped. */
    insertEvent: db.prepare<[EventRowParams]>(
      `INSERT INTO events (job_id, revision, product_id, at, doc)
       VALUES (@jobId, @revision, @productId, @at, @doc)
       ON CONFLICT (job_id, revision) DO NOTHING`,
    ),

    listEvents: db.prepare<[string], DocRow>('SELECT doc FROM events WHERE job_id = ? ORDER BY revision'),

    listRunnable: db.prepare<[{ now: number; limit: number }], DocRow>(
      `SELECT doc FROM jobs
       WHERE stage = 'queued' AND not_before <= @now
       ORDER BY priority DESC, created_at ASC, id ASC
       LIMIT @limit`,
    ),

    /**
     * INDEXED BY: without statistics the planner prefers jobs_runnable's stage prefix and sorts;
     * the partial expiry index reads the due leases in order and stops at LIMIT.
     */
    listExpiredLeases: db.prepare<[{ now: number; limit: number }], DocRow>(
      `SELECT doc FROM jobs INDEXED BY jobs_lease_expiry
       WHERE lease_expires_at <= @now AND stage IN ('leased', 'running')
       ORDER BY lease_expires_at ASC, id ASC
       LIMIT @limit`,
    ),

    listLeasedTo: db.prepare<[string], DocRow>(
      `SELECT doc FROM jobs
       WHERE lease_factory_id = ? AND stage IN ('leased', 'running')
       ORDER BY id`,
    ),

    /**
     * Leased and running jobs only (the stage term matches the partial lease indexes word for word):
     * at most the fleet's slots, so reading the key out of each record's JSON stays cheap.
     */
    countActiveByConcurrencyKey: db.prepare<[{ keys: string }], { key: string; count: number }>(
      `SELECT json_extract(doc, '$.concurrencyKey') AS key, count(*) AS count FROM jobs
       WHERE stage IN ('leased', 'running') AND json_extract(doc, '$.concurrencyKey') IN (SELECT value FROM json_each(@keys))
       GROUP BY key`,
    ),

    countJobs: db.prepare<[], { productId: string; stage: JobStage; count: number }>(
      `SELECT product_id AS productId, stage, count(*) AS count FROM jobs GROUP BY product_id, stage`,
    ),

    /** A job's spend row per costed attempt; rewritten with the job, so it always matches the record. */
    upsertSpend: db.prepare<[SpendRecord]>(
      `INSERT INTO spend (job_id, epoch, product_id, at, cost, title)
       VALUES (@jobId, @epoch, @productId, @at, @cost, @title)
       ON CONFLICT (job_id, epoch) DO UPDATE SET at = excluded.at, cost = excluded.cost, title = excluded.title`,
    ),

    listProductSpend: db.prepare<[{ productId: string; from: number; to: number }], SpendRecord>(
      `SELECT job_id AS jobId, product_id AS productId, title, epoch, cost, at FROM spend
       WHERE product_id = @productId AND at >= @from AND at < @to
       ORDER BY at, job_id, epoch`,
    ),

    listSpend: db.prepare<[{ from: number; to: number }], SpendRecord>(
      `SELECT job_id AS jobId, product_id AS productId, title, epoch, cost, at FROM spend
       WHERE at >= @from AND at < @to
       ORDER BY at, job_id, epoch`,
    ),

    insertLog: db.prepare<[LogRowParams]>(
      `INSERT INTO logs (job_id, epoch, sequence, stream, data, at)
       VALUES (@jobId, @epoch, @sequence, @stream, @data, @at)
       ON CONFLICT (job_id, epoch, sequence) DO NOTHING`,
    ),

    readLogs: db.prepare<[{ jobId: string; limit: number }], LogRow>(
      `SELECT job_id, epoch, sequence, stream, data, at FROM logs
       WHERE job_id = @jobId
       ORDER BY epoch, sequence
       LIMIT @limit`,
    ),

    readLogsAfter: db.prepare<[{ jobId: string; epoch: number; sequence: number; limit: number }], LogRow>(
      `SELECT job_id, epoch, sequence, stream, data, at FROM logs
       WHERE job_id = @jobId AND (epoch, sequence) > (@epoch, @sequence)
       ORDER BY epoch, sequence
       LIMIT @limit`,
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

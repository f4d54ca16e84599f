/**
 * The SQLite echo outbox (table echo_outbox, migration 5). `record` runs inside the store's write
 * transaction, right after the event row, so the job change, its event and its echo commit together.
 * Claims and settlements go through the store's writer (`write`, its group commit) like every write.
 * Rows stay after delivery (state 'delivered'), so a replayed event can never be echoed twice.
 */
import type Database from 'better-sqlite3';
import type { JobEventRecord, JobRecord } from '../../domain/job.js';
import { echoFor, type EchoBacklog, type EchoDelivery, type EchoOutbox, type EchoSettlement } from '../echo-outbox.js';

interface DueRow {
  doc: string;
  attempts: number;
}

export class SqliteEchoOutbox implements EchoOutbox {
  readonly #write: <T>(fn: () => T) => Promise<T>;
  readonly #insert: Database.Statement;
  readonly #due: Database.Statement<[{ now: number; limit: number }], DueRow>;
  readonly #claim: Database.Statement;
  readonly #delivered: Database.Statement;
  readonly #retry: Database.Statement;
  readonly #dead: Database.Statement;
  readonly #backlog: Database.Statement<[], { pending: number; dead: number; oldest: number | null }>;

  constructor(db: Database.Database, write: <T>(fn: () => T) => Promise<T>) {
    this.#write = write;
    this.#insert = db.prepare(
      `INSERT INTO echo_outbox (job_id, revision, product_id, state, due_at, attempts, created_at, claim, last_error, doc)
       VALUES (@jobId, @revision, @productId, 'pending', @createdAt, 0, @createdAt, '', '', @doc)
       ON CONFLICT (job_id, revision) DO NOTHING`,
    );
    this.#due = db.prepare(
      `SELECT doc, attempts FROM echo_outbox WHERE state = 'pending' AND due_at <= @now ORDER BY due_at, job_id, revision LIMIT @limit`,
    );
    this.#claim = db.prepare(`UPDATE echo_outbox SET due_at = @claimUntil, claim = @claim WHERE job_id = @jobId AND revision = @revision`);
    this.#delivered = db.prepare(`UPDATE echo_outbox SET state = 'delivered', claim = '' WHERE job_id = @jobId AND revision = @revision AND state = 'pending'`);
    this.#retry = db.prepare(
      `UPDATE echo_outbox SET due_at = @dueAt, attempts = attempts + 1, last_error = @error, claim = ''
       WHERE job_id = @jobId AND revision = @revision AND state = 'pending' AND claim = @claim`,
    );
    this.#dead = db.prepare(
      `UPDATE echo_outbox SET state = 'dead', attempts = attempts + 1, last_error = @error, claim = ''
       WHERE job_id = @jobId AND revision = @revision AND state = 'pending' AND claim = @claim`,
    );
    this.#backlog = db.prepare(
      `SELECT (SELECT COUNT(*) FROM echo_outbox WHERE state = 'pending') AS pending,
              (SELECT COUNT(*) FROM echo_outbox WHERE state = 'dead') AS dead,
              (SELECT MIN(created_at) FROM echo_outbox WHERE state = 'pending') AS oldest`,
    );
  }

  /** Call inside the transaction that stores `event`: records its echo when the job came from a tracker. */
  record(job: JobRecord, event: JobEventRecord): void {
    const echo = echoFor(job, event);
    if (!echo) return;
    const { jobId, revision, productId, createdAt } = echo;
    this.#insert.run({ jobId, revision, productId, createdAt, doc: JSON.stringify(echo) });
  }

  async claimDueEchoes(now: number, limit: number, claimUntil: number, claim: string): Promise<EchoDelivery[]> {
    return this.#write(() =>
      this.#due.all({ now, limit }).map((row): EchoDelivery => {
        const echo = JSON.parse(row.doc) as EchoDelivery;
        this.#claim.run({ claimUntil, claim, jobId: echo.jobId, revision: echo.revision });
        return { ...echo, attempts: row.attempts, claim };
      }),
    );
  }

  async settleEcho(delivery: EchoDelivery, settlement: EchoSettlement): Promise<boolean> {
    const key = { jobId: delivery.jobId, revision: delivery.revision };
    return this.#write(() => {
      switch (settlement.state) {
        case 'delivered':
          this.#delivered.run(key);
          return true;
        case 'retry':
          return this.#retry.run({ ...key, claim: delivery.claim, dueAt: settlement.dueAt, error: settlement.error }).changes > 0;
        case 'dead':
          return this.#dead.run({ ...key, claim: delivery.claim, error: settlement.error }).changes > 0;
      }
    });
  }

  async echoBacklog(): Promise<EchoBacklog> {
    const row = this.#backlog.get()!;
    return { pending: row.pending, dead: row.dead, oldestPendingAt: row.oldest };
  }
}

/**
 * A JobStore in plain Maps, for unit tests and the deterministic simulation. It keeps the SQLite
 * provider's semantics exactly (the same conformance suite runs on both), including that stored
 * state is a copy: records are copied on the way in and out, as a real store serialises them, so a
 * caller mutating an object it passed or got back cannot change what is stored. Records are copied
 * through JSON, as SQLite's `doc` column and Cosmos do, so even edge values (undefined properties)
 * come back the same from every provider.
 */
import { spendOf, spendOrder, type SpendRecord } from '../../domain/budget.js';
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
import { bestFirst, byId, holdsLease, matchesQuery, inOrder, soonestExpiryFirst } from './order.js';
import { MemoryEchoOutbox } from './memory-echo-outbox.js';
import { guardedOutbox, type EchoOutbox, type WithEchoOutbox } from '../echo-outbox.js';

export class MemoryJobStore implements JobStore, WithEchoOutbox {
  readonly #jobs = new Map<string, JobRecord>();
  /** productId -> idempotencyKey -> jobId, for non-empty keys (the unique index in SQLite). */
  readonly #keys = new Map<string, Map<string, string>>();
  /** jobId -> revision -> event. */
  readonly #events = new Map<string, Map<number, JobEventRecord>>();
  /** jobId -> "epoch:sequence" -> chunk. */
  readonly #logs = new Map<string, Map<string, LogChunkRecord>>();
  /** Tracker echoes owed, recorded in the same step as the event they echo. */
  readonly #echoes = new MemoryEchoOutbox();
  readonly echoOutbox: EchoOutbox = guardedOutbox(this.#echoes, () => this.#assertOpen());
  #closed = false;

  async insertJob(job: JobRecord, event: JobEventRecord): Promise<{ job: JobRecord; created: boolean }> {
    this.#assertOpen();
    const existing = this.#keyHolder(job.productId, job.idempotencyKey);
    if (existing) return { job: copy(existing), created: false };
    if (this.#jobs.has(job.id)) throw new DuplicateJobId(job.id);
    this.#put(copy(job));
    this.#addEvent(event);
    this.#echoes.record(job, event);
    return { job: copy(job), created: true };
  }

  async getJob(id: string): Promise<JobRecord | null> {
    this.#assertOpen();
    const job = this.#jobs.get(id);
    return job ? copy(job) : null;
  }

  async findJobByIdempotencyKey(productId: string, idempotencyKey: string): Promise<JobRecord | null> {
    this.#assertOpen();
    const job = this.#keyHolder(productId, idempotencyKey);
    return job ? copy(job) : null;
  }

  async replaceJob(next: JobRecord, event: JobEventRecord | null): Promise<void> {
    this.#assertOpen();
    const stored = this.#jobs.get(next.id);
    const expectedRevision = next.revision - 1;
    if (!stored || stored.revision !== expectedRevision || stored.epoch > next.epoch) {
      throw new RevisionConflict(next.id, expectedRevision);
    }
    this.#unindexKey(stored);
    this.#put(copy(next));
    if (event) {
      this.#addEvent(event);
      this.#echoes.record(next, event);
    }
  }

  async listJobs(query: JobQuery): Promise<JobPage> {
    const limit = normalizeLimit(query.limit);
    const matching = this.#all().filter((job) => matchesQuery(job, query));
    return toPage(matching.sort(inOrder(query.order)).slice(0, limit + 1).map(copy), limit, query.order);
  }

  async listRunnable(now: number, limit: number): Promise<JobRecord[]> {
    const runnable = this.#all().filter((job) => job.stage === 'queued' && job.notBefore <= now);
    return runnable.sort(bestFirst).slice(0, normalizeLimit(limit)).map(copy);
  }

  async listExpiredLeases(now: number, limit: number): Promise<JobRecord[]> {
    const expired = this.#all().filter((job) => holdsLease(job) && job.lease!.expiresAt <= now);
    return expired.sort(soonestExpiryFirst).slice(0, normalizeLimit(limit)).map(copy);
  }

  async listLeasedTo(factoryId: string): Promise<JobRecord[]> {
    const held = this.#all().filter((job) => holdsLease(job) && job.lease!.factoryId === factoryId);
    return held.sort(byId).map(copy);
  }

  async countActiveByConcurrencyKey(keys: readonly string[]): Promise<Map<string, number>> {
    const wanted = new Set(keys);
    const counts = new Map<string, number>();
    for (const job of this.#all()) {
      if (holdsLease(job) && job.concurrencyKey !== undefined && wanted.has(job.concurrencyKey)) counts.set(job.concurrencyKey, (counts.get(job.concurrencyKey) ?? 0) + 1);
    }
    return counts;
  }

  async countJobs(): Promise<JobCount[]> {
    const counts = new Map<string, JobCount>();
    for (const job of this.#all()) {
      const key = `${job.productId}\u0000${job.stage}`;
      const entry = counts.get(key) ?? { productId: job.productId, stage: job.stage, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
    return [...counts.values()];
  }

  async listSpend(query: SpendQuery): Promise<SpendRecord[]> {
    const records = this.#all()
      .filter((job) => query.productId === undefined || job.productId === query.productId)
      .flatMap(spendOf)
      .filter((r) => r.at >= query.from && r.at < query.to);
    return records.sort(spendOrder);
  }

  async listEvents(jobId: string): Promise<JobEventRecord[]> {
    this.#assertOpen();
    const events = [...(this.#events.get(jobId)?.values() ?? [])];
    return events.sort((a, b) => a.revision - b.revision).map(copy);
  }

  async appendLog(chunk: LogChunkRecord): Promise<AppendLogResult> {
    this.#assertOpen();
    const job = this.#jobs.get(chunk.jobId);
    if (!job) return 'not_found';
    if (job.epoch !== chunk.epoch) return 'stale_epoch';
    const chunks = getOrCreate(this.#logs, chunk.jobId, () => new Map<string, LogChunkRecord>());
    const key = `${chunk.epoch}:${chunk.sequence}`;
    if (chunks.has(key)) return 'duplicate';
    chunks.set(key, copyChunk(chunk));
    return 'stored';
  }

  async readLogs(jobId: string, after: LogPosition | null, limit: number): Promise<LogChunkRecord[]> {
    this.#assertOpen();
    const chunks = [...(this.#logs.get(jobId)?.values() ?? [])].filter(
      (c) => !after || c.epoch > after.epoch || (c.epoch === after.epoch && c.sequence > after.sequence),
    );
    chunks.sort((a, b) => a.epoch - b.epoch || a.sequence - b.sequence);
    return chunks.slice(0, normalizeLimit(limit)).map(copyChunk);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #all(): JobRecord[] {
    this.#assertOpen();
    return [...this.#jobs.values()];
  }

  /** The stored job holding a (non-empty) idempotency key in a product. */
  #keyHolder(productId: string, idempotencyKey: string): JobRecord | undefined {
    const id = idempotencyKey === '' ? undefined : this.#keys.get(productId)?.get(idempotencyKey);
    return id === undefined ? undefined : this.#jobs.get(id);
  }

  #put(job: JobRecord): void {
    this.#jobs.set(job.id, job);
    if (job.idempotencyKey !== '') {
      getOrCreate(this.#keys, job.productId, () => new Map<string, string>()).set(job.idempotencyKey, job.id);
    }
  }

  #unindexKey(job: JobRecord): void {
    const keys = this.#keys.get(job.productId);
    if (keys?.get(job.idempotencyKey) === job.id) keys.delete(job.idempotencyKey);
  }

  /** First write of a (jobId, revision) wins, like INSERT ... ON CONFLICT DO NOTHING. */
  #addEvent(event: JobEventRecord): void {
    const events = getOrCreate(this.#events, event.jobId, () => new Map<number, JobEventRecord>());
    if (!events.has(event.revision)) events.set(event.revision, copy(event));
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Copies the chunk's own fields (as SQLite's columns keep them) and just its bytes, as a plain
 * Uint8Array: structuredClone would copy a view's whole backing buffer.
 */
function copyChunk(chunk: LogChunkRecord): LogChunkRecord {
  const { jobId, epoch, sequence, stream, at } = chunk;
  return { jobId, epoch, sequence, stream, data: new Uint8Array(chunk.data), at };
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

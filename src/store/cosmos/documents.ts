/**
 * The documents the Cosmos provider keeps in its one container, partitioned by `/productId`, and the
 * conversions between them and records. As in SQLite's rows.ts, the fields queries filter and sort
 * on are derived from the record here, in one place, so they can never disagree with it; the record
 * itself travels opaque under `job` (and is excluded from indexing, which makes writes cheaper).
 *
 * Kinds of document:
 * - job:    the record, the job's events (embedded, so a transition and its event are one atomic
 *           replace; see cosmos-store.ts) and the derived query fields. id = the job id.
 * - jobref: where a job lives: job id → product, for getJob(id) without a product. Its own logical
 *           partition `~job:<id>`, so it is one point read and never a hot partition.
 * - idem:   an idempotency key taken in a product; holds the job it was taken for (the intent), so
 *           a submit that died between taking the key and storing the job can be completed.
 * - event:  an event moved out of a job document that had too many (spilled).
 * - log:    one log chunk, id `log:<job>:<epoch>:<sequence>`, so a repeat is a 409.
 * Beside them, written by their own modules: echo intents (cosmos-echo-outbox.ts) and placement
 * decisions, `dec:<job>:<epoch>` (cosmos-decision-store.ts).
 */
import { createHash } from 'node:crypto';
import { spendOf } from '../../domain/budget.js';
import { DEFAULT_PARTITION_COUNT, partitionOf } from '../../domain/partitions.js';
import { foldAscii, searchedTexts } from '../../domain/job-search.js';
import type { JobEventRecord, JobRecord, LogChunkRecord, LogStream } from '../../domain/job.js';

/** What Cosmos adds to every document it returns. */
export interface SystemFields {
  _etag?: string;
  _rid?: string;
  _self?: string;
  _ts?: number;
  _attachments?: string;
}

export interface JobDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'job';
  /** The record's id (the document id may be a hash of it, see docId). Sort tie-breaker. */
  jobId: string;
  stage: string;
  priority: number;
  createdAt: number;
  notBefore: number;
  /** Set only while the job holds a lease (leased or running), like SQLite's partial indexes. */
  leaseExpiresAt: number | null;
  leaseFactoryId: string | null;
  /** Label filter helpers: keys, values, and JSON [key, value] pairs of the requirements. */
  labelKeys: string[];
  labelValues: string[];
  labelPairs: string[];
  /**
   * When the job's latest costed attempt ended (null: none reported a cost), so budgets find the
   * jobs with spend in a period by an index instead of reading every job. Absent on older documents.
   */
  spendUntil?: number | null;
  /**
   * What ListJobs search looks in (domain/job-search.ts), folded, one text per line: one plain
   * CONTAINS instead of subqueries over the record. Absent on documents last written before search
   * existed; such a job is found once it changes again.
   */
  searchText?: string;
  /** The job's concurrency key, for counting leases per key (null: none). Absent on older documents. */
  concurrencyKey?: string | null;
  /**
   * partitionOf(jobId) (domain/partitions.ts): which replica examines the job while it is queued
   * (docs/scaling-out.md, "Dividing the work"). Absent on documents last written before partitions
   * existed: no replica lists such a job as its own, every replica's steal listing finds it.
   */
  partition?: number;
  /** Random per insertJob call: tells "my insert, completed by someone else" from a duplicate id. */
  insertId: string;
  job: JobRecord;
  /** The job's events not yet spilled, by revision. */
  events: JobEventRecord[];
  /** Highest revision whose event was moved to an event document (0: none). */
  spilledThrough: number;
}

export interface JobRefDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'jobref';
  jobId: string;
  /** The product the job lives in. */
  product: string;
}

export interface IdemDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'idem';
  jobId: string;
  /** The job document the key was taken for, written first: whoever finds it can complete the insert. */
  intent: JobDoc;
}

export interface EventDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'event';
  jobId: string;
  revision: number;
  event: JobEventRecord;
}

export interface LogDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'log';
  jobId: string;
  epoch: number;
  sequence: number;
  stream: LogStream;
  at: number;
  /** The chunk's bytes, base64. */
  data: string;
}

const SAFE_ID = /^[A-Za-z0-9._:@-]{1,200}$/;

/**
 * A Cosmos document id for a value we do not control (a job id from a request): kept as it is when
 * Cosmos accepts it in a URL, otherwise `~` and a SHA-256 (ids may not contain / \ ? #, and are at
 * most 255 characters). `~` is not in SAFE_ID, so the two forms never collide.
 */
export function docId(value: string): string {
  return SAFE_ID.test(value) ? value : `~${createHash('sha256').update(value).digest('hex')}`;
}

export function jobRefPartition(jobId: string): string {
  return `~job:${docId(jobId)}`;
}

export function idemDocId(idempotencyKey: string): string {
  return `idem:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
}

export function eventDocId(jobId: string, revision: number): string {
  return `event:${docId(jobId)}:${revision}`;
}

export function logDocId(jobId: string, epoch: number, sequence: number): string {
  return `log:${docId(jobId)}:${epoch}:${sequence}`;
}

export function holdsLease(job: JobRecord): boolean {
  return job.lease !== null && (job.stage === 'leased' || job.stage === 'running');
}

/** A job document for `job` carrying `events`; derived fields recomputed from the record. */
export function jobDoc(job: JobRecord, events: JobEventRecord[], spilledThrough: number, insertId: string): JobDoc {
  const leased = holdsLease(job);
  const labelKeys = new Set<string>();
  const labelValues = new Set<string>();
  const labelPairs = new Set<string>();
  for (const requirement of job.requiredLabels) {
    labelKeys.add(requirement.key);
    for (const value of requirement.values) {
      labelValues.add(value);
      labelPairs.add(labelPair(requirement.key, value));
    }
  }
  return {
    id: docId(job.id),
    productId: job.productId,
    type: 'job',
    jobId: job.id,
    stage: job.stage,
    priority: job.priority,
    createdAt: job.createdAt,
    notBefore: job.notBefore,
    leaseExpiresAt: leased ? job.lease!.expiresAt : null,
    leaseFactoryId: leased ? job.lease!.factoryId : null,
    labelKeys: [...labelKeys],
    labelValues: [...labelValues],
    labelPairs: [...labelPairs],
    spendUntil: job.cost ? Math.max(...spendOf(job).map((r) => r.at)) : null,
    searchText: searchedTexts(job).map(foldAscii).join('\n'),
    concurrencyKey: job.concurrencyKey ?? null,
    partition: partitionOf(job.id, DEFAULT_PARTITION_COUNT),
    insertId,
    job,
    events,
    spilledThrough,
  };
}

/** The label filter's key for "one requirement with this key lists this value". */
export function labelPair(key: string, value: string): string {
  return JSON.stringify([key, value]);
}

/** The document without Cosmos's system fields, ready to be written back. */
export function withoutSystemFields<T extends SystemFields>(doc: T): Omit<T, keyof SystemFields> {
  const { _etag, _rid, _self, _ts, _attachments, ...rest } = doc;
  void _etag, void _rid, void _self, void _ts, void _attachments;
  return rest;
}

/** A caller's own copy of a stored record (callers may mutate what they get). */
export function copyOf<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function logDoc(chunk: LogChunkRecord, productId: string): LogDoc {
  return {
    id: logDocId(chunk.jobId, chunk.epoch, chunk.sequence),
    productId,
    type: 'log',
    jobId: chunk.jobId,
    epoch: chunk.epoch,
    sequence: chunk.sequence,
    stream: chunk.stream,
    at: chunk.at,
    data: Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength).toString('base64'),
  };
}

/** The chunk with its bytes as a plain Uint8Array, as every provider returns them. */
export function logFromDoc(doc: LogDoc): LogChunkRecord {
  return {
    jobId: doc.jobId,
    epoch: doc.epoch,
    sequence: doc.sequence,
    stream: doc.stream,
    data: new Uint8Array(Buffer.from(doc.data, 'base64')),
    at: doc.at,
  };
}

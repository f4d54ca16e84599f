/**
 * Converts between records and rows. The JSON `doc` is the record; the other job columns are
 * derived from it here, in one place, so the indexed copies can never disagree with the record.
 */
import type { JobEventRecord, JobRecord, LogChunkRecord, LogStream } from '../../domain/job.js';

/** Named parameters for writing one job row. */
export interface JobRowParams {
  id: string;
  productId: string;
  stage: string;
  priority: number;
  createdAt: number;
  notBefore: number;
  leaseExpiresAt: number | null;
  leaseFactoryId: string | null;
  idempotencyKey: string;
  revision: number;
  epoch: number;
  doc: string;
}

export function jobRowParams(job: JobRecord): JobRowParams {
  return {
    id: job.id,
    productId: job.productId,
    stage: job.stage,
    priority: job.priority,
    createdAt: job.createdAt,
    notBefore: job.notBefore,
    leaseExpiresAt: job.lease?.expiresAt ?? null,
    leaseFactoryId: job.lease?.factoryId ?? null,
    idempotencyKey: job.idempotencyKey,
    revision: job.revision,
    epoch: job.epoch,
    doc: JSON.stringify(job),
  };
}

export interface DocRow {
  doc: string;
}

export function jobFromRow(row: DocRow): JobRecord {
  return JSON.parse(row.doc) as JobRecord;
}

export interface EventRowParams {
  jobId: string;
  revision: number;
  productId: string;
  at: number;
  doc: string;
}

export function eventRowParams(event: JobEventRecord): EventRowParams {
  return {
    jobId: event.jobId,
    revision: event.revision,
    productId: event.productId,
    at: event.at,
    doc: JSON.stringify(event),
  };
}

export function eventFromRow(row: DocRow): JobEventRecord {
  return JSON.parse(row.doc) as JobEventRecord;
}

export interface LogRow {
  job_id: string;
  epoch: number;
  sequence: number;
  stream: string;
  data: Buffer;
  at: number;
}

export interface LogRowParams {
  jobId: string;
  epoch: number;
  sequence: number;
  stream: string;
  data: Buffer;
  at: number;
}

/** Parameters for one log row; the bytes are bound as a Buffer view (no copy) so they land as a BLOB. */
export function logRowParams(chunk: LogChunkRecord): LogRowParams {
  return {
    jobId: chunk.jobId,
    epoch: chunk.epoch,
    sequence: chunk.sequence,
    stream: chunk.stream,
    data: Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength),
    at: chunk.at,
  };
}

/**
 * Returns the bytes as a plain Uint8Array copy rather than the driver's Buffer, so callers compare
 * and serialise chunks from every provider the same way.
 */
export function logFromRow(row: LogRow): LogChunkRecord {
  return {
    jobId: row.job_id,
    epoch: row.epoch,
    sequence: row.sequence,
    stream: row.stream as LogStream,
    data: new Uint8Array(row.data),
    at: row.at,
  };
}

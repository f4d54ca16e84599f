/**
 * Artifacts and checkpoints: files an attempt of a job uploads, kept per (job, epoch, kind, name)
 * and stored once per SHA-256 digest. Pure rules: what a valid name is, who may attach a file to an
 * attempt (the epoch fence), what a product's quota allows and what its retention expires.
 */
import { DomainError, failedPrecondition, invalidArgument, staleEpoch } from './errors.js';
import type { JobRecord } from './job.js';

export const ARTIFACT_KINDS = ['artifact', 'checkpoint'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** One file attached to one attempt. */
export interface ArtifactRecord {
  jobId: string;
  productId: string;
  epoch: number;
  kind: ArtifactKind;
  name: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  factoryId: string;
  createdAt: number;
}

/**
 * A file being uploaded: what StartUpload declared, kept until FinishUpload attaches it, so the
 * chunk and finish calls (on any replica) know what the upload id stands for.
 */
export interface UploadRecord extends ArtifactRecord {
  uploadId: string;
}

/** A product's limits on what it keeps (ProductSettings.artifact_retention); 0 means no limit. */
export interface ArtifactRetention {
  maxAgeMs: number;
  maxTotalBytes: number;
}

export const MAX_ARTIFACT_NAME_LENGTH = 512;
export const MAX_CONTENT_TYPE_LENGTH = 200;
/** The largest chunk an upload or download message carries. */
export const ARTIFACT_CHUNK_BYTES = 1024 * 1024;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const SHA256_HEX = /^[0-9a-f]{64}$/;
// Control characters (C0, DEL, C1) and backslashes: a name must mean the same on every OS and in a URL path.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\\]/;
// A media type: type/subtype and optional parameters, printable ASCII only.
const CONTENT_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[\x21-\x7e ]*)?$/;

/** Quotes at most a short prefix of client input in an error. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** The file's name within its attempt: a relative "/"-separated path, checked part by part. */
export function checkArtifactName(name: string): string {
  if (name.length === 0) throw invalidArgument('name is required (a relative path such as "reports/summary.txt")');
  if (name.length > MAX_ARTIFACT_NAME_LENGTH) throw invalidArgument(`name is ${name.length} characters; at most ${MAX_ARTIFACT_NAME_LENGTH}`);
  if (FORBIDDEN_NAME_CHARS.test(name)) throw invalidArgument(`name ${quoted(name)} has a control character or a backslash; use "/" between parts`);
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') throw invalidArgument(`name ${quoted(name)} must be a relative path without empty, "." or ".." parts`);
  }
  return name;
}

export function checkSha256Hex(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw invalidArgument(`sha256 ${quoted(sha256)} must be 64 lowercase hex digits`);
  return sha256;
}

export function checkContentType(contentType: string): string {
  if (contentType === '') return DEFAULT_CONTENT_TYPE;
  if (contentType.length > MAX_CONTENT_TYPE_LENGTH || !CONTENT_TYPE.test(contentType)) throw invalidArgument(`content_type ${quoted(contentType)} is not a media type such as "text/plain; charset=utf-8"`);
  return contentType;
}

export function checkSize(sizeBytes: number): number {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw invalidArgument(`size_bytes must be a whole number of bytes >= 0, not ${sizeBytes}`);
  return sizeBytes;
}

/**
 * Outcomes with which the factory itself ended its attempt (a result, a preemption ack, a lease
 * return): its files may still arrive afterwards. An attempt the coordinator took back (its lease
 * lapsed) is not the factory's any more.
 */
const FACTORY_ENDED = new Set(['succeeded', 'failed', 'timed_out', 'cancelled', 'preempted', 'released']);

/**
 * The epoch fence for files: `factoryId` may attach a file to attempt `epoch` of `job` while it
 * holds that lease, or after it ended the attempt itself as long as no newer attempt began.
 * Anything else is refused as a lease message about a lease the factory does not hold would be.
 */
export function checkAttemptHolder(job: JobRecord, factoryId: string, epoch: number): void {
  if (epoch > job.epoch || epoch < 1) throw failedPrecondition(`job ${job.id} has no attempt with epoch ${epoch} (its epoch is ${job.epoch})`);
  if (epoch < job.epoch) throw staleEpoch(`epoch ${epoch} of job ${job.id} is stale: attempt ${job.epoch} superseded it, so it cannot attach files`);
  if (job.lease && job.lease.epoch === epoch) {
    if (job.lease.factoryId !== factoryId) throw failedPrecondition(`factory ${factoryId} does not hold the lease on job ${job.id} epoch ${epoch}`);
    return;
  }
  const attempt = job.attempts.find((a) => a.epoch === epoch);
  if (!attempt || attempt.factoryId !== factoryId) throw failedPrecondition(`factory ${factoryId} did not run job ${job.id} epoch ${epoch}`);
  if (attempt.outcome === null || !FACTORY_ENDED.has(attempt.outcome)) {
    throw failedPrecondition(`job ${job.id} epoch ${epoch} ended ${attempt.outcome ?? 'without an outcome'} (taken back by the coordinator): factory ${factoryId} holds no lease to attach files under`);
  }
}

/** The factory holds the lease on `job` under exactly `epoch` now (fetching inputs for it). */
export function checkLeaseHeld(job: JobRecord, factoryId: string, epoch: number): void {
  if (!job.lease || job.lease.epoch !== epoch || job.lease.factoryId !== factoryId) {
    throw failedPrecondition(`factory ${factoryId} does not hold the lease on job ${job.id} epoch ${epoch}`);
  }
}

/** A product's quota refuses a file that would take its artifacts over max_total_bytes. */
export function checkQuota(productId: string, usedBytes: number, addBytes: number, retention: ArtifactRetention | null): void {
  const limit = retention?.maxTotalBytes ?? 0;
  if (limit > 0 && usedBytes + addBytes > limit) {
    throw new DomainError('resource_exhausted', `product ${productId} artifact quota exceeded: ${usedBytes} bytes used + ${addBytes} bytes new > limit ${limit} bytes`);
  }
}

export function checkRetention(retention: ArtifactRetention): ArtifactRetention {
  if (!Number.isSafeInteger(retention.maxAgeMs) || retention.maxAgeMs < 0) throw invalidArgument('artifact_retention.max_age must not be negative');
  if (!Number.isSafeInteger(retention.maxTotalBytes) || retention.maxTotalBytes < 0) throw invalidArgument('artifact_retention.max_total_bytes must not be negative');
  return retention;
}

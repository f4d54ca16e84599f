/**
 * Artifacts: the coordinator's side of uploads (declare, append, finish under the epoch fence and
 * the product's quota), reads (list, open a byte range) and a held job's fetches. Metadata lives in
 * the ArtifactStore, bytes in the BlobStore; this module is the only writer of either.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  checkArtifactName,
  checkAttemptHolder,
  checkContentType,
  checkLeaseHeld,
  checkQuota,
  checkSha256Hex,
  checkSize,
  ARTIFACT_CHUNK_BYTES,
  type ArtifactRecord,
  type ArtifactRetention,
  type UploadRecord,
} from '../domain/artifact.js';
import { DomainError, failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import { ArtifactExists, ArtifactQuotaExceeded, type ArtifactFilter, type ArtifactKey, type ArtifactStore } from '../store/artifact-store.js';
import { BlobStoreError, type BlobStore } from '../store/blobs/blob-store.js';
import type { Clock } from './clock.js';

/** What StartUpload declares: an upload before the coordinator names it and dates it. */
export type UploadDeclaration = Omit<UploadRecord, 'uploadId' | 'productId' | 'createdAt'>;

export interface UploadStart {
  uploadId: string;
  committedBytes: number;
  /** Set when the same file is already attached: nothing to send. */
  artifact: ArtifactRecord | null;
}

/** An artifact and a stream of its bytes from `offset`. */
export interface OpenedArtifact {
  artifact: ArtifactRecord;
  offset: number;
  bytes: Readable;
}

export interface ArtifactsDeps {
  jobs: { find(id: string): Promise<JobRecord | null> };
  store: ArtifactStore;
  /** Where the bytes live; null when this coordinator has none (Cosmos without blob settings): artifacts are off. */
  blobs: BlobStore | null;
  /** The product's retention and quota now (product settings). */
  retention: (productId: string) => ArtifactRetention | null;
  clock: Clock;
}

/** Why every artifact call is refused on a coordinator without blob storage. */
export const ARTIFACTS_OFF = 'artifacts are off: this coordinator stores jobs in Cosmos DB and has no blob storage; set GIGAFACTORY_BLOB_CONNECTION_STRING (or GIGAFACTORY_BLOB_ENDPOINT and GIGAFACTORY_BLOB_KEY)';

export class Artifacts {
  constructor(private readonly deps: ArtifactsDeps) {}

  /**
   * Checks the declaration and the fence, records the upload, and says how many bytes are held.
   * The id is derived from what is uploaded, so a restarted factory resumes by asking again.
   */
  async startUpload(declared: UploadDeclaration): Promise<UploadStart> {
    const upload = this.#validated(declared);
    const job = await this.#heldAttempt(upload.factoryId, upload.jobId, upload.epoch);
    const attached = await this.deps.store.getArtifact(upload);
    if (attached) {
      if (attached.sha256 === upload.sha256 && attached.sizeBytes === upload.sizeBytes) return { uploadId: upload.uploadId, committedBytes: attached.sizeBytes, artifact: attached };
      throw new DomainError('already_exists', `job ${upload.jobId} epoch ${upload.epoch} already has ${upload.kind} "${upload.name}" with other content`);
    }
    // Refuse early what the quota cannot take; FinishUpload checks again, atomically.
    checkQuota(job.productId, await this.deps.store.productUsage(job.productId), upload.sizeBytes, this.deps.retention(job.productId));
    await this.deps.store.putUpload({ ...upload, productId: job.productId, createdAt: this.deps.clock.now() });
    return { uploadId: upload.uploadId, committedBytes: await this.#blob(() => this.#blobs().uploadedBytes(upload.uploadId)), artifact: null };
  }

  /**
   * Appends a stream of chunks, each durable before the next is taken; returns the bytes held.
   * The fence is checked once, when the first chunk names the upload. `caller` as in #upload.
   */
  async appendChunks(caller: string | null, chunks: AsyncIterable<{ uploadId: string; offset: number; data: Uint8Array }>): Promise<number> {
    let upload: UploadRecord | null = null;
    let held = 0;
    for await (const chunk of chunks) {
      if (upload === null) {
        upload = await this.#upload(chunk.uploadId, caller);
        await this.#heldAttempt(upload.factoryId, upload.jobId, upload.epoch);
      } else if (chunk.uploadId !== upload.uploadId) {
        throw invalidArgument(`every message of an UploadChunks stream must name upload ${upload.uploadId}, not ${chunk.uploadId.slice(0, 80)}`);
      }
      if (chunk.data.length === 0) throw invalidArgument(`chunk at offset ${chunk.offset} is empty`);
      if (chunk.data.length > ARTIFACT_CHUNK_BYTES) throw new DomainError('resource_exhausted', `chunk of ${chunk.data.length} bytes is over the limit of ${ARTIFACT_CHUNK_BYTES} bytes (1 MiB)`);
      if (chunk.offset + chunk.data.length > upload.sizeBytes) {
        throw invalidArgument(`chunk at offset ${chunk.offset} of ${chunk.data.length} bytes goes past the declared size ${upload.sizeBytes}`);
      }
      const uploadId = upload.uploadId;
      held = await this.#blob(() => this.#blobs().appendChunk(uploadId, chunk.offset, chunk.data));
    }
    if (upload === null) throw invalidArgument('UploadChunks needs at least one chunk');
    return held;
  }

  /** Verifies size and digest over the stored bytes, files the blob, and attaches it under the fence and quota. */
  async finishUpload(caller: string | null, uploadId: string): Promise<ArtifactRecord> {
    const upload = await this.#upload(uploadId, caller);
    await this.#heldAttempt(upload.factoryId, upload.jobId, upload.epoch);
    try {
      await this.#blobs().commitUpload(uploadId, { size: upload.sizeBytes, sha256: upload.sha256 });
    } catch (err) {
      if (err instanceof BlobStoreError && (err.code === 'digest_mismatch' || err.code === 'size_mismatch')) {
        // The bytes are wrong (or missing): start again from zero rather than keep bad bytes.
        await this.#blobs().abandonUpload(uploadId);
        throw failedPrecondition(`${err.message}; the upload was discarded: start it again from offset 0`);
      }
      throw blobError(err);
    }
    const { uploadId: _id, ...fields } = upload;
    const artifact: ArtifactRecord = { ...fields, createdAt: this.deps.clock.now() };
    try {
      return await this.deps.store.attach(artifact, uploadId, this.deps.retention(upload.productId)?.maxTotalBytes ?? 0);
    } catch (err) {
      // The blob stays: unreferenced, the reaper deletes it after its grace (another upload may share it).
      if (err instanceof ArtifactQuotaExceeded) throw quotaError(err, upload.sizeBytes);
      if (err instanceof ArtifactExists) throw new DomainError('already_exists', err.message);
      throw err;
    }
  }

  /** A job's files; NOT_FOUND for an unknown job. */
  async list(jobId: string, filter: ArtifactFilter): Promise<ArtifactRecord[]> {
    if (!(await this.deps.jobs.find(jobId))) throw notFound(`job ${jobId} not found`);
    return this.deps.store.listArtifacts(jobId, filter);
  }

  /** One file's bytes from `offset` (at most `limit` bytes, 0 = to the end). */
  async open(key: ArtifactKey, offset: number, limit: number): Promise<OpenedArtifact> {
    checkArtifactName(key.name);
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalidArgument(`offset must be 0 or more, not ${offset}`);
    if (!Number.isSafeInteger(limit) || limit < 0) throw invalidArgument(`limit must be 0 or more, not ${limit}`);
    if (!(await this.deps.jobs.find(key.jobId))) throw notFound(`job ${key.jobId} not found`);
    const artifact = await this.deps.store.getArtifact(key);
    if (!artifact) throw notFound(`job ${key.jobId} has no ${key.kind} "${key.name.slice(0, 80)}"${key.epoch > 0 ? ` in epoch ${key.epoch}` : ''}`);
    if (offset > artifact.sizeBytes) throw new DomainError('out_of_range', `offset ${offset} is past the end of "${artifact.name.slice(0, 80)}" (${artifact.sizeBytes} bytes)`);
    const bytes = await this.#blob(() => this.#blobs().read(artifact.sha256, { offset, ...(limit > 0 ? { length: limit } : {}) }));
    return { artifact, offset, bytes };
  }

  /**
   * A file a held job needs: its own (a checkpoint of an earlier attempt) or one of a job it
   * depends on. The factory must hold the job's lease under exactly `epoch`.
   */
  async fetchForJob(factoryId: string, jobId: string, epoch: number, source: ArtifactKey, offset: number): Promise<OpenedArtifact> {
    const job = await this.#job(jobId);
    checkLeaseHeld(job, factoryId, epoch);
    if (source.jobId !== jobId && !(job.dependsOn ?? []).includes(source.jobId)) {
      throw failedPrecondition(`job ${jobId} does not depend on job ${source.jobId.slice(0, 80)}: it may fetch only its own files and its dependencies'`);
    }
    if (source.kind === 'checkpoint' && source.name === '' && source.epoch === 0) return this.open(await this.#latestCheckpoint(source.jobId), offset, 0);
    return this.open(source, offset, 0);
  }

  /**
   * The job's latest checkpoint: the last one of its latest attempt that saved any (an agent names
   * them checkpoint-<ms>.tar, so name order is upload order within an attempt).
   */
  async #latestCheckpoint(jobId: string): Promise<ArtifactKey> {
    const latest = (await this.deps.store.listArtifacts(jobId, { kind: 'checkpoint' })).at(-1);
    if (!latest) throw notFound(`job ${jobId.slice(0, 80)} has no checkpoint`);
    return latest;
  }

  #validated(d: UploadDeclaration): Omit<UploadRecord, 'productId' | 'createdAt'> {
    if (!d.factoryId) throw invalidArgument('factory_id is required');
    if (!d.jobId) throw invalidArgument('job_id is required');
    if (!Number.isSafeInteger(d.epoch) || d.epoch < 1) throw invalidArgument(`epoch must be 1 or more, not ${d.epoch}`);
    const name = checkArtifactName(d.name);
    const sizeBytes = checkSize(d.sizeBytes);
    const sha256 = checkSha256Hex(d.sha256);
    const contentType = checkContentType(d.contentType);
    const uploadId = `u${createHash('sha256').update(JSON.stringify([d.factoryId, d.jobId, d.epoch, d.kind, name, sizeBytes, sha256])).digest('hex')}`;
    return { uploadId, factoryId: d.factoryId, jobId: d.jobId, epoch: d.epoch, kind: d.kind, name, sizeBytes, sha256, contentType };
  }

  async #job(jobId: string): Promise<JobRecord> {
    const job = await this.deps.jobs.find(jobId);
    if (!job) throw notFound(`job ${jobId.slice(0, 80)} not found`);
    return job;
  }

  async #heldAttempt(factoryId: string, jobId: string, epoch: number): Promise<JobRecord> {
    const job = await this.#job(jobId);
    checkAttemptHolder(job, factoryId, epoch);
    return job;
  }

  /**
   * The upload, as its own factory declared it: another factory's id is refused like an unknown
   * one. `caller` is the factory token's identity, null without one (development mode).
   */
  async #upload(uploadId: string, caller: string | null): Promise<UploadRecord> {
    const upload = uploadId ? await this.deps.store.getUpload(uploadId) : null;
    if (!upload || (caller !== null && upload.factoryId !== caller)) throw notFound(`upload ${uploadId.slice(0, 80) || '(empty)'} not found: call StartUpload first`);
    return upload;
  }

  /** The blob store, or the refusal every artifact call gets while artifacts are off. */
  #blobs(): BlobStore {
    if (!this.deps.blobs) throw failedPrecondition(ARTIFACTS_OFF);
    return this.deps.blobs;
  }

  /** Runs a blob store call, turning its typed errors into the statuses clients get. */
  async #blob<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw blobError(err);
    }
  }
}

function blobError(err: unknown): unknown {
  if (!(err instanceof BlobStoreError)) return err;
  switch (err.code) {
    case 'offset_mismatch':
    case 'size_mismatch':
    case 'digest_mismatch':
      return failedPrecondition(err.message);
    case 'not_found':
      return notFound(err.message);
    case 'invalid_argument':
      return invalidArgument(err.message);
  }
}

function quotaError(err: ArtifactQuotaExceeded, addBytes: number): DomainError {
  return new DomainError('resource_exhausted', `product ${err.productId} artifact quota exceeded: ${err.usedBytes} bytes used + ${addBytes} bytes new > limit ${err.limitBytes} bytes`);
}

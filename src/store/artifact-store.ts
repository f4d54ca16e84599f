/**
 * Artifact metadata (domain/artifact.ts): which attempt attached which file under which digest,
 * the uploads in progress, and each product's usage for its quota. The bytes live in a BlobStore
 * (store/blobs/); a blob is deleted only when no artifact row names its digest any more.
 */
import type { ArtifactKind, ArtifactRecord, UploadRecord } from '../domain/artifact.js';

/** Which of a job's files to list; absent fields do not filter. */
export interface ArtifactFilter {
  epoch?: number;
  kind?: ArtifactKind;
}

/** The file named (job, epoch, kind, name); epoch 0 means the latest attempt that has it. */
export interface ArtifactKey {
  jobId: string;
  epoch: number;
  kind: ArtifactKind;
  name: string;
}

/** The row for (job, epoch, kind, name) exists with other content: a file is attached once. */
export class ArtifactExists extends Error {
  constructor(readonly existing: ArtifactRecord) {
    super(`job ${existing.jobId} epoch ${existing.epoch} already has ${existing.kind} "${existing.name}" with other content (sha256 ${existing.sha256})`);
    this.name = 'ArtifactExists';
  }
}

/** Attaching the file would take its product over its byte quota. */
export class ArtifactQuotaExceeded extends Error {
  constructor(
    readonly productId: string,
    readonly usedBytes: number,
    readonly limitBytes: number,
  ) {
    super(`product ${productId} has ${usedBytes} bytes of artifacts; the quota is ${limitBytes}`);
    this.name = 'ArtifactQuotaExceeded';
  }
}

export interface ArtifactStore {
  /** Records an upload (or keeps the one already recorded under its id). */
  putUpload(upload: UploadRecord): Promise<void>;
  getUpload(uploadId: string): Promise<UploadRecord | null>;
  deleteUpload(uploadId: string): Promise<void>;
  /** Uploads begun before `before` (the reaper abandons them with their bytes). */
  listUploadsBefore(before: number, limit: number): Promise<UploadRecord[]>;

  /**
   * Attaches `artifact` and drops its upload, at once. The same content attached again returns
   * the stored row; other content under the same key throws ArtifactExists. With `quotaBytes` > 0
   * the product's usage plus this file must fit (else ArtifactQuotaExceeded, nothing written).
   */
  attach(artifact: ArtifactRecord, uploadId: string, quotaBytes: number): Promise<ArtifactRecord>;
  getArtifact(key: ArtifactKey): Promise<ArtifactRecord | null>;
  /** A job's files ordered by epoch, kind, name. */
  listArtifacts(jobId: string, filter: ArtifactFilter): Promise<ArtifactRecord[]>;
  /** The bytes a product's artifacts take (each attachment counts its size). */
  productUsage(productId: string): Promise<number>;
  /** Up to `limit` of a product's files created before `before`, oldest first (retention). */
  listCreatedBefore(productId: string, before: number, limit: number): Promise<ArtifactRecord[]>;
  /** Removes the rows (by key); returns the digests no row names any more. */
  deleteArtifacts(artifacts: readonly ArtifactRecord[]): Promise<string[]>;
  /** Whether any row names the digest (the reaper keeps such blobs). */
  isReferenced(sha256: string): Promise<boolean>;
  /** The products that have artifacts (the retention reaper walks them). */
  listProducts(): Promise<string[]>;
  close(): Promise<void>;
}

/** Epoch, then kind, then name: the order every provider lists in. */
export function artifactOrder(a: ArtifactRecord, b: ArtifactRecord): number {
  return a.epoch - b.epoch || cmp(a.kind, b.kind) || cmp(a.name, b.name);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

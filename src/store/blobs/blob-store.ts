/**
 * Where artifact and checkpoint bytes live: a content-addressed store of immutable blobs named by
 * their SHA-256, filled by resumable uploads. The metadata (which job produced which file under
 * which digest) lives elsewhere; this contract only moves and keeps bytes.
 *
 * An upload is named by its caller (an opaque id, see UPLOAD_ID_PATTERN) and grows by appending
 * chunks at the offset the store already holds, each durable when its promise resolves, so an
 * agent whose stream breaks asks `uploadedBytes` and carries on from there. `commitUpload` checks
 * the size and SHA-256 the uploader announced against the bytes actually stored and only then files
 * them under the digest: a blob that is visible is always whole and correct. Two uploads of the
 * same content end as one blob.
 *
 * Providers: the filesystem (SQLite mode, under the data dir; fs-blob-store.ts) and Azure Blob
 * Storage (Cosmos mode; azure-blob-store.ts). Both pass test/store/blob-store-contract.test.ts.
 */
import type { Readable } from 'node:stream';

/** A blob's name: lowercase hex SHA-256 of its bytes. */
export type Sha256Hex = string;

export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
/** Upload ids: letters, digits, "_" and "-", 1-128 characters (safe as a file and blob name). */
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export interface BlobInfo {
  sha256: Sha256Hex;
  size: number;
  /**
   * When an upload last filed these bytes. A de-duplicated commit refreshes it, so a reaper that
   * spares young blobs (see `delete`'s onlyIfCommittedBefore) never deletes content just committed
   * again but not yet referenced.
   */
  committedAt: Date;
}

export interface CommittedBlob extends BlobInfo {
  /** True when the content was already stored: this upload was dropped and the old blob kept. */
  deduplicated: boolean;
}

export interface UploadInfo {
  uploadId: string;
  /** Bytes durably held. */
  bytes: number;
  /** The last time a chunk was appended (or the upload began, before any). */
  lastWriteAt: Date;
}

/** Half-open byte range [offset, offset + length) of a blob; length omitted: to the end. */
export interface ByteRange {
  offset: number;
  length?: number;
}

export interface BlobStore {
  /** 'fs' or 'azure', for logs and metrics. */
  readonly kind: string;

  /**
   * Bytes durably held for `uploadId`: where the next chunk must start. 0 for an upload never
   * begun (or abandoned). Anything a crash left past the last acknowledged chunk is discarded here.
   */
  uploadedBytes(uploadId: string): Promise<number>;

  /**
   * Appends `chunk` at `offset`, which must equal the bytes held (else UploadOffsetMismatch, and
   * nothing is written). The chunk is durable when the promise resolves; resolves to the new
   * total. Offset 0 on an unknown id begins the upload. An empty chunk is refused.
   */
  appendChunk(uploadId: string, offset: number, chunk: Uint8Array): Promise<number>;

  /**
   * Checks the held bytes against the announced size (UploadSizeMismatch) and SHA-256
   * (UploadDigestMismatch), computed over what is stored; on success files them as the blob named
   * by the digest (or keeps the one already there) and forgets the upload. On a mismatch nothing
   * becomes visible and the upload is left as it was, so the caller may abandon it. An id never
   * begun holds 0 bytes: committing it with size 0 files the empty blob.
   */
  commitUpload(uploadId: string, expected: { size: number; sha256: Sha256Hex }): Promise<CommittedBlob>;

  /** Drops an upload and its bytes; nothing to do for an unknown id. */
  abandonUpload(uploadId: string): Promise<void>;

  /** Uploads with no chunk appended since `before` (the reaper abandons them). */
  listIdleUploads(before: Date): Promise<UploadInfo[]>;

  /** The blob's size and age, or null when it is not stored. */
  stat(sha256: Sha256Hex): Promise<BlobInfo | null>;

  has(sha256: Sha256Hex): Promise<boolean>;

  /**
   * The blob's bytes, or the `range` of them, as a stream. BlobNotFound when it is not stored,
   * InvalidBlobArgument when the range starts past the end (a range may end past it: it is cut).
   */
  read(sha256: Sha256Hex, range?: ByteRange): Promise<Readable>;

  /**
   * Deletes a blob; false when it was not stored, or when `onlyIfCommittedBefore` is given and an
   * upload filed the blob at or after it (the reaper passes its cut-off, so a commit racing the
   * reaper keeps its blob).
   */
  delete(sha256: Sha256Hex, options?: { onlyIfCommittedBefore?: Date }): Promise<boolean>;

  /** Every stored blob, for the reaper to match against the blobs metadata still references. */
  listBlobs(): AsyncIterable<BlobInfo>;

  close(): Promise<void>;
}

/** Every error a BlobStore throws on purpose; `code` tells them apart without instanceof chains. */
export abstract class BlobStoreError extends Error {
  abstract readonly code: 'offset_mismatch' | 'size_mismatch' | 'digest_mismatch' | 'not_found' | 'invalid_argument';
}

/** A chunk was offered at the wrong offset; `heldBytes` is where it should have started. */
export class UploadOffsetMismatch extends BlobStoreError {
  readonly code = 'offset_mismatch';
  constructor(
    readonly uploadId: string,
    readonly offset: number,
    readonly heldBytes: number,
  ) {
    super(`upload ${uploadId}: a chunk at offset ${offset} does not follow the ${heldBytes} bytes held; resume at ${heldBytes}`);
    this.name = 'UploadOffsetMismatch';
  }
}

/** The upload holds a different number of bytes than announced at commit. */
export class UploadSizeMismatch extends BlobStoreError {
  readonly code = 'size_mismatch';
  constructor(
    readonly uploadId: string,
    readonly expectedSize: number,
    readonly heldBytes: number,
  ) {
    super(`upload ${uploadId}: ${heldBytes} bytes held, but the upload was announced as ${expectedSize} bytes`);
    this.name = 'UploadSizeMismatch';
  }
}

/** The stored bytes hash to something other than the announced SHA-256. */
export class UploadDigestMismatch extends BlobStoreError {
  readonly code = 'digest_mismatch';
  constructor(
    readonly uploadId: string,
    readonly expectedSha256: Sha256Hex,
    readonly actualSha256: Sha256Hex,
  ) {
    super(`upload ${uploadId}: the stored bytes have SHA-256 ${actualSha256}, not the announced ${expectedSha256}`);
    this.name = 'UploadDigestMismatch';
  }
}

/** No blob with that digest. */
export class BlobNotFound extends BlobStoreError {
  readonly code = 'not_found';
  constructor(readonly what: string) {
    super(`${what} is not stored`);
    this.name = 'BlobNotFound';
  }
}

/** A malformed id, digest, offset or range, or an empty chunk. */
export class InvalidBlobArgument extends BlobStoreError {
  readonly code = 'invalid_argument';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBlobArgument';
  }
}

export function checkUploadId(uploadId: string): void {
  if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new InvalidBlobArgument(`upload id "${uploadId}" must be 1-128 letters, digits, "_" or "-", starting with a letter or digit`);
}

export function checkSha256(sha256: string): void {
  if (!SHA256_HEX_PATTERN.test(sha256)) throw new InvalidBlobArgument(`digest "${sha256}" must be 64 lowercase hex digits (a SHA-256)`);
}

/** The [start, end) a `range` of a blob of `size` bytes covers; InvalidBlobArgument when it starts past the end. */
export function resolveRange(sha256: Sha256Hex, size: number, range: ByteRange | undefined): { start: number; end: number } {
  const start = range?.offset ?? 0;
  checkByteCount('range offset', start);
  if (range?.length !== undefined) checkByteCount('range length', range.length);
  if (start > size) throw new InvalidBlobArgument(`range offset ${start} is past the end of blob ${sha256} (${size} bytes)`);
  return { start, end: range?.length === undefined ? size : Math.min(size, start + range.length) };
}

/** The arguments of appendChunk, checked the same way by every provider. */
export function checkAppend(uploadId: string, offset: number, chunk: Uint8Array): void {
  checkUploadId(uploadId);
  checkByteCount('offset', offset);
  if (chunk.length === 0) throw new InvalidBlobArgument(`upload ${uploadId}: a chunk must hold at least one byte`);
}

/** The arguments of commitUpload, checked the same way by every provider. */
export function checkCommit(uploadId: string, expected: { size: number; sha256: Sha256Hex }): void {
  checkUploadId(uploadId);
  checkByteCount('size', expected.size);
  checkSha256(expected.sha256);
}

export function checkByteCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidBlobArgument(`${name} must be a whole number of bytes >= 0, not ${value}`);
}

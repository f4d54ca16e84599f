/**
 * Blobs as files under the coordinator's data dir (SQLite mode):
 *
 *   <root>/blobs/sha256/ab/cdef…   a blob, named by its digest (first two hex digits as a directory)
 *   <root>/uploads/<id>/data       an upload's bytes so far
 *   <root>/uploads/<id>/journal    one record per acknowledged chunk (upload-journal.ts)
 *
 * A chunk is acknowledged only after its bytes and its journal record are both fdatasync'ed; a new
 * file or directory only after its directory is fsync'ed. Recovery (the first time this process
 * touches an upload) trusts the data only as far as the journal's chain of records whose last chunk
 * still hashes right, and truncates both files to that, so a chunk torn by a crash is dropped.
 *
 * The upload's SHA-256 is kept running in memory as chunks are appended, so no chunk is read back.
 * Node cannot save a hash's state, so after a restart the state is re-derived once, by hashing the
 * recovered prefix, at the upload's next append or commit. Commit then files the data file under
 * its digest by rename(2) (or keeps the blob already there: de-duplication), and fsyncs the blob's
 * directory before the upload's journal is removed.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../private-files.js';
import { BlobNotFound, checkAppend, checkCommit, checkSha256, checkUploadId, resolveRange, UPLOAD_ID_PATTERN, UploadDigestMismatch, UploadOffsetMismatch, UploadSizeMismatch, type BlobInfo, type BlobStore, type ByteRange, type CommittedBlob, type Sha256Hex, type UploadInfo } from './blob-store.js';
import { KeyedLock } from './keyed-lock.js';
import { chainedRecords, chunkSha256, coveredBytes, encodeRecord, JOURNAL_RECORD_BYTES } from './upload-journal.js';

const READ_PIECE_BYTES = 1 << 20;

/** What this process knows of an upload it has touched; `hash` covers exactly `bytes`. */
interface UploadState {
  bytes: number;
  records: number;
  hash: Hash | null;
}

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs';
  private readonly uploads = new Map<string, UploadState>();
  private readonly locks = new KeyedLock();

  private constructor(private readonly root: string) {}

  /** Opens (creating when missing, owner only) the store rooted at `root`. */
  static async open(root: string): Promise<FsBlobStore> {
    await makeDurableDir(join(root, 'uploads'));
    await makeDurableDir(join(root, 'blobs', 'sha256'));
    return new FsBlobStore(root);
  }

  async uploadedBytes(uploadId: string): Promise<number> {
    checkUploadId(uploadId);
    return this.locks.run(`upload:${uploadId}`, async () => (await this.recover(uploadId))?.bytes ?? 0);
  }

  async appendChunk(uploadId: string, offset: number, chunk: Uint8Array): Promise<number> {
    checkAppend(uploadId, offset, chunk);
    return this.locks.run(`upload:${uploadId}`, async () => {
      const known = await this.recover(uploadId);
      if (offset !== (known?.bytes ?? 0)) throw new UploadOffsetMismatch(uploadId, offset, known?.bytes ?? 0);
      const state = known ?? (await this.begin(uploadId));
      const hash = await this.runningHash(uploadId, state);
      const dir = this.uploadDir(uploadId);
      // Forget the state on any failure: the files may hold part of the chunk, and the next call
      // recovers from what the journal says was acknowledged.
      this.uploads.delete(uploadId);
      await Promise.all([
        withFile(join(dir, 'data'), async (file) => {
          await writeAllAt(file, chunk, offset);
          await file.datasync();
        }),
        withFile(join(dir, 'journal'), async (file) => {
          await writeAllAt(file, encodeRecord({ offset, length: chunk.length, sha256: chunkSha256(chunk) }), state.records * JOURNAL_RECORD_BYTES);
          await file.datasync();
        }),
      ]);
      hash.update(chunk);
      const next = { bytes: offset + chunk.length, records: state.records + 1, hash };
      this.uploads.set(uploadId, next);
      return next.bytes;
    });
  }

  async commitUpload(uploadId: string, expected: { size: number; sha256: Sha256Hex }): Promise<CommittedBlob> {
    checkCommit(uploadId, expected);
    return this.locks.run(`upload:${uploadId}`, async () => {
      const state = (await this.recover(uploadId)) ?? (expected.size === 0 ? await this.begin(uploadId) : null);
      if (state === null) return this.alreadyStored(uploadId, expected);
      if (state.bytes !== expected.size) throw new UploadSizeMismatch(uploadId, expected.size, state.bytes);
      const actual = (await this.runningHash(uploadId, state)).copy().digest('hex');
      if (actual !== expected.sha256) throw new UploadDigestMismatch(uploadId, expected.sha256, actual);
      const committed = await this.locks.run(`blob:${actual}`, () => this.file(uploadId, actual, state.bytes));
      this.uploads.delete(uploadId);
      await rm(this.uploadDir(uploadId), { recursive: true, force: true });
      return committed;
    });
  }

  /**
   * A commit for an upload that holds nothing, of content already stored: the upload was filed,
   * then a crash or a lost reply made the uploader commit again.
   */
  private async alreadyStored(uploadId: string, expected: { size: number; sha256: Sha256Hex }): Promise<CommittedBlob> {
    return this.locks.run(`blob:${expected.sha256}`, async () => {
      const stored = await this.stat(expected.sha256);
      if (stored === null || stored.size !== expected.size) throw new UploadSizeMismatch(uploadId, expected.size, 0);
      return this.touch(expected.sha256, expected.size);
    });
  }

  async abandonUpload(uploadId: string): Promise<void> {
    checkUploadId(uploadId);
    return this.locks.run(`upload:${uploadId}`, async () => {
      this.uploads.delete(uploadId);
      await rm(this.uploadDir(uploadId), { recursive: true, force: true });
    });
  }

  async listIdleUploads(before: Date): Promise<UploadInfo[]> {
    const idle: UploadInfo[] = [];
    for (const uploadId of await readdir(join(this.root, 'uploads'))) {
      if (!UPLOAD_ID_PATTERN.test(uploadId)) continue;
      const info = await this.locks.run(`upload:${uploadId}`, async () => {
        const state = await this.recover(uploadId);
        // No journal: a crash inside begin left the directory alone; listed so it is cleared.
        const lastWriteAt = (await modifiedAt(join(this.uploadDir(uploadId), 'journal'))) ?? (await modifiedAt(this.uploadDir(uploadId)));
        return lastWriteAt === null ? null : { uploadId, bytes: state?.bytes ?? 0, lastWriteAt };
      });
      if (info !== null && info.lastWriteAt < before) idle.push(info);
    }
    return idle;
  }

  async stat(sha256: Sha256Hex): Promise<BlobInfo | null> {
    checkSha256(sha256);
    const found = await statOrNull(this.blobPath(sha256));
    return found === null ? null : { sha256, size: found.size, committedAt: found.mtime };
  }

  async has(sha256: Sha256Hex): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async read(sha256: Sha256Hex, range?: ByteRange): Promise<Readable> {
    checkSha256(sha256);
    let file: FileHandle;
    try {
      // Opened before it is measured, so a delete racing the read cannot pull the bytes away.
      file = await open(this.blobPath(sha256), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFound(`blob ${sha256}`);
      throw err;
    }
    try {
      const { start, end } = resolveRange(sha256, (await file.stat()).size, range);
      if (end === start) {
        await file.close();
        return Readable.from([]);
      }
      // 1 MiB reads rather than the default 64 KiB: a sixteenth of the thread-pool round trips.
      return createReadStream('', { fd: file, start, end: end - 1, highWaterMark: READ_PIECE_BYTES });
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async delete(sha256: Sha256Hex, options: { onlyIfCommittedBefore?: Date } = {}): Promise<boolean> {
    checkSha256(sha256);
    return this.locks.run(`blob:${sha256}`, async () => {
      const found = await statOrNull(this.blobPath(sha256));
      if (found === null) return false;
      if (options.onlyIfCommittedBefore !== undefined && found.mtime >= options.onlyIfCommittedBefore) return false;
      await unlink(this.blobPath(sha256));
      return true;
    });
  }

  async *listBlobs(): AsyncIterable<BlobInfo> {
    const shards = join(this.root, 'blobs', 'sha256');
    for (const shard of (await readdir(shards)).sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const rest of (await readdir(join(shards, shard))).sort()) {
        const info = /^[0-9a-f]{62}$/.test(rest) ? await this.stat(shard + rest) : null;
        if (info !== null) yield info;
      }
    }
  }

  /** Nothing is held open between calls. */
  async close(): Promise<void> {}

  private uploadDir(uploadId: string): string {
    return join(this.root, 'uploads', uploadId);
  }

  private blobPath(sha256: Sha256Hex): string {
    return join(this.root, 'blobs', 'sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  /**
   * This process's state of the upload, recovering it from disk the first time: the journal's
   * chained records, less a last record whose chunk does not hash right (a crash between the data
   * and the journal reaching the disk), with both files cut back to what is left. Null when no
   * such upload exists.
   */
  private async recover(uploadId: string): Promise<UploadState | null> {
    const known = this.uploads.get(uploadId);
    if (known !== undefined) return known;
    const dir = this.uploadDir(uploadId);
    let journal: Buffer;
    try {
      journal = await readFile(join(dir, 'journal'));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    if ((await statOrNull(join(dir, 'data'))) === null) {
      // Filed as a blob, then a crash before the upload's directory was removed.
      await rm(dir, { recursive: true, force: true });
      return null;
    }
    const records = chainedRecords(journal);
    const last = records.at(-1);
    if (last !== undefined && !(await chunkIsIntact(join(dir, 'data'), last.offset, last.length, last.sha256))) records.pop();
    const bytes = coveredBytes(records);
    await cutTo(join(dir, 'data'), bytes);
    await cutTo(join(dir, 'journal'), records.length * JOURNAL_RECORD_BYTES);
    const state = { bytes, records: records.length, hash: null };
    this.uploads.set(uploadId, state);
    return state;
  }

  /** Creates an upload's directory and empty files, durably. */
  private async begin(uploadId: string): Promise<UploadState> {
    const dir = this.uploadDir(uploadId);
    await rm(dir, { recursive: true, force: true }); // left by a crash inside an earlier begin
    await mkdir(dir, { mode: PRIVATE_DIR_MODE });
    for (const name of ['data', 'journal']) await (await open(join(dir, name), 'wx', PRIVATE_FILE_MODE)).close();
    await syncDir(dir);
    await syncDir(join(this.root, 'uploads'));
    const state = { bytes: 0, records: 0, hash: createHash('sha256') };
    this.uploads.set(uploadId, state);
    return state;
  }

  /** The running hash of the upload's bytes, re-derived from the data file after a restart. */
  private async runningHash(uploadId: string, state: UploadState): Promise<Hash> {
    if (state.hash !== null) return state.hash;
    const hash = createHash('sha256');
    if (state.bytes > 0) {
      for await (const piece of createReadStream(join(this.uploadDir(uploadId), 'data'), { start: 0, end: state.bytes - 1 })) hash.update(piece as Buffer);
    }
    state.hash = hash;
    return hash;
  }

  /**
   * Files the upload's data as the blob `sha256` by renaming it into place, or keeps the blob
   * already there (de-duplicated). Either way the blob's time is set to now, so the reaper sees it
   * as just committed. Run under the blob's lock, so the check and the rename cannot interleave
   * with another commit or a delete of the same digest.
   */
  private async file(uploadId: string, sha256: Sha256Hex, size: number): Promise<CommittedBlob> {
    if ((await statOrNull(this.blobPath(sha256))) !== null) return this.touch(sha256, size);
    const shard = join(this.root, 'blobs', 'sha256', sha256.slice(0, 2));
    await makeDurableDir(shard);
    const data = join(this.uploadDir(uploadId), 'data');
    const now = new Date();
    await utimes(data, now, now);
    await rename(data, this.blobPath(sha256));
    await syncDir(shard);
    return { sha256, size, committedAt: (await stat(this.blobPath(sha256))).mtime, deduplicated: false };
  }

  private async touch(sha256: Sha256Hex, size: number): Promise<CommittedBlob> {
    const now = new Date();
    await utimes(this.blobPath(sha256), now, now);
    return { sha256, size, committedAt: (await stat(this.blobPath(sha256))).mtime, deduplicated: true };
  }
}

async function withFile<T>(path: string, work: (file: FileHandle) => Promise<T>): Promise<T> {
  const file = await open(path, 'r+');
  try {
    return await work(file);
  } finally {
    await file.close();
  }
}

async function writeAllAt(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

async function chunkIsIntact(path: string, offset: number, length: number, sha256: Buffer): Promise<boolean> {
  return withFile(path, async (file) => {
    const bytes = Buffer.alloc(length);
    const { bytesRead } = await file.read(bytes, 0, length, offset);
    return bytesRead === length && chunkSha256(bytes).equals(sha256);
  });
}

/** Truncates `path` to `size` bytes when it is longer, durably. */
async function cutTo(path: string, size: number): Promise<void> {
  if ((await stat(path)).size <= size) return;
  await truncate(path, size);
  await withFile(path, (file) => file.sync());
}

/** mkdir -p, owner only, with each directory it creates made durable in its parent. */
async function makeDurableDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  for (let created = dir; created.length >= first.length; created = join(created, '..')) await syncDir(join(created, '..'));
}

/** fsync on a directory makes its entries (files created, renamed or linked in it) durable. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // no directory handles to sync there
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function modifiedAt(path: string): Promise<Date | null> {
  return (await statOrNull(path))?.mtime ?? null;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

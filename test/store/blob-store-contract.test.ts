/**
 * The BlobStore contract, run against each provider: the filesystem store in a temp dir and the
 * Azure Blob store against azurite on a loopback port. Then what only the filesystem store has to
 * get right: a crash that tears a chunk, and private file modes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobNotFound, InvalidBlobArgument, UploadDigestMismatch, UploadOffsetMismatch, UploadSizeMismatch, type BlobStore } from '../../src/store/blobs/blob-store.js';
import { AzureBlobStore } from '../../src/store/blobs/azure-blob-store.js';
import { FsBlobStore } from '../../src/store/blobs/fs-blob-store.js';
import { JOURNAL_RECORD_BYTES } from '../../src/store/blobs/upload-journal.js';
import { startAzurite, type Azurite } from '../support/azurite.js';

interface Harness {
  store: BlobStore;
  /** The same storage opened afresh, as after a restart. */
  reopen(): Promise<BlobStore>;
  cleanup(): Promise<void>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

async function uploadWhole(store: BlobStore, uploadId: string, bytes: Buffer, chunkBytes = 1000) {
  for (let at = 0; at < bytes.length; at += chunkBytes) await store.appendChunk(uploadId, at, bytes.subarray(at, at + chunkBytes));
  return store.commitUpload(uploadId, { size: bytes.length, sha256: sha256(bytes) });
}

function describeBlobStoreContract(name: string, openHarness: () => Promise<Harness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await openHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('stores an upload under its digest and reads it back whole and by range', async () => {
      const bytes = randomBytes(5_000);
      const committed = await uploadWhole(h.store, 'up-1', bytes);
      expect(committed).toMatchObject({ sha256: sha256(bytes), size: 5_000, deduplicated: false });
      expect(await h.store.has(sha256(bytes))).toBe(true);
      expect(await h.store.stat(sha256(bytes))).toMatchObject({ sha256: sha256(bytes), size: 5_000 });
      expect((await readAll(await h.store.read(sha256(bytes)))).equals(bytes)).toBe(true);
      expect((await readAll(await h.store.read(sha256(bytes), { offset: 1_234, length: 777 }))).equals(bytes.subarray(1_234, 2_011))).toBe(true);
      expect((await readAll(await h.store.read(sha256(bytes), { offset: 4_990 }))).equals(bytes.subarray(4_990))).toBe(true);
      expect((await readAll(await h.store.read(sha256(bytes), { offset: 4_000, length: 10_000 }))).equals(bytes.subarray(4_000))).toBe(true);
      expect((await readAll(await h.store.read(sha256(bytes), { offset: 5_000 }))).length).toBe(0);
      await expect(h.store.read(sha256(bytes), { offset: 5_001 })).rejects.toBeInstanceOf(InvalidBlobArgument);
      expect(await h.store.uploadedBytes('up-1')).toBe(0);
    });

    it('resumes an upload after a break, in this process and after a restart', async () => {
      const bytes = randomBytes(4_000);
      expect(await h.store.appendChunk('up-r', 0, bytes.subarray(0, 1_500))).toBe(1_500);
      expect(await h.store.uploadedBytes('up-r')).toBe(1_500);
      const again = await h.reopen();
      expect(await again.uploadedBytes('up-r')).toBe(1_500);
      expect(await again.appendChunk('up-r', 1_500, bytes.subarray(1_500, 3_000))).toBe(3_000);
      expect(await again.appendChunk('up-r', 3_000, bytes.subarray(3_000))).toBe(4_000);
      const committed = await again.commitUpload('up-r', { size: 4_000, sha256: sha256(bytes) });
      expect(committed.sha256).toBe(sha256(bytes));
      expect((await readAll(await again.read(sha256(bytes)))).equals(bytes)).toBe(true);
      await again.close();
    });

    it('refuses a chunk at the wrong offset and writes nothing of it', async () => {
      await h.store.appendChunk('up-o', 0, Buffer.from('hello '));
      const ahead = await h.store.appendChunk('up-o', 9, Buffer.from('world')).catch((e: unknown) => e);
      expect(ahead).toBeInstanceOf(UploadOffsetMismatch);
      expect(ahead).toMatchObject({ code: 'offset_mismatch', offset: 9, heldBytes: 6 });
      await expect(h.store.appendChunk('up-o', 2, Buffer.from('world'))).rejects.toBeInstanceOf(UploadOffsetMismatch);
      await expect(h.store.appendChunk('never-begun', 5, Buffer.from('x'))).rejects.toMatchObject({ heldBytes: 0 });
      expect(await h.store.uploadedBytes('up-o')).toBe(6);
      expect(await h.store.listIdleUploads(new Date(Date.now() + 60_000))).toEqual([expect.objectContaining({ uploadId: 'up-o' })]);
      await h.store.appendChunk('up-o', 6, Buffer.from('world'));
      const committed = await h.store.commitUpload('up-o', { size: 11, sha256: sha256(Buffer.from('hello world')) });
      expect((await readAll(await h.store.read(committed.sha256))).toString()).toBe('hello world');
    });

    it('takes one of two chunks sent at once for the same offset, and refuses the other', async () => {
      const results = await Promise.allSettled([h.store.appendChunk('race', 0, Buffer.from('first')), h.store.appendChunk('race', 0, Buffer.from('other'))]);
      expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([5]);
      expect(results.filter((r) => r.status === 'rejected').map((r) => r.reason)).toEqual([expect.any(UploadOffsetMismatch)]);
      expect(await h.store.uploadedBytes('race')).toBe(5);
    });

    it('a digest or size mismatch leaves nothing visible and the upload as it was', async () => {
      const bytes = Buffer.from('the real bytes');
      await h.store.appendChunk('up-d', 0, bytes);
      const wrong = sha256(Buffer.from('other bytes'));
      const err = await h.store.commitUpload('up-d', { size: bytes.length, sha256: wrong }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UploadDigestMismatch);
      expect(err).toMatchObject({ code: 'digest_mismatch', expectedSha256: wrong, actualSha256: sha256(bytes) });
      await expect(h.store.commitUpload('up-d', { size: 99, sha256: sha256(bytes) })).rejects.toBeInstanceOf(UploadSizeMismatch);
      expect(await h.store.has(wrong)).toBe(false);
      expect(await h.store.has(sha256(bytes))).toBe(false);
      expect(await collect(h.store.listBlobs())).toEqual([]);
      expect(await h.store.uploadedBytes('up-d')).toBe(bytes.length);
      await h.store.abandonUpload('up-d');
      expect(await h.store.uploadedBytes('up-d')).toBe(0);
    });

    it('keeps one blob for two uploads of the same bytes, and a repeated commit finds it', async () => {
      const bytes = randomBytes(3_000);
      const first = await uploadWhole(h.store, 'dup-a', bytes);
      const second = await uploadWhole(h.store, 'dup-b', bytes, 700);
      expect(first.deduplicated).toBe(false);
      expect(second).toMatchObject({ sha256: first.sha256, size: 3_000, deduplicated: true });
      expect(second.committedAt.getTime()).toBeGreaterThanOrEqual(first.committedAt.getTime());
      // The uploader's commit reply was lost and it commits again: the blob is there.
      expect(await h.store.commitUpload('dup-b', { size: 3_000, sha256: first.sha256 })).toMatchObject({ deduplicated: true });
      expect((await collect(h.store.listBlobs())).map((b) => b.sha256)).toEqual([first.sha256]);
    });

    it('stores the empty blob', async () => {
      const empty = sha256(Buffer.alloc(0));
      expect(await h.store.commitUpload('empty', { size: 0, sha256: empty })).toMatchObject({ sha256: empty, size: 0 });
      expect((await readAll(await h.store.read(empty))).length).toBe(0);
    });

    it('deletes a blob, and spares one committed after the reaper cut-off', async () => {
      const a = await uploadWhole(h.store, 'del-a', Buffer.from('aaa'));
      const b = await uploadWhole(h.store, 'del-b', Buffer.from('bbb'));
      expect(await h.store.delete(a.sha256)).toBe(true);
      expect(await h.store.delete(a.sha256)).toBe(false);
      expect(await h.store.has(a.sha256)).toBe(false);
      await expect(h.store.read(a.sha256)).rejects.toBeInstanceOf(BlobNotFound);
      const cutoff = new Date(b.committedAt.getTime() - 60_000);
      expect(await h.store.delete(b.sha256, { onlyIfCommittedBefore: cutoff })).toBe(false);
      expect(await h.store.has(b.sha256)).toBe(true);
      expect(await h.store.delete(b.sha256, { onlyIfCommittedBefore: new Date(Date.now() + 60_000) })).toBe(true);
    });

    it('lists uploads idle since a time, and abandons them', async () => {
      await h.store.appendChunk('idle-1', 0, Buffer.from('abc'));
      const after = new Date(Date.now() + 60_000);
      expect(await h.store.listIdleUploads(new Date(Date.now() - 60_000))).toEqual([]);
      const idle = await h.store.listIdleUploads(after);
      expect(idle).toEqual([{ uploadId: 'idle-1', bytes: 3, lastWriteAt: expect.any(Date) }]);
      await h.store.abandonUpload('idle-1');
      expect(await h.store.listIdleUploads(after)).toEqual([]);
      await h.store.abandonUpload('idle-1');
    });

    it('refuses malformed ids, digests, offsets and empty chunks with a message naming them', async () => {
      await expect(h.store.appendChunk('../etc', 0, Buffer.from('x'))).rejects.toThrow(/upload id "..\/etc"/);
      await expect(h.store.appendChunk('ok', -1, Buffer.from('x'))).rejects.toThrow(/offset must be/);
      await expect(h.store.appendChunk('ok', 0, Buffer.alloc(0))).rejects.toThrow(/at least one byte/);
      await expect(h.store.stat('ABC')).rejects.toThrow(/digest "ABC"/);
      await expect(h.store.read('z'.repeat(64))).rejects.toBeInstanceOf(InvalidBlobArgument);
      await expect(h.store.commitUpload('ok', { size: 1.5, sha256: 'a'.repeat(64) })).rejects.toThrow(/size must be/);
      expect(await h.store.uploadedBytes('ok')).toBe(0);
    });
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describeBlobStoreContract('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'gf-blobs-'));
  return {
    store: await FsBlobStore.open(root),
    reopen: () => FsBlobStore.open(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('against azurite', () => {
  let azurite: Azurite;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  describeBlobStoreContract('Azure Blob Storage', async () => {
    const container = azurite.freshContainer();
    const open = () => AzureBlobStore.open({ connectionString: azurite.connectionString }, container);
    return { store: await open(), reopen: open, cleanup: async () => {} };
  });

  it('lets two replicas take turns on one upload, each resuming where the other stopped', async () => {
    const container = azurite.freshContainer();
    const [a, b] = await Promise.all([1, 2].map(() => AzureBlobStore.open({ connectionString: azurite.connectionString }, container)));
    const bytes = randomBytes(3_000);
    await a!.appendChunk('turns', 0, bytes.subarray(0, 1_000));
    await b!.appendChunk('turns', await b!.uploadedBytes('turns'), bytes.subarray(1_000, 2_000));
    // A still remembers ending at 1,000; the upload moved on under it.
    await expect(a!.appendChunk('turns', 1_000, bytes.subarray(1_000, 2_000))).resolves.toBe(2_000);
    await a!.appendChunk('turns', 2_000, bytes.subarray(2_000));
    expect(await b!.commitUpload('turns', { size: 3_000, sha256: sha256(bytes) })).toMatchObject({ sha256: sha256(bytes), size: 3_000 });
    expect((await readAll(await a!.read(sha256(bytes)))).equals(bytes)).toBe(true);
  });
});

describe('FsBlobStore on disk', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gf-blobs-fs-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('drops a chunk torn by a crash and resumes from the last acknowledged byte', async () => {
    const dir = join(root, 'torn');
    const store = await FsBlobStore.open(dir);
    const bytes = randomBytes(3_000);
    await store.appendChunk('t', 0, bytes.subarray(0, 1_000));
    await store.appendChunk('t', 1_000, bytes.subarray(1_000, 2_000));
    // The crash: the next chunk's bytes half reached the data file, and its journal record is torn.
    const data = await open(join(dir, 'uploads', 't', 'data'), 'r+');
    await data.write(bytes.subarray(2_000, 2_400), 0, 400, 2_000);
    await data.close();
    const journal = await open(join(dir, 'uploads', 't', 'journal'), 'r+');
    await journal.write(Buffer.alloc(20, 7), 0, 20, 2 * JOURNAL_RECORD_BYTES);
    await journal.close();

    const restarted = await FsBlobStore.open(dir);
    expect(await restarted.uploadedBytes('t')).toBe(2_000);
    expect((await stat(join(dir, 'uploads', 't', 'data'))).size).toBe(2_000);
    await restarted.appendChunk('t', 2_000, bytes.subarray(2_000));
    const committed = await restarted.commitUpload('t', { size: 3_000, sha256: sha256(bytes) });
    expect((await readAll(await restarted.read(committed.sha256))).equals(bytes)).toBe(true);
  });

  it('drops a last chunk whose record is whole but whose bytes never reached the disk', async () => {
    const dir = join(root, 'zeros');
    const store = await FsBlobStore.open(dir);
    const bytes = randomBytes(2_000);
    await store.appendChunk('z', 0, bytes.subarray(0, 1_000));
    await store.appendChunk('z', 1_000, bytes.subarray(1_000));
    // The size reached the disk, the data did not: the second chunk reads back as zeros.
    const data = await open(join(dir, 'uploads', 'z', 'data'), 'r+');
    await data.write(Buffer.alloc(1_000), 0, 1_000, 1_000);
    await data.close();

    const restarted = await FsBlobStore.open(dir);
    expect(await restarted.uploadedBytes('z')).toBe(1_000);
    await restarted.appendChunk('z', 1_000, bytes.subarray(1_000));
    expect((await restarted.commitUpload('z', { size: 2_000, sha256: sha256(bytes) })).sha256).toBe(sha256(bytes));
  });

  it('lists an upload directory a crash left without its files, so the reaper clears it', async () => {
    const dir = join(root, 'begun');
    const store = await FsBlobStore.open(dir);
    await mkdir(join(dir, 'uploads', 'half-begun'));
    expect(await store.listIdleUploads(new Date(Date.now() + 60_000))).toEqual([{ uploadId: 'half-begun', bytes: 0, lastWriteAt: expect.any(Date) }]);
    await store.appendChunk('half-begun', 0, Buffer.from('now whole'));
    expect(await store.uploadedBytes('half-begun')).toBe(9);
  });

  it('keeps blobs and uploads owner only, in blobs/sha256/ab/cdef…', async () => {
    if (process.platform === 'win32') return;
    const dir = join(root, 'modes');
    const store = await FsBlobStore.open(dir);
    await store.appendChunk('m', 0, Buffer.from('private'));
    expect((await stat(join(dir, 'uploads', 'm', 'data'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'uploads', 'm'))).mode & 0o777).toBe(0o700);
    const { sha256: digest } = await store.commitUpload('m', { size: 7, sha256: sha256(Buffer.from('private')) });
    expect(await readdir(join(dir, 'blobs', 'sha256'))).toEqual([digest.slice(0, 2)]);
    expect((await stat(join(dir, 'blobs', 'sha256', digest.slice(0, 2), digest.slice(2)))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'blobs', 'sha256', digest.slice(0, 2)))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'uploads'))).toEqual([]);
  });
});

/**
 * Blobs in Azure Blob Storage (Cosmos mode, shared by every coordinator replica), one container:
 *
 *   uploads/<id>        an upload: an empty block blob made when it begins, on which each chunk
 *                       is staged as an uncommitted block (Put Block)
 *   blobs/sha256/<hex>  a blob, named by its digest
 *
 * Each block's id says where its bytes start and when it was staged ("<offset>-<ms>", fixed width
 * as Azure requires), so the bytes held — and where to resume — are re-read from the blob's block
 * list by any replica, with nothing kept in memory: the chain of blocks from offset 0, each
 * starting where the one before ended. Every block is sent with its MD5, which Azure checks, so a
 * block is stored as sent or refused. A chunk that follows this process's last append is staged
 * without reading the list again (appendedTo).
 *
 * Commit puts the chain on the upload's blob (Put Block List), reads the committed bytes back to
 * hash them — the SHA-256 is computed over what is stored — and only then copies the blob, server
 * side, to its digest's name, where Copy Blob's If-None-Match: * keeps a blob already there
 * (de-duplication). Blocks cannot be committed under another blob's name, and staging under the
 * digest's name before the bytes are verified would let an unverified upload's Put Block List
 * replace a good blob; the copy stays inside the storage account, so no byte of it passes through
 * the coordinator.
 */
import { BlobServiceClient, ContainerClient, RestError, StorageSharedKeyCredential, type BlockBlobClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { BlobNotFound, checkAppend, checkCommit, checkSha256, checkUploadId, InvalidBlobArgument, resolveRange, UPLOAD_ID_PATTERN, UploadDigestMismatch, UploadOffsetMismatch, UploadSizeMismatch, type BlobInfo, type BlobStore, type ByteRange, type CommittedBlob, type Sha256Hex, type UploadInfo } from './blob-store.js';
import { KeyedLock } from './keyed-lock.js';

/** How to reach the storage account: a connection string, or the blob endpoint and account key. */
export type AzureBlobConnection = { connectionString: string } | { endpoint: string; accountKey: string };

const UPLOADS = 'uploads/';
const BLOBS = 'blobs/sha256/';

/** A staged block: the bytes [offset, offset + size) of the upload, staged at `stagedAt` (ms). */
interface Block {
  id: string;
  offset: number;
  size: number;
  stagedAt: number;
}

export class AzureBlobStore implements BlobStore {
  readonly kind = 'azure';
  private readonly locks = new KeyedLock();
  /**
   * Where this process's last append to each upload ended, so the next chunk, when it starts
   * there, is staged without first reading the block list: one request per chunk, not two. It may
   * be stale when another replica appended meanwhile; then the block staged again at that offset
   * (the later one wins, see chained) holds the same bytes of the same file, and any mix-up is
   * caught by the commit's SHA-256. Any other offset, or a failure, reads the block list.
   */
  private readonly appendedTo = new Map<string, number>();

  private constructor(private readonly container: ContainerClient) {}

  /** Connects and creates the container when it is missing. */
  static async open(connection: AzureBlobConnection, containerName: string): Promise<AzureBlobStore> {
    const service =
      'connectionString' in connection
        ? BlobServiceClient.fromConnectionString(connection.connectionString)
        : new BlobServiceClient(connection.endpoint, new StorageSharedKeyCredential(accountName(connection.endpoint), connection.accountKey));
    const container = service.getContainerClient(containerName);
    await container.createIfNotExists();
    return new AzureBlobStore(container);
  }

  async uploadedBytes(uploadId: string): Promise<number> {
    checkUploadId(uploadId);
    return heldBytes((await this.blocks(uploadId)) ?? []);
  }

  async appendChunk(uploadId: string, offset: number, chunk: Uint8Array): Promise<number> {
    checkAppend(uploadId, offset, chunk);
    return this.locks.run(uploadId, async () => {
      const upload = this.upload(uploadId);
      if (this.appendedTo.get(uploadId) !== offset) {
        const blocks = await this.blocks(uploadId);
        const held = heldBytes(blocks ?? []);
        if (offset !== held) throw new UploadOffsetMismatch(uploadId, offset, held);
        if (blocks === null) await this.begin(upload);
      }
      this.appendedTo.delete(uploadId);
      const md5 = createHash('md5').update(chunk).digest();
      await upload.stageBlock(blockId(offset, Date.now()), chunk, chunk.length, { transactionalContentMD5: md5 });
      this.appendedTo.set(uploadId, offset + chunk.length);
      return offset + chunk.length;
    });
  }

  async commitUpload(uploadId: string, expected: { size: number; sha256: Sha256Hex }): Promise<CommittedBlob> {
    checkCommit(uploadId, expected);
    return this.locks.run(uploadId, async () => {
      const blocks = await this.blocks(uploadId);
      if (blocks === null && expected.size === 0) await this.begin(this.upload(uploadId));
      else if (blocks === null) return this.alreadyStored(uploadId, expected);
      const chain = chained(blocks ?? []);
      const held = heldBytes(chain);
      if (held !== expected.size) throw new UploadSizeMismatch(uploadId, expected.size, held);
      const upload = this.upload(uploadId);
      const { etag } = await upload.commitBlockList(chain.map((b) => b.id));
      const actual = await this.sha256Of(upload, etag);
      if (actual !== expected.sha256) throw new UploadDigestMismatch(uploadId, expected.sha256, actual);
      const committed = await this.file(upload, etag, actual, held);
      this.appendedTo.delete(uploadId);
      await upload.deleteIfExists();
      return committed;
    });
  }

  async abandonUpload(uploadId: string): Promise<void> {
    checkUploadId(uploadId);
    await this.locks.run(uploadId, () => {
      this.appendedTo.delete(uploadId);
      return this.upload(uploadId).deleteIfExists();
    });
  }

  async listIdleUploads(before: Date): Promise<UploadInfo[]> {
    const idle: UploadInfo[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix: UPLOADS })) {
      const uploadId = item.name.slice(UPLOADS.length);
      // Staging a block does not touch the blob's Last-Modified, so only an upload begun before
      // `before` can be idle; its last block's time says whether it is.
      if (!UPLOAD_ID_PATTERN.test(uploadId) || item.properties.lastModified >= before) continue;
      const blocks = await this.blocks(uploadId);
      if (blocks === null) continue;
      const lastWriteAt = new Date(Math.max(item.properties.lastModified.getTime(), ...blocks.map((b) => b.stagedAt)));
      if (lastWriteAt < before) idle.push({ uploadId, bytes: heldBytes(blocks), lastWriteAt });
    }
    return idle;
  }

  async stat(sha256: Sha256Hex): Promise<BlobInfo | null> {
    checkSha256(sha256);
    try {
      const props = await this.blob(sha256).getProperties();
      return { sha256, size: props.contentLength ?? 0, committedAt: props.lastModified ?? new Date(0) };
    } catch (err) {
      if (isStatus(err, 404)) return null;
      throw err;
    }
  }

  async has(sha256: Sha256Hex): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async read(sha256: Sha256Hex, range?: ByteRange): Promise<Readable> {
    const info = await this.stat(sha256);
    if (info === null) throw new BlobNotFound(`blob ${sha256}`);
    const { start, end } = resolveRange(sha256, info.size, range);
    // Azure answers an empty range with 416, so an empty read never asks.
    if (end === start) return Readable.from([]);
    try {
      const download = await this.blob(sha256).download(start, end - start);
      return download.readableStreamBody as Readable;
    } catch (err) {
      if (isStatus(err, 404)) throw new BlobNotFound(`blob ${sha256}`);
      throw err;
    }
  }

  async delete(sha256: Sha256Hex, options: { onlyIfCommittedBefore?: Date } = {}): Promise<boolean> {
    checkSha256(sha256);
    try {
      const conditions = options.onlyIfCommittedBefore === undefined ? {} : { ifUnmodifiedSince: options.onlyIfCommittedBefore };
      return (await this.blob(sha256).deleteIfExists({ conditions })).succeeded;
    } catch (err) {
      // Committed again since the cut-off (to the second: Last-Modified has no finer grain, which a
      // reaper's cut-off, hours back, never meets).
      if (isStatus(err, 412)) return false;
      throw err;
    }
  }

  async *listBlobs(): AsyncIterable<BlobInfo> {
    for await (const item of this.container.listBlobsFlat({ prefix: BLOBS })) {
      const sha256 = item.name.slice(BLOBS.length);
      if (/^[0-9a-f]{64}$/.test(sha256)) yield { sha256, size: item.properties.contentLength ?? 0, committedAt: item.properties.lastModified };
    }
  }

  /** The SDK's HTTP agent holds nothing that outlives a call. */
  async close(): Promise<void> {}

  private upload(uploadId: string): BlockBlobClient {
    return this.container.getBlockBlobClient(UPLOADS + uploadId);
  }

  private blob(sha256: Sha256Hex): BlockBlobClient {
    return this.container.getBlockBlobClient(BLOBS + sha256);
  }

  /**
   * Makes the empty blob that makes an upload listable. Only when none is there: Put Blob over
   * an upload another replica began would discard the blocks it staged.
   */
  private async begin(upload: BlockBlobClient): Promise<void> {
    try {
      await upload.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (err) {
      if (!isStatus(err, 409) && !isStatus(err, 412)) throw err;
    }
  }

  /** The upload's blocks, committed (after a failed commit) and staged; null when it was never begun. */
  private async blocks(uploadId: string): Promise<Block[] | null> {
    try {
      const list = await this.upload(uploadId).getBlockList('all');
      return [...(list.committedBlocks ?? []), ...(list.uncommittedBlocks ?? [])].flatMap((b) => parseBlock(b.name, b.size) ?? []);
    } catch (err) {
      if (isStatus(err, 404)) return null;
      throw err;
    }
  }

  /** SHA-256 of the upload's committed bytes, read back exactly as committed (If-Match its etag). */
  private async sha256Of(upload: BlockBlobClient, etag: string | undefined): Promise<Sha256Hex> {
    const hash = createHash('sha256');
    const download = await upload.download(0, undefined, { conditions: etag === undefined ? {} : { ifMatch: etag } });
    if (download.readableStreamBody !== undefined) for await (const piece of download.readableStreamBody) hash.update(piece as Buffer);
    return hash.digest('hex');
  }

  /**
   * Copies the verified upload to its digest's name unless a blob is there already, in which case
   * that one is kept and its time refreshed (Set Blob Metadata moves Last-Modified), so a reaper
   * sparing young blobs spares it.
   */
  private async file(upload: BlockBlobClient, etag: string | undefined, sha256: Sha256Hex, size: number): Promise<CommittedBlob> {
    const target = this.blob(sha256);
    let deduplicated = false;
    try {
      const copy = await target.beginCopyFromURL(upload.url, {
        conditions: { ifNoneMatch: '*' },
        ...(etag === undefined ? {} : { sourceConditions: { ifMatch: etag } }),
      });
      await copy.pollUntilDone();
    } catch (err) {
      if (!isStatus(err, 409) && !isStatus(err, 412)) throw err;
      deduplicated = true;
      await target.setMetadata({ committed: new Date().toISOString() });
    }
    const props = await target.getProperties();
    return { sha256, size, committedAt: props.lastModified ?? new Date(), deduplicated };
  }

  /** A commit for an upload never begun (or already filed) whose content is stored. */
  private async alreadyStored(uploadId: string, expected: { size: number; sha256: Sha256Hex }): Promise<CommittedBlob> {
    const stored = await this.stat(expected.sha256);
    if (stored === null || stored.size !== expected.size) throw new UploadSizeMismatch(uploadId, expected.size, 0);
    try {
      await this.blob(expected.sha256).setMetadata({ committed: new Date().toISOString() });
    } catch (err) {
      if (isStatus(err, 404)) throw new UploadSizeMismatch(uploadId, expected.size, 0); // deleted meanwhile
      throw err;
    }
    const props = await this.blob(expected.sha256).getProperties();
    return { sha256: expected.sha256, size: expected.size, committedAt: props.lastModified ?? new Date(), deduplicated: true };
  }
}

/** Offset and staging time, fixed width (Azure wants every block id of a blob the same length). */
function blockId(offset: number, stagedAt: number): string {
  return Buffer.from(`${String(offset).padStart(16, '0')}-${String(stagedAt).padStart(15, '0')}`).toString('base64');
}

function parseBlock(id: string, size: number): Block | null {
  const match = /^(\d{16})-(\d{15})$/.exec(Buffer.from(id, 'base64').toString('latin1'));
  return match === null ? null : { id, offset: Number(match[1]), size, stagedAt: Number(match[2]) };
}

/**
 * The blocks that hold the upload's bytes: from offset 0, each the one starting where the last
 * ended — the latest staged when a retry staged two at the same offset.
 */
function chained(blocks: readonly Block[]): Block[] {
  const byOffset = new Map<number, Block>();
  for (const block of blocks) {
    const seen = byOffset.get(block.offset);
    if (seen === undefined || block.stagedAt > seen.stagedAt) byOffset.set(block.offset, block);
  }
  const chain: Block[] = [];
  for (let next = byOffset.get(0); next !== undefined && next.size > 0; next = byOffset.get(next.offset + next.size)) chain.push(next);
  return chain;
}

function heldBytes(blocks: readonly Block[]): number {
  const last = chained(blocks).at(-1);
  return last === undefined ? 0 : last.offset + last.size;
}

/**
 * The storage account an endpoint names: the first path segment of a path-style endpoint
 * (http://127.0.0.1:10000/devstoreaccount1, azurite), else the first label of the host
 * (https://myaccount.blob.core.windows.net).
 */
export function accountName(endpoint: string): string {
  const url = new URL(endpoint);
  const hostStyle = isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 && url.hostname !== 'localhost';
  const name = url.pathname.split('/').find((segment) => segment !== '') ?? (hostStyle ? url.hostname.split('.')[0] : '') ?? '';
  if (!/^[a-z0-9]{3,24}$/.test(name)) throw new InvalidBlobArgument(`blob endpoint ${endpoint} does not name a storage account (3-24 lowercase letters and digits, as in https://<account>.blob.core.windows.net)`);
  return name;
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof RestError && err.statusCode === status;
}

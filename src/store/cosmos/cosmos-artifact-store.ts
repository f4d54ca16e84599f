/**
 * Artifact metadata in Cosmos DB, shared by every replica, in the jobs container (schema.ts):
 * - one `artifact` document per (job, epoch, kind, name) in its product's partition, with an id
 *   built from the key (the name hashed: names may be long or hold characters ids cannot);
 * - one `upload` document per upload in a partition of its own (`~upload:<id>`, like the jobref
 *   documents), so getUpload, deleteUpload and attach's drop are point reads and deletes by upload
 *   id alone, whichever replica the chunk or finish call reaches;
 * - one `artifactUsage` document per product (the quota ledger): the bytes its artifacts take,
 *   changed only by replace with If-Match on `_etag`. Attach reserves the file's bytes in it first
 *   and creates the artifact document second, so two attaches racing for a product's last bytes
 *   serialize on the ledger and one of them is refused. Cosmos has no transaction across two
 *   documents: a coordinator that dies between the reservation and the create leaves the ledger
 *   over by that one file's size (the quota is then that much stricter; never looser). An attach
 *   that finds the artifact already there (the same content attached again, or other content)
 *   gives its reservation back.
 */
import { createHash } from 'node:crypto';
import type { Container, ItemDefinition, SqlQuerySpec } from '@azure/cosmos';
import type { ArtifactRecord, UploadRecord } from '../../domain/artifact.js';
import { ArtifactExists, ArtifactQuotaExceeded, artifactOrder, type ArtifactFilter, type ArtifactKey, type ArtifactStore } from '../artifact-store.js';
import { StoreClosed } from '../store-errors.js';
import { createCosmosClient, measured } from './client.js';
import { statusOf, type ControlOptions } from './control.js';
import { docId } from './documents.js';
import { ensureContainer } from './schema.js';

interface ArtifactDoc {
  id: string;
  productId: string;
  type: 'artifact';
  jobId: string;
  epoch: number;
  createdAt: number;
  sha256: string;
  record: ArtifactRecord;
}

interface UploadDoc {
  id: string;
  productId: string;
  type: 'upload';
  createdAt: number;
  record: UploadRecord;
}

interface UsageDoc {
  id: string;
  productId: string;
  type: 'artifactUsage';
  bytes: number;
  _etag?: string;
}

const USAGE_DOC_ID = 'artifact-usage';
/** How often a ledger update that lost a race (412) is tried again before the store gives up. */
const LEDGER_ATTEMPTS = 50;

const artifactDocId = (a: Pick<ArtifactRecord, 'jobId' | 'epoch' | 'kind' | 'name'>): string =>
  `art:${docId(a.jobId)}:${a.epoch}:${a.kind}:${createHash('sha256').update(a.name).digest('hex')}`;
const uploadDocId = (uploadId: string): string => `upload:${docId(uploadId)}`;
const uploadPartition = (uploadId: string): string => `~upload:${docId(uploadId)}`;

/** Connects and creates the database and jobs container when missing (as the job store does). */
export async function openCosmosArtifactStore(options: ControlOptions): Promise<CosmosArtifactStore> {
  const client = createCosmosClient(options);
  try {
    const container = await ensureContainer(client, options.database);
    return new CosmosArtifactStore(container, () => client.dispose());
  } catch (err) {
    client.dispose();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`could not open the Cosmos DB jobs container for artifacts (endpoint ${options.endpoint}, database ${options.database}): ${why}`, { cause: err });
  }
}

export class CosmosArtifactStore implements ArtifactStore {
  #closed = false;

  constructor(
    private readonly container: Container,
    private readonly dispose: () => void,
  ) {}

  async putUpload(upload: UploadRecord): Promise<void> {
    this.#assertOpen();
    const doc: UploadDoc = { id: uploadDocId(upload.uploadId), productId: uploadPartition(upload.uploadId), type: 'upload', createdAt: upload.createdAt, record: upload };
    await this.#createIfAbsent(doc);
  }

  async getUpload(uploadId: string): Promise<UploadRecord | null> {
    this.#assertOpen();
    return (await this.#read<UploadDoc>(uploadDocId(uploadId), uploadPartition(uploadId)))?.record ?? null;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    this.#assertOpen();
    await this.#remove(uploadDocId(uploadId), uploadPartition(uploadId));
  }

  async listUploadsBefore(before: number, limit: number): Promise<UploadRecord[]> {
    this.#assertOpen();
    const spec = { query: "SELECT c.record FROM c WHERE c.type = 'upload' AND c.createdAt < @before", parameters: [{ name: '@before', value: before }] };
    return (await this.#query<{ record: UploadRecord }>(spec, limit)).map((r) => r.record);
  }

  async attach(artifact: ArtifactRecord, uploadId: string, quotaBytes: number): Promise<ArtifactRecord> {
    this.#assertOpen();
    const id = artifactDocId(artifact);
    const existing = await this.#read<ArtifactDoc>(id, artifact.productId);
    if (existing) return this.#attachedAlready(existing.record, artifact, uploadId);
    await this.#changeUsage(artifact.productId, artifact.sizeBytes, quotaBytes);
    const doc: ArtifactDoc = { id, productId: artifact.productId, type: 'artifact', jobId: artifact.jobId, epoch: artifact.epoch, createdAt: artifact.createdAt, sha256: artifact.sha256, record: artifact };
    if (!(await this.#createIfAbsent(doc))) {
      // Another attach of the same key won between our read and create: its bytes are counted already.
      await this.#changeUsage(artifact.productId, -artifact.sizeBytes, 0);
      const winner = await this.#read<ArtifactDoc>(id, artifact.productId);
      if (!winner) throw new Error(`artifact ${id} was created and removed while attaching; try again`);
      return this.#attachedAlready(winner.record, artifact, uploadId);
    }
    await this.deleteUpload(uploadId);
    return { ...artifact };
  }

  async getArtifact(key: ArtifactKey): Promise<ArtifactRecord | null> {
    this.#assertOpen();
    const all = await this.listArtifacts(key.jobId, { kind: key.kind, ...(key.epoch > 0 ? { epoch: key.epoch } : {}) });
    return all.filter((a) => a.name === key.name).at(-1) ?? null;
  }

  async listArtifacts(jobId: string, filter: ArtifactFilter): Promise<ArtifactRecord[]> {
    this.#assertOpen();
    // The job's product is not known here: one query across partitions on the indexed jobId; a
    // job's files are few, so the epoch and kind filters and the order are applied here.
    const spec = { query: "SELECT c.record FROM c WHERE c.type = 'artifact' AND c.jobId = @jobId", parameters: [{ name: '@jobId', value: jobId }] };
    return (await this.#query<{ record: ArtifactRecord }>(spec, Number.MAX_SAFE_INTEGER))
      .map((r) => r.record)
      .filter((a) => (filter.epoch === undefined || a.epoch === filter.epoch) && (filter.kind === undefined || a.kind === filter.kind))
      .sort(artifactOrder);
  }

  async productUsage(productId: string): Promise<number> {
    this.#assertOpen();
    return (await this.#read<UsageDoc>(USAGE_DOC_ID, productId))?.bytes ?? 0;
  }

  async listCreatedBefore(productId: string, before: number, limit: number): Promise<ArtifactRecord[]> {
    this.#assertOpen();
    const spec = {
      // The partition key routes the query in Cosmos; the filter names it too for servers that do not route (the test server).
      query: "SELECT c.record FROM c WHERE c.productId = @productId AND c.type = 'artifact' AND c.createdAt < @before ORDER BY c.createdAt ASC",
      parameters: [
        { name: '@productId', value: productId },
        { name: '@before', value: before },
      ],
    };
    return (await this.#query<{ record: ArtifactRecord }>(spec, limit, productId)).map((r) => r.record);
  }

  async deleteArtifacts(artifacts: readonly ArtifactRecord[]): Promise<string[]> {
    this.#assertOpen();
    const freed = new Map<string, number>();
    for (const a of artifacts) {
      // The stored row's size, not the caller's copy: the ledger gives back what it counted.
      const stored = await this.#read<ArtifactDoc>(artifactDocId(a), a.productId);
      if (!stored || !(await this.#remove(stored.id, a.productId))) continue;
      freed.set(a.productId, (freed.get(a.productId) ?? 0) + stored.record.sizeBytes);
    }
    for (const [productId, bytes] of freed) await this.#changeUsage(productId, -bytes, 0);
    const unreferenced: string[] = [];
    for (const sha256 of new Set(artifacts.map((a) => a.sha256))) if (!(await this.isReferenced(sha256))) unreferenced.push(sha256);
    return unreferenced;
  }

  async isReferenced(sha256: string): Promise<boolean> {
    this.#assertOpen();
    const spec = { query: "SELECT c.id FROM c WHERE c.type = 'artifact' AND c.sha256 = @sha256", parameters: [{ name: '@sha256', value: sha256 }] };
    return (await this.#query<{ id: string }>(spec, 1)).length > 0;
  }

  async listProducts(): Promise<string[]> {
    this.#assertOpen();
    const rows = await this.#query<{ productId: string; bytes: number }>({ query: "SELECT c.productId, c.bytes FROM c WHERE c.type = 'artifactUsage'" }, Number.MAX_SAFE_INTEGER);
    return rows
      .filter((r) => r.bytes > 0)
      .map((r) => r.productId)
      .sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.dispose();
  }

  /** The key is taken: the same content returns the stored row (and drops the upload), other content is refused. */
  async #attachedAlready(stored: ArtifactRecord, artifact: ArtifactRecord, uploadId: string): Promise<ArtifactRecord> {
    if (stored.sha256 !== artifact.sha256 || stored.sizeBytes !== artifact.sizeBytes) throw new ArtifactExists(stored);
    await this.deleteUpload(uploadId);
    return stored;
  }

  /**
   * Adds `delta` bytes to the product's ledger with If-Match, again from a fresh read when another
   * replica changed it first. With `quotaBytes` > 0 a growth past it throws ArtifactQuotaExceeded.
   */
  async #changeUsage(productId: string, delta: number, quotaBytes: number): Promise<void> {
    for (let attempt = 1; attempt <= LEDGER_ATTEMPTS; attempt++) {
      const current = await this.#read<UsageDoc>(USAGE_DOC_ID, productId);
      const used = current?.bytes ?? 0;
      if (delta > 0 && quotaBytes > 0 && used + delta > quotaBytes) throw new ArtifactQuotaExceeded(productId, used, quotaBytes);
      const next: UsageDoc = { id: USAGE_DOC_ID, productId, type: 'artifactUsage', bytes: Math.max(0, used + delta) };
      if (current ? await this.#replaceIfMatch(next, current._etag ?? '') : await this.#createIfAbsent(next)) return;
    }
    throw new Error(`the artifact usage of product ${productId} kept changing under ${LEDGER_ATTEMPTS} attempts to update it`);
  }

  async #read<D>(id: string, partition: string): Promise<D | null> {
    try {
      const res = await this.#call(() => this.container.item(id, partition).read<ItemDefinition>());
      return res.statusCode === 404 ? null : ((res.resource as D | undefined) ?? null);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async #createIfAbsent(doc: { id: string; productId: string }): Promise<boolean> {
    try {
      await this.#call(() => this.container.items.create(doc));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  async #replaceIfMatch(doc: UsageDoc, etag: string): Promise<boolean> {
    try {
      await this.#call(() => this.container.item(doc.id, doc.productId).replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } }));
      return true;
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 404) return false;
      throw err;
    }
  }

  async #remove(id: string, partition: string): Promise<boolean> {
    try {
      await this.#call(() => this.container.item(id, partition).delete());
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  /** Up to `limit` rows, page by page; within one partition when `partition` is given. */
  async #query<T>(spec: SqlQuerySpec, limit: number, partition?: string): Promise<T[]> {
    const iterator = this.container.items.query<T>(spec, { maxItemCount: Math.min(limit, 500), ...(partition !== undefined ? { partitionKey: partition } : {}) });
    const out: T[] = [];
    while (out.length < limit && iterator.hasMoreResults()) out.push(...(await this.#call(() => iterator.fetchNext())).resources);
    return out.slice(0, limit);
  }

  /** One SDK call; a 429 the SDK's retries could not outlast becomes StoreThrottled, as in every Cosmos store. */
  #call<T extends { requestCharge?: number }>(request: () => Promise<T>): Promise<T> {
    return measured(request, () => undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

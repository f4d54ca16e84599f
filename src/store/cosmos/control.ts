/**
 * The control container: what every replica must agree on besides jobs, namely credentials
 * (SecurityStore) and product settings (SettingsStore). A second container beside `jobs`, not more
 * document types inside it, because:
 * - its reads are point reads by a secret's hash, a factory id, a key name or a product, none of
 *   which is a product partition: in `jobs` (partitioned by product) each would need a lookup
 *   document in a partition of its own anyway;
 * - its two list queries (API keys, product settings) stay small: in `jobs` they would scan (test
 *   server) or fan out over (production) a container of millions of job, log and event documents;
 * - it can have its own access control, backup and (later) retention: a TTL for finished jobs'
 *   logs must never touch credentials, and a reader of job data need not be able to read hashes.
 *
 * Partition key `/pk`, and every document is its own logical partition (pk = id), so each lookup
 * is one point read (about 1 RU) and each compare-and-set one replace with If-Match on `_etag`.
 * Only `/type` is indexed: the two list queries filter on it; everything else is read by id.
 */
import type { Container, ContainerDefinition, CosmosClient, SqlQuerySpec } from '@azure/cosmos';
import { RevisionConflict } from '../job-store.js';
import { createCosmosClient, measured } from './client.js';
import { retryOnConflict } from './schema.js';
import { StoreClosed } from '../store-errors.js';

export const CONTROL_CONTAINER_ID = 'control';

export const CONTROL_CONTAINER_DEFINITION: ContainerDefinition = {
  id: CONTROL_CONTAINER_ID,
  partitionKey: { paths: ['/pk'] },
  indexingPolicy: {
    indexingMode: 'consistent',
    automatic: true,
    includedPaths: [{ path: '/type/?' }],
    excludedPaths: [{ path: '/*' }],
  },
};

/** What every control document has: its id doubles as its partition key value. */
export interface ControlDoc {
  id: string;
  pk: string;
  type: string;
  _etag?: string;
}

/** A document as read, with the etag a compare-and-set names. */
export interface Read<D extends ControlDoc> {
  doc: D;
  etag: string;
}

export interface ControlStats {
  requests: number;
  requestCharge: number;
  throttled: number;
  throttleWaitMs: number;
}

export interface ControlOptions {
  endpoint: string;
  key: string;
  database: string;
  /** As for the job store: on for https endpoints, off for plain http (emulator, test server). */
  endpointDiscovery?: boolean;
}

/**
 * The control container's documents, for the two stores built on it: point reads, create (false
 * on 409), replace with If-Match (null on 412), and queries, each counted. The client is shared by
 * both stores and disposed when the last one closes.
 */
export class ControlDocs {
  #requests = 0;
  #requestCharge = 0;
  #throttled = 0;
  #throttleWaitMs = 0;
  #users: number;
  #closed = false;

  constructor(
    readonly container: Container,
    private readonly client: CosmosClient | null,
    users = 1,
  ) {
    this.#users = users;
  }

  async read<D extends ControlDoc>(id: string): Promise<Read<D> | null> {
    const res = await this.#count(() => this.container.item(id, id).read<D>());
    if (res.statusCode === 404 || !res.resource) return null;
    return { doc: res.resource, etag: res.etag ?? res.resource._etag ?? '' };
  }

  /** Creates the document; false when one with its id exists (409). */
  async createIfAbsent(doc: ControlDoc): Promise<boolean> {
    try {
      await this.#count(() => this.container.items.create(doc));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  /** Replaces `current` with `next` if it is unchanged since read; null when it changed (412) or went (404). */
  async replaceIfMatch<D extends ControlDoc>(current: Read<D>, next: D): Promise<Read<D> | null> {
    const { _etag, ...body } = next;
    void _etag;
    try {
      const res = await this.#count(() =>
        this.container.item(current.doc.id, current.doc.pk).replace<D>(body as D, { accessCondition: { type: 'IfMatch', condition: current.etag } }),
      );
      return { doc: res.resource ?? next, etag: res.etag ?? res.resource?._etag ?? '' };
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 404) return null;
      throw err;
    }
  }

  /**
   * Writes a record that carries its own revision: revision 1 is a create (409: someone made it
   * first), later ones replace the version whose revision is one less, with If-Match on its etag.
   * RevisionConflict (naming `what`) when another writer got there first.
   */
  async putRevisioned<D extends ControlDoc & { record: { revision: number } }>(body: D, what: string): Promise<void> {
    const revision = body.record.revision;
    if (revision === 1) {
      if (!(await this.createIfAbsent(body))) throw new RevisionConflict(what, 0);
      return;
    }
    const current = await this.read<D>(body.id);
    if (!current || current.doc.record.revision !== revision - 1 || !(await this.replaceIfMatch(current, body))) throw new RevisionConflict(what, revision - 1);
  }

  /** Deletes the document; false when there was none (404). */
  async remove(id: string): Promise<boolean> {
    try {
      await this.#count(() => this.container.item(id, id).delete());
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async query<T>(spec: SqlQuerySpec): Promise<T[]> {
    const iterator = this.container.items.query<T>(spec, { maxItemCount: 500 });
    const out: T[] = [];
    while (iterator.hasMoreResults()) out.push(...(await this.#count(() => iterator.fetchNext())).resources);
    return out;
  }

  /** Round trips, request units and throttling (as in CosmosStats) since opened. */
  stats(): ControlStats {
    return { requests: this.#requests, requestCharge: this.#requestCharge, throttled: this.#throttled, throttleWaitMs: this.#throttleWaitMs };
  }

  /** Called once by each store's close; the client goes with the last. */
  release(): void {
    if (--this.#users > 0) return;
    this.#closed = true;
    this.client?.dispose();
  }

  async #count<T extends { requestCharge?: number }>(request: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('the Cosmos control store is closed');
    this.#requests++;
    return measured(request, (cost) => {
      this.#requestCharge += cost.requestCharge;
      this.#throttled += cost.throttled;
      this.#throttleWaitMs += cost.throttleWaitMs;
    });
  }
}

/** What each store over the control container shares: its documents, and refusing calls once closed. */
export abstract class ControlStore {
  #closed = false;

  constructor(protected readonly docs: ControlDocs) {}

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.docs.release();
  }

  protected assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

/** Connects and creates the database and the control container when missing; `users` stores will share it. */
export async function openControlDocs(options: ControlOptions, users: number): Promise<ControlDocs> {
  const client = createCosmosClient(options);
  try {
    const database = (await retryOnConflict(() => client.databases.createIfNotExists({ id: options.database }))).database;
    const { container } = await retryOnConflict(() => database.containers.createIfNotExists(CONTROL_CONTAINER_DEFINITION));
    return new ControlDocs(container, client, users);
  } catch (err) {
    client.dispose();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`could not open the Cosmos DB control container (endpoint ${options.endpoint}, database ${options.database}): ${why}`, { cause: err });
  }
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

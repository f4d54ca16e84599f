/**
 * The scale-out JobStore: Azure Cosmos DB (SQL API), one container partitioned by product, shared
 * by every coordinator replica. It relies only on what the Cosmos test server also does: point
 * reads, create (409 when the id exists), replace with If-Match on `_etag` (412 when it changed),
 * parameterised queries with ORDER BY and continuation. No change feed, TTL, stored procedures or
 * transactional batch; docs/scaling-out.md says which of those would make it cheaper.
 *
 * How each promise of the contract is kept without multi-document transactions:
 * - Compare-and-set: replaceJob writes with If-Match on the etag of a stored document it has
 *   checked (revision = next.revision - 1, epoch <= next.epoch). The etag names that exact content,
 *   so the check and the write are atomic; 412 (someone wrote since) is RevisionConflict.
 * - A transition and its event are one write: events live inside the job document (moved out to
 *   event documents only when a job has very many, oldest first, before the write that drops them),
 *   so a crash can never store one without the other.
 * - Idempotent submit: the key is taken first, by creating an `idem` document (409: taken) that
 *   holds the whole job document as intent; then the job's product lookup, then the job document
 *   (the commit point). A submit that died in between is completed by the next submit with the same
 *   key, from the intent, so a key never points at nothing.
 * - getJob(id) without a product: a `jobref` document per job (its own logical partition, one point
 *   read) written before the job, cached in memory afterwards; a product never changes, so the
 *   cache is never stale. Queries teach the cache too, so another replica's jobs cost no lookup
 *   once listed.
 * - Fenced logs: read the job, check the epoch, create the chunk under the deterministic id
 *   `log:<job>:<epoch>:<sequence>` (409: duplicate).
 */
import type { Container, CosmosClient, SqlQuerySpec } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { spendOf, spendOrder, type SpendRecord } from '../../domain/budget.js';
import type { JobEventRecord, JobRecord, LogChunkRecord } from '../../domain/job.js';
import {
  RevisionConflict,
  type AppendLogResult,
  type JobCount,
  type JobPage,
  type JobQuery,
  type JobStore,
  type LogPosition,
  type SpendQuery,
} from '../job-store.js';
import { normalizeLimit, toPage } from '../paging.js';
import { DuplicateJobId, StoreClosed } from '../store-errors.js';
import { BoundedMap } from './bounded-map.js';
import {
  copyOf,
  docId,
  eventDocId,
  idemDocId,
  jobDoc,
  jobRefPartition,
  logDoc,
  logFromDoc,
  withoutSystemFields,
  type EventDoc,
  type IdemDoc,
  type JobDoc,
  type JobRefDoc,
  type LogDoc,
} from './documents.js';
import {
  activeByConcurrencyKeyQuery,
  countJobsGroupedQuery,
  countJobsProjectionQuery,
  expiredLeasesQuery,
  leasedToQuery,
  listJobsQuery,
  logsQuery,
  runnableInQuery,
  runnableQuery,
  spendSinceQuery,
  spilledEventsQuery,
} from './queries.js';
import { createCosmosClient, measured } from './client.js';
import { ensureContainer } from './schema.js';
import { CosmosEchoOutbox } from './cosmos-echo-outbox.js';
import { CosmosDecisionStore, MAX_TRIMMED_PER_APPEND } from './cosmos-decision-store.js';
import { guardedOutbox, type EchoOutbox, type WithEchoOutbox } from '../echo-outbox.js';

export interface CosmosStoreOptions {
  /** Account endpoint, e.g. https://myaccount.documents.azure.com:443/ */
  endpoint: string;
  /** Account key. Never logged. */
  key: string;
  /** Database name; created with the container when missing. */
  database: string;
  /**
   * Follow the account's regional endpoints (multi-region accounts). Defaults to on for https
   * endpoints and off for plain http (the emulator and the test server, which advertise none).
   */
  endpointDiscovery?: boolean;
  /** A job document keeps at most this many events before the oldest move out. */
  maxEmbeddedEvents?: number;
  /** A product's oldest placement decisions deleted per append at most (cosmos-decision-store.ts). */
  maxTrimmedDecisions?: number;
}

/** Store round trips and request units, for the benchmark and the cost figures in docs/scaling-out.md. */
export interface CosmosStats {
  requests: number;
  requestCharge: number;
  byOperation: Record<string, { requests: number; requestCharge: number }>;
  /** 429s (request rate too large) met, each retried by the SDK after the server's retry-after or, past THROTTLE_RETRY, thrown. */
  throttled: number;
  /** Milliseconds the SDK waited on those retry-afters, summed over calls. */
  throttleWaitMs: number;
}

interface Stored {
  etag: string;
  doc: JobDoc;
}

const DEFAULT_MAX_EMBEDDED_EVENTS = 100;
const MAX_PAGE_ITEMS = 500;
const PRODUCT_CACHE_SIZE = 200_000;
const DOC_CACHE_SIZE = 5_000;

/** Connects, creates the database and container when missing, and returns the store. */
export async function openCosmosStore(options: CosmosStoreOptions): Promise<CosmosJobStore> {
  const client = createCosmosClient(options);
  try {
    const container = await ensureContainer(client, options.database);
    return new CosmosJobStore(client, container, options.maxEmbeddedEvents ?? DEFAULT_MAX_EMBEDDED_EVENTS, options.maxTrimmedDecisions ?? MAX_TRIMMED_PER_APPEND);
  } catch (err) {
    client.dispose();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`could not open the Cosmos DB store (endpoint ${options.endpoint}, database ${options.database}): ${why}`, { cause: err });
  }
}

export class CosmosJobStore implements JobStore, WithEchoOutbox {
  /** Several coordinators share this store: the fleet polls for work others submitted. */
  readonly shared = true;
  readonly #client: CosmosClient;
  readonly #container: Container;
  readonly #maxEmbeddedEvents: number;
  /** job id → product (never changes, so never stale). */
  readonly #products = new BoundedMap<string, string>(PRODUCT_CACHE_SIZE);
  /** job id → the last job document read or written here with its etag; If-Match decides, not this. */
  readonly #docs = new BoundedMap<string, Stored>(DOC_CACHE_SIZE);
  readonly #stats: CosmosStats = { requests: 0, requestCharge: 0, byOperation: {}, throttled: 0, throttleWaitMs: 0 };
  /** Tracker echoes owed: written as intents before the job write they echo (cosmos-echo-outbox.ts). */
  readonly #echoes: CosmosEchoOutbox;
  readonly echoOutbox: EchoOutbox;
  /** Placement decisions for evaluating weights, in this container (cosmos-decision-store.ts). */
  readonly decisions: CosmosDecisionStore;
  #closed = false;
  /** Set once the server refused GROUP BY (the test server does): count from a projection instead. */
  #noGroupBy = false;

  constructor(client: CosmosClient, container: Container, maxEmbeddedEvents = DEFAULT_MAX_EMBEDDED_EVENTS, maxTrimmedDecisions = MAX_TRIMMED_PER_APPEND) {
    this.#client = client;
    this.#container = container;
    this.#maxEmbeddedEvents = Math.max(2, maxEmbeddedEvents);
    this.#echoes = new CosmosEchoOutbox({
      container,
      count: (operation, request) => this.#count(operation, request),
      query: (operation, spec, limit, partitionKey) => this.#query(operation, spec, limit, partitionKey),
      committed: (jobId, productId, revision) => this.#committedEvent(jobId, productId, revision),
    });
    this.echoOutbox = guardedOutbox(this.#echoes, () => this.#assertOpen());
    this.decisions = new CosmosDecisionStore({
      container,
      count: (operation, request) => this.#count(operation, request),
      query: (operation, spec, limit, partitionKey) => this.#query(operation, spec, limit, partitionKey),
      maxTrimmedPerAppend: maxTrimmedDecisions,
    });
  }

  async insertJob(job: JobRecord, event: JobEventRecord): Promise<{ job: JobRecord; created: boolean }> {
    this.#assertOpen();
    const doc = jobDoc(copyOf(job), [copyOf(event)], 0, randomUUID());
    if (job.idempotencyKey !== '') {
      const idem: IdemDoc = { id: idemDocId(job.idempotencyKey), productId: job.productId, type: 'idem', jobId: job.id, intent: doc };
      if (!(await this.#createIfAbsent('insert.idem', idem))) return this.#resolveDuplicate(idem.id, job.productId);
    }
    await this.#echoes.intend(job, event);
    await this.#recordProduct(job.id, job.productId);
    const stored = await this.#createJobDoc(doc);
    return { job: copyOf(stored.doc.job), created: true };
  }

  async getJob(id: string): Promise<JobRecord | null> {
    this.#assertOpen();
    const stored = await this.#readJob(id);
    return stored ? copyOf(stored.doc.job) : null;
  }

  /**
   * A point read of the key's `idem` document, then of its job. When the submit that took the key
   * died before storing the job, the answer is the job it intended: the one the next insertJob
   * with this key completes and returns (this read writes nothing).
   */
  async findJobByIdempotencyKey(productId: string, idempotencyKey: string): Promise<JobRecord | null> {
    this.#assertOpen();
    if (idempotencyKey === '') return null;
    const idem = await this.#readIdem(idemDocId(idempotencyKey), productId);
    if (!idem) return null;
    const stored = await this.#readJobDoc(idem.intent.jobId, productId);
    return copyOf(stored ? stored.doc.job : idem.intent.job);
  }

  async replaceJob(next: JobRecord, event: JobEventRecord | null): Promise<void> {
    this.#assertOpen();
    const expectedRevision = next.revision - 1;
    const productId = await this.#productOf(next.id);
    if (productId === null) throw new RevisionConflict(next.id, expectedRevision);
    if (productId !== next.productId) {
      throw new Error(`job ${next.id} belongs to product ${productId}; a job cannot move to product ${next.productId}`);
    }
    let stored = this.#docs.get(next.id);
    if (!stored || stored.doc.job.revision !== expectedRevision) stored = (await this.#readJobDoc(next.id, productId)) ?? undefined;
    if (!stored || stored.doc.job.revision !== expectedRevision || stored.doc.job.epoch > next.epoch) {
      throw new RevisionConflict(next.id, expectedRevision);
    }
    if (event) await this.#echoes.intend(next, event); // before the write it echoes: see cosmos-echo-outbox.ts
    const { events, spilledThrough } = await this.#eventsAfter(stored.doc, event);
    const doc = jobDoc(copyOf(next), events, spilledThrough, stored.doc.insertId);
    const etag = stored.etag;
    try {
      const res = await this.#count('replace.job', () =>
        this.#container.item(doc.id, productId).replace<JobDoc>(doc, { accessCondition: { type: 'IfMatch', condition: etag } }),
      );
      this.#remember(res.resource ?? doc, res.etag);
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 404) {
        this.#docs.delete(next.id);
        throw new RevisionConflict(next.id, expectedRevision);
      }
      throw err;
    }
  }

  async listJobs(query: JobQuery): Promise<JobPage> {
    this.#assertOpen();
    const limit = normalizeLimit(query.limit);
    if (limit === 0) return { jobs: [], next: null };
    const docs = await this.#queryJobs('query.listJobs', listJobsQuery(query), limit + 1, query.productId);
    return toPage(docs.map((d) => d.job), limit, query.order);
  }

  async listRunnable(now: number, limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    return (await this.#queryJobs('query.listRunnable', runnableQuery(now), normalizeLimit(limit))).map((d) => d.job);
  }

  /**
   * Queued jobs due by `now` in the given work partitions (domain/partitions.ts), best first: what a
   * replica that owns those partitions looks at (docs/scaling-out.md, "Dividing the work").
   */
  async listRunnableIn(partitions: readonly number[], now: number, limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    if (partitions.length === 0) return [];
    return (await this.#queryJobs('query.listRunnableIn', runnableInQuery(partitions, now), normalizeLimit(limit))).map((d) => d.job);
  }

  async listExpiredLeases(now: number, limit: number): Promise<JobRecord[]> {
    this.#assertOpen();
    return (await this.#queryJobs('query.listExpiredLeases', expiredLeasesQuery(now), normalizeLimit(limit))).map((d) => d.job);
  }

  async listLeasedTo(factoryId: string): Promise<JobRecord[]> {
    this.#assertOpen();
    return (await this.#queryJobs('query.listLeasedTo', leasedToQuery(factoryId), Number.MAX_SAFE_INTEGER)).map((d) => d.job);
  }

  async countActiveByConcurrencyKey(keys: readonly string[]): Promise<Map<string, number>> {
    this.#assertOpen();
    const counts = new Map<string, number>();
    if (keys.length === 0) return counts;
    for (const { concurrencyKey } of await this.#query<{ concurrencyKey: string }>('query.countActiveByConcurrencyKey', activeByConcurrencyKeyQuery(keys), Number.MAX_SAFE_INTEGER)) {
      counts.set(concurrencyKey, (counts.get(concurrencyKey) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * GROUP BY on the server (production Cosmos); where the server has no GROUP BY (the test server),
   * a projection of (productId, stage) counted here, which reads every job's two fields.
   */
  async countJobs(): Promise<JobCount[]> {
    this.#assertOpen();
    if (!this.#noGroupBy) {
      try {
        return await this.#query<JobCount>('query.countJobs', countJobsGroupedQuery(), Number.MAX_SAFE_INTEGER);
      } catch (err) {
        if (statusOf(err) !== 400) throw err;
        this.#noGroupBy = true;
      }
    }
    const counts = new Map<string, JobCount>();
    for (const row of await this.#query<Omit<JobCount, 'count'>>('query.countJobs', countJobsProjectionQuery(), Number.MAX_SAFE_INTEGER)) {
      const key = JSON.stringify([row.productId, row.stage]);
      const entry = counts.get(key) ?? { productId: row.productId, stage: row.stage, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
    return [...counts.values()];
  }

  async listSpend(query: SpendQuery): Promise<SpendRecord[]> {
    const rows = await this.#query<{ job: JobRecord }>('query.listSpend', spendSinceQuery(query.from, query.productId), Number.MAX_SAFE_INTEGER, query.productId);
    const records = rows.flatMap((row) => spendOf(row.job)).filter((r) => r.at >= query.from && r.at < query.to);
    return records.sort(spendOrder);
  }

  async listEvents(jobId: string): Promise<JobEventRecord[]> {
    this.#assertOpen();
    const stored = await this.#readJob(jobId);
    if (!stored) return [];
    const byRevision = new Map<number, JobEventRecord>();
    if (stored.doc.spilledThrough > 0) {
      const spilled = await this.#query<EventDoc>('query.spilledEvents', spilledEventsQuery(stored.doc.productId, jobId), Number.MAX_SAFE_INTEGER, stored.doc.productId);
      for (const doc of spilled) byRevision.set(doc.revision, doc.event);
    }
    for (const event of stored.doc.events) if (!byRevision.has(event.revision)) byRevision.set(event.revision, event);
    return [...byRevision.values()].sort((a, b) => a.revision - b.revision).map(copyOf);
  }

  async appendLog(chunk: LogChunkRecord): Promise<AppendLogResult> {
    this.#assertOpen();
    const stored = await this.#readJob(chunk.jobId);
    if (!stored) return 'not_found';
    if (stored.doc.job.epoch !== chunk.epoch) return 'stale_epoch';
    return (await this.#createIfAbsent('insert.log', logDoc(chunk, stored.doc.productId))) ? 'stored' : 'duplicate';
  }

  async readLogs(jobId: string, after: LogPosition | null, limit: number): Promise<LogChunkRecord[]> {
    this.#assertOpen();
    const n = normalizeLimit(limit);
    if (n === 0) return [];
    const productId = await this.#productOf(jobId);
    if (productId === null) return [];
    return (await this.#query<LogDoc>('query.readLogs', logsQuery(productId, jobId, after), n, productId)).map(logFromDoc);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.dispose();
  }

  /** Round trips and request units since the store opened. */
  stats(): CosmosStats {
    return copyOf(this.#stats);
  }

  /** For the echo outbox: how far the job got, and its event at `revision` once it got there. */
  async #committedEvent(jobId: string, productId: string, revision: number): Promise<{ revision: number; event: JobEventRecord | null } | null> {
    const stored = await this.#readJobDoc(jobId, productId);
    if (!stored) return null;
    const reached = stored.doc.job.revision;
    if (reached < revision) return { revision: reached, event: null };
    const embedded = stored.doc.events.find((e) => e.revision === revision);
    const event = embedded ? copyOf(embedded) : ((await this.listEvents(jobId)).find((e) => e.revision === revision) ?? null);
    return { revision: reached, event };
  }

  /** The job document and its etag, or null when there is no such job. */
  async #readJob(id: string): Promise<Stored | null> {
    const productId = await this.#productOf(id);
    return productId === null ? null : this.#readJobDoc(id, productId);
  }

  async #readJobDoc(id: string, productId: string): Promise<Stored | null> {
    const res = await this.#count('read.job', () => this.#container.item(docId(id), productId).read<JobDoc>());
    if (res.statusCode === 404 || !res.resource || res.resource.jobId !== id) {
      this.#docs.delete(id);
      return null;
    }
    return this.#remember(res.resource, res.etag);
  }

  #remember(doc: JobDoc, etag: string | undefined): Stored {
    const stored = { etag: etag ?? doc._etag ?? '', doc };
    this.#docs.set(doc.jobId, stored);
    this.#products.set(doc.jobId, doc.productId);
    return stored;
  }

  async #productOf(jobId: string): Promise<string | null> {
    const cached = this.#products.get(jobId);
    if (cached !== undefined) return cached;
    const res = await this.#count('read.jobref', () => this.#container.item(docId(jobId), jobRefPartition(jobId)).read<JobRefDoc>());
    if (res.statusCode === 404 || !res.resource || res.resource.jobId !== jobId) return null;
    this.#products.set(jobId, res.resource.product);
    return res.resource.product;
  }

  /**
   * Writes the job → product lookup. Already there for this product: a retried or completed
   * insert, fine. There for another product: the id is taken (ids are minted unique, so this is a
   * replayed write), and the job cannot be stored.
   */
  async #recordProduct(jobId: string, productId: string): Promise<void> {
    const ref: JobRefDoc = { id: docId(jobId), productId: jobRefPartition(jobId), type: 'jobref', jobId, product: productId };
    if (!(await this.#createIfAbsent('insert.jobref', ref))) {
      const existing = await this.#productOf(jobId);
      if (existing !== null && existing !== productId) throw new DuplicateJobId(jobId);
    }
    this.#products.set(jobId, productId);
  }

  /** Creates the job document; a 409 is either our own insert completed by someone else, or a duplicate id. */
  async #createJobDoc(doc: JobDoc): Promise<Stored> {
    try {
      const res = await this.#count('insert.job', () => this.#container.items.create<JobDoc>(doc));
      return this.#remember(res.resource ?? doc, res.etag);
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      const existing = await this.#readJobDoc(doc.jobId, doc.productId);
      if (existing?.doc.insertId === doc.insertId) return existing;
      throw new DuplicateJobId(doc.jobId);
    }
  }

  /**
   * The idempotency key was taken: return its job as it is now. If the submit that took it died
   * before storing the job, store the job from the intent it left (its lookup first, as always).
   */
  async #resolveDuplicate(idemId: string, productId: string): Promise<{ job: JobRecord; created: boolean }> {
    const idem = await this.#readIdem(idemId, productId);
    if (!idem) throw new Error(`idempotency record ${idemId} in product ${productId} vanished`);
    const stored = (await this.#readJobDoc(idem.intent.jobId, productId)) ?? (await this.#completeInsert(idem.intent));
    return { job: copyOf(stored.doc.job), created: false };
  }

  async #readIdem(idemId: string, productId: string): Promise<IdemDoc | null> {
    const res = await this.#count('read.idem', () => this.#container.item(idemId, productId).read<IdemDoc>());
    return res.statusCode === 404 ? null : (res.resource ?? null);
  }

  async #completeInsert(intent: JobDoc): Promise<Stored> {
    const submitted = intent.events[0];
    if (submitted) await this.#echoes.intend(intent.job, submitted);
    await this.#recordProduct(intent.jobId, intent.productId);
    return this.#createJobDoc(withoutSystemFields(intent) as JobDoc);
  }

  /**
   * The stored document's events with `event` added (a repeated revision keeps the first), and the
   * oldest moved out to event documents when there are too many. Those moved out are events of
   * stored revisions, so writing them first is right even if the replace then loses its race.
   */
  async #eventsAfter(stored: JobDoc, event: JobEventRecord | null): Promise<{ events: JobEventRecord[]; spilledThrough: number }> {
    let events = stored.events;
    let spilledThrough = stored.spilledThrough;
    if (event) {
      if (event.revision <= spilledThrough) {
        await this.#createIfAbsent('insert.event', this.#eventDoc(stored.productId, copyOf(event)));
      } else if (!events.some((e) => e.revision === event.revision)) {
        events = [...events, copyOf(event)].sort((a, b) => a.revision - b.revision);
      }
    }
    if (events.length > this.#maxEmbeddedEvents) {
      const keep = Math.floor(this.#maxEmbeddedEvents / 2);
      const out = events.slice(0, events.length - keep);
      for (const old of out) await this.#createIfAbsent('insert.event', this.#eventDoc(stored.productId, old));
      events = events.slice(events.length - keep);
      spilledThrough = Math.max(spilledThrough, out.at(-1)!.revision);
    }
    return { events, spilledThrough };
  }

  #eventDoc(productId: string, event: JobEventRecord): EventDoc {
    return { id: eventDocId(event.jobId, event.revision), productId, type: 'event', jobId: event.jobId, revision: event.revision, event };
  }

  /** Creates a document; false when one with its id already exists in its partition (409). */
  async #createIfAbsent(operation: string, doc: { id: string; productId: string }): Promise<boolean> {
    try {
      await this.#count(operation, () => this.#container.items.create(doc));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  async #queryJobs(operation: string, spec: SqlQuerySpec, limit: number, partitionKey?: string): Promise<JobDoc[]> {
    const docs = await this.#query<JobDoc>(operation, spec, limit, partitionKey);
    for (const doc of docs) this.#products.set(doc.jobId, doc.productId);
    return docs;
  }

  /** Up to `limit` results, reading page after page (continuation tokens) as needed. */
  async #query<T>(operation: string, spec: SqlQuerySpec, limit: number, partitionKey?: string): Promise<T[]> {
    if (limit <= 0) return [];
    const iterator = this.#container.items.query<T>(spec, {
      maxItemCount: Math.min(limit, MAX_PAGE_ITEMS),
      ...(partitionKey === undefined ? {} : { partitionKey }),
    });
    const results: T[] = [];
    while (results.length < limit && iterator.hasMoreResults()) {
      const page = await this.#count(operation, () => iterator.fetchNext());
      results.push(...page.resources);
    }
    return results.slice(0, limit);
  }

  /** Runs one request, counting it, its request charge and its throttling (also when it fails, e.g. 409/412). */
  async #count<T extends { requestCharge?: number }>(operation: string, request: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    return measured(request, (cost) => {
      const op = (this.#stats.byOperation[operation] ??= { requests: 0, requestCharge: 0 });
      op.requests++;
      op.requestCharge += cost.requestCharge;
      this.#stats.requests++;
      this.#stats.requestCharge += cost.requestCharge;
      this.#stats.throttled += cost.throttled;
      this.#stats.throttleWaitMs += cost.throttleWaitMs;
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosed();
  }
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

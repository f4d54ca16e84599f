/**
 * A loopback HTTP proxy in front of the Cosmos DB test server that makes it behave more like a real
 * account: every round trip takes a few milliseconds (default 6 ms ± 2 ms, uniform jitter, as within
 * one Azure region), and with a request-unit budget each container gets that many RU per second;
 * spent, the proxy answers 429 with `x-ms-retry-after-ms` and the body Cosmos sends, as the service
 * does. The tests and the benchmark start it like the test server itself (node:http only).
 *
 * The request-unit model (roughly what Cosmos charges for documents of about 1 KB with a lean
 * indexing policy; the proxy writes it into `x-ms-request-charge`, so the store's RU counters read it):
 * - point read (GET of a document): 1 RU, plus 1 per 10 KB of the document;
 * - write (create, replace, upsert, patch, delete of a document): 5 RU plus 1 per KB of the body
 *   (a 1 KB job document 6 RU, a 4 KB one 9 RU);
 * - query page (POST with `x-ms-documentdb-isquery`): 3 RU plus 1 per 4 KB of the page returned
 *   (a real account charges the index lookups and the documents loaded; the test server's full scan
 *   of the container is not charged);
 * - a refused request (404, 409, 412, ...): 1 RU, the lookup that decided it;
 * - anything else (databases, containers, partition key ranges, query plans, the account): free and unmetered,
 *   as Cosmos meters metadata apart from a container's throughput;
 * - a 429 costs nothing.
 * The budget is a token bucket per container holding at most one second of RU: a request is admitted
 * while the bucket is positive and its charge (known once the test server answered) is taken
 * afterwards, so the bucket can go below zero by the requests in flight, like a real partition that
 * charges work already started. While it is at or below zero every request is answered 429 with
 * the time until it is refilled above zero.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CosmosProxyOptions {
  /** The test server's endpoint, `http://127.0.0.1:<port>`. */
  target: string;
  /** Round-trip delay added to every request, milliseconds (default 6). */
  delayMs?: number;
  /** Uniform jitter either side of the delay, milliseconds (default 2). */
  jitterMs?: number;
  /** Request units per second per container; null (the default) meters nothing. */
  ruPerSecond?: number | null;
  /** Randomness for the jitter (tests pin it). */
  random?: () => number;
  /** Milliseconds, monotonic (tests drive the budget's refill with a fake). */
  now?: () => number;
}

export interface CosmosProxyStats {
  /** Requests forwarded to the test server. */
  forwarded: number;
  /** Requests answered 429. */
  throttled: number;
  /** Request units charged, by container (`<database>/<container>`). */
  chargedByContainer: Record<string, number>;
}

export interface CosmosProxy {
  endpoint: string;
  stats(): CosmosProxyStats;
  /** Changes the budget from now on (null: unmetered); buckets start full. */
  setBudget(ruPerSecond: number | null): void;
  close(): Promise<void>;
}

export const DEFAULT_PROXY_DELAY_MS = 6;
export const DEFAULT_PROXY_JITTER_MS = 2;

/** What a request is, for the RU model. */
type Kind = 'read' | 'write' | 'query' | 'metadata';

export async function startCosmosProxy(options: CosmosProxyOptions): Promise<CosmosProxy> {
  const target = new URL(options.target);
  const delayMs = options.delayMs ?? DEFAULT_PROXY_DELAY_MS;
  const jitterMs = options.jitterMs ?? DEFAULT_PROXY_JITTER_MS;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const agent = new Agent({ keepAlive: true });
  const stats: CosmosProxyStats = { forwarded: 0, throttled: 0, chargedByContainer: {} };
  let budget = new Budget(options.ruPerSecond ?? null, now);

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const wait = Math.max(0, delayMs + (random() * 2 - 1) * jitterMs);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const path = req.url ?? '/';
      const kind = kindOf(req.method ?? 'GET', path, req.headers);
      const container = containerOf(path);
      const metered = kind !== 'metadata' && container !== null;
      if (metered) {
        const retryAfterMs = budget.retryAfterMs(container);
        if (retryAfterMs > 0) {
          stats.throttled++;
          tooManyRequests(res, retryAfterMs, path);
          return;
        }
      }
      stats.forwarded++;
      const answer = await forward(target, agent, req, body);
      const charge = !metered ? 0 : answer.status >= 400 ? 1 : chargeOf(kind, body.length, answer.body.length);
      if (metered) {
        budget.charge(container, charge);
        stats.chargedByContainer[container] = (stats.chargedByContainer[container] ?? 0) + charge;
      }
      const headers = { ...answer.headers };
      if (metered) headers['x-ms-request-charge'] = String(charge);
      delete headers['transfer-encoding'];
      headers['content-length'] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    })().catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'BadGateway', message: `cosmos proxy: ${err instanceof Error ? err.message : String(err)}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => structuredClone(stats),
    setBudget(ruPerSecond) {
      budget = new Budget(ruPerSecond, now);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** Token buckets of request units, one per container, each holding at most one second's worth. */
class Budget {
  readonly #buckets = new Map<string, { units: number; at: number }>();

  constructor(
    private readonly ruPerSecond: number | null,
    private readonly now: () => number,
  ) {}

  /** 0 when the container may run a request now, otherwise how long until it may. */
  retryAfterMs(container: string): number {
    if (this.ruPerSecond === null) return 0;
    const units = this.#refill(container).units;
    return units > 0 ? 0 : Math.max(1, Math.ceil((-units * 1000) / this.ruPerSecond));
  }

  charge(container: string, units: number): void {
    if (this.ruPerSecond === null) return;
    this.#refill(container).units -= units;
  }

  #refill(container: string): { units: number; at: number } {
    const rate = this.ruPerSecond!;
    const t = this.now();
    let bucket = this.#buckets.get(container);
    if (!bucket) {
      bucket = { units: rate, at: t };
      this.#buckets.set(container, bucket);
    }
    bucket.units = Math.min(rate, bucket.units + ((t - bucket.at) * rate) / 1000);
    bucket.at = t;
    return bucket;
  }
}

function kindOf(method: string, path: string, headers: IncomingHttpHeaders): Kind {
  if (!/\/docs(\/|$)/.test(path.split('?')[0]!)) return 'metadata';
  if (String(headers['x-ms-cosmos-is-query-plan-request']).toLowerCase() === 'true') return 'metadata'; // the gateway plans, no partition works
  if (method === 'POST' && String(headers['x-ms-documentdb-isquery']).toLowerCase() === 'true') return 'query';
  if (method === 'GET') return /\/docs\/[^/]+$/.test(path) ? 'read' : 'query'; // GET .../docs is a read feed
  return 'write';
}

function chargeOf(kind: Kind, requestBytes: number, responseBytes: number): number {
  switch (kind) {
    case 'read':
      return 1 + Math.floor(responseBytes / 10_240);
    case 'write':
      return 5 + Math.max(1, Math.ceil(requestBytes / 1024));
    case 'query':
      return 3 + Math.floor(responseBytes / 4096);
    case 'metadata':
      return 0;
  }
}

/** `<database>/<container>` of a document path (`/dbs/<db>/colls/<coll>/docs...`), else null. */
function containerOf(path: string): string | null {
  const m = /^\/dbs\/([^/]+)\/colls\/([^/?]+)/.exec(path);
  return m ? `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}` : null;
}

/** What Cosmos answers when a container's throughput is spent (substatus 3200: RU budget). */
function tooManyRequests(res: ServerResponse, retryAfterMs: number, path: string): void {
  const activityId = randomUUID();
  const message =
    'Message: {"Errors":["Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later. Learn more: http://aka.ms/cosmosdb-error-429"]}\r\n' +
    `ActivityId: ${activityId}, Request URI: ${path}, RequestStats: , SDK: gigafactory cosmos proxy`;
  const body = JSON.stringify({ code: 'TooManyRequests', message });
  res.writeHead(429, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-ms-retry-after-ms': String(retryAfterMs),
    'x-ms-substatus': '3200',
    'x-ms-request-charge': '0',
    'x-ms-activity-id': activityId,
  });
  res.end(body);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function forward(target: URL, agent: Agent, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        readAll(answer).then((bytes) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: bytes }), reject);
      },
    );
    out.once('error', reject);
    out.end(body);
  });
}

/**
 * A Cosmos DB test server (@vercel/cosmosdb-server) in the test process, over plain http on an
 * ephemeral loopback port. It keeps everything in memory and checks no key, so any base64 key works.
 * It is not production Cosmos: no change feed, TTL or transactional batch, partition keys are not
 * used to route queries, and every query scans the whole container.
 *
 * With COSMOS_TEST_DELAY_MS set (e.g. 6) the endpoint handed out is test/support/cosmos-proxy.ts's
 * in front of it, adding that round-trip delay (± COSMOS_TEST_JITTER_MS, default 2): the replica
 * suite on realistic latency, `COSMOS_TEST_DELAY_MS=6 npx vitest run test/replicas/pickup.test.ts`.
 */
import { CosmosClient } from '@azure/cosmos';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy.js';

export const TEST_COSMOS_KEY = Buffer.from('gigafactory test key').toString('base64');

export interface CosmosTestServer {
  endpoint: string;
  key: string;
  /** A database name no other test uses. */
  freshDatabase(): string;
  /** A client for looking at (or tampering with) what a store wrote. */
  client(): CosmosClient;
  dropDatabase(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCosmosTestServer(): Promise<CosmosTestServer> {
  const server: Server = createHttpServer();
  refuseQueryPlans(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const direct = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const delayMs = process.env.COSMOS_TEST_DELAY_MS;
  const proxy: CosmosProxy | null = delayMs ? await startCosmosProxy({ target: direct, delayMs: Number(delayMs), jitterMs: Number(process.env.COSMOS_TEST_JITTER_MS ?? 2) }) : null;
  const endpoint = proxy?.endpoint ?? direct;
  const clients: CosmosClient[] = [];
  let counter = 0;
  const client = (): CosmosClient => {
    const c = new CosmosClient({ endpoint, key: TEST_COSMOS_KEY, connectionPolicy: { enableEndpointDiscovery: false } });
    clients.push(c);
    return c;
  };
  let admin: CosmosClient | null = null;
  return {
    endpoint,
    key: TEST_COSMOS_KEY,
    freshDatabase: () => `test-${++counter}-${randomBytes(4).toString('hex')}`,
    client,
    async dropDatabase(name) {
      admin ??= client();
      await admin.database(name).delete().catch(() => undefined);
    },
    async close() {
      for (const c of clients) c.dispose();
      await proxy?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The SDK asks the gateway for a query plan alongside every cross-partition query and uses it only
 * when the gateway refuses to run the query without one, which the test server never does. The
 * test server answers the plan request by running the whole query, doubling the cost of every
 * query; answering it with the 400 a gateway gives for an unsupported request changes nothing the
 * SDK does with the query and halves the test server's work.
 */
function refuseQueryPlans(server: Server): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (String(req.headers['x-ms-cosmos-is-query-plan-request']).toLowerCase() === 'true') {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'BadRequest', message: 'the test server computes no query plans' }));
      return;
    }
    for (const handler of handlers) handler.call(server, req, res);
  });
}

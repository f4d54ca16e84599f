/**
 * What a call that Cosmos keeps answering 429 becomes (src/store/cosmos/client.ts): its cost is
 * recorded with the 429s it met, it is thrown as StoreThrottled with the server's retry-after, and
 * the API answers that UNAVAILABLE, not INTERNAL. Through the proxy test bed with a spent budget and
 * a client that does not retry, so the refusal comes at once.
 */
import { CosmosClient } from '@azure/cosmos';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { toConnectError } from '../../src/server/errors.js';
import { measured, type CallCost } from '../../src/store/cosmos/client.js';
import { StoreThrottled } from '../../src/store/store-errors.js';
import { startCosmosTestServer, type CosmosTestServer } from '../replicas/cosmos-test-server.js';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy.js';

let cosmos: CosmosTestServer;
let proxy: CosmosProxy;
let client: CosmosClient;

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  proxy = await startCosmosProxy({ target: cosmos.endpoint, delayMs: 0, jitterMs: 0, ruPerSecond: 6, now: () => 0 }); // a clock that never refills
  client = new CosmosClient({ endpoint: proxy.endpoint, key: cosmos.key, connectionPolicy: { enableEndpointDiscovery: false, retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } } });
});
afterAll(async () => {
  client?.dispose();
  await proxy?.close();
  await cosmos?.close();
});

it('records the cost of a refused call and throws StoreThrottled, answered UNAVAILABLE', async () => {
  const { database } = await client.databases.createIfNotExists({ id: cosmos.freshDatabase() });
  const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/pk'] } });
  const costs: CallCost[] = [];
  await measured(() => container.items.create({ id: 'a', pk: 'a' }), (c) => costs.push(c)); // spends the 6 RU
  const err = await measured(() => container.item('a', 'a').read(), (c) => costs.push(c)).catch((e: unknown) => e);
  expect(costs).toEqual([
    { requestCharge: 6, throttled: 0, throttleWaitMs: 0 },
    { requestCharge: 0, throttled: 1, throttleWaitMs: 0 },
  ]);
  expect(err).toBeInstanceOf(StoreThrottled);
  expect((err as StoreThrottled).retryAfterMs).toBe(1); // nothing owed: the bucket is at 0
  const mapped = toConnectError(err, createLogger({ level: 'silent', pretty: false }), '/gigafactory.fleet.v1.JobService/SubmitJob');
  expect(mapped.code).toBe(Code.Unavailable);
  expect(mapped.rawMessage).toMatch(/over its request-unit budget; try again in 1 s/);
});

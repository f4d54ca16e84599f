/**
 * The realistic test bed itself (test/support/cosmos-proxy.ts): the round-trip delay is applied,
 * the request-unit model is what x-ms-request-charge says, a spent budget is answered 429 with
 * x-ms-retry-after-ms and the body Cosmos sends, and the budget refills with time (a fake clock).
 */
import { CosmosClient, type Container, type ErrorResponse } from '@azure/cosmos';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';

let cosmos: CosmosTestServer;
const proxies: CosmosProxy[] = [];
const clients: CosmosClient[] = [];

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  for (const p of proxies) await p.close();
  await cosmos?.close();
});

/** A container behind a proxy, through a client that does not retry 429s (so the test sees them). */
async function containerBehind(options: Parameters<typeof startCosmosProxy>[0]): Promise<{ proxy: CosmosProxy; container: Container }> {
  const proxy = await startCosmosProxy(options);
  proxies.push(proxy);
  const client = new CosmosClient({
    endpoint: proxy.endpoint,
    key: cosmos.key,
    connectionPolicy: { enableEndpointDiscovery: false, retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 } },
  });
  clients.push(client);
  const { database } = await client.databases.createIfNotExists({ id: cosmos.freshDatabase() });
  const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/pk'] } });
  return { proxy, container };
}

it('adds the round-trip delay to every request', async () => {
  const { container } = await containerBehind({ target: cosmos.endpoint, delayMs: 60, jitterMs: 0 });
  await container.items.create({ id: 'a', pk: 'a' });
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await container.item('a', 'a').read();
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);
  }
});

it('charges by the documented model and says so in x-ms-request-charge', async () => {
  const { proxy, container } = await containerBehind({ target: cosmos.endpoint, delayMs: 0, jitterMs: 0 });
  const created = await container.items.create({ id: 'a', pk: 'a', note: 'x'.repeat(3_000) });
  expect(created.requestCharge).toBe(5 + 3); // 5 + 1 per KB of a ~3 KB body
  expect((await container.item('a', 'a').read()).requestCharge).toBe(1);
  const page = await container.items.query('SELECT * FROM c', { maxItemCount: 10 }).fetchNext();
  expect(page.requestCharge).toBe(3);
  const conflict = await container.items.create({ id: 'a', pk: 'a' }).catch((err: ErrorResponse) => err);
  expect((conflict as ErrorResponse).code).toBe(409);
  expect((conflict as ErrorResponse).headers?.['x-ms-request-charge']).toBe('1'); // refused: the lookup only
  expect(Object.values(proxy.stats().chargedByContainer)).toEqual([8 + 1 + 3 + 1]);
});

it('answers 429 with x-ms-retry-after-ms once the budget is spent, and refills it with time', async () => {
  let now = 0;
  const { proxy, container } = await containerBehind({ target: cosmos.endpoint, delayMs: 0, jitterMs: 0, ruPerSecond: 10, now: () => now });
  await container.items.create({ id: 'a', pk: 'a' }); // 6 of 10
  await container.items.create({ id: 'b', pk: 'b' }); // admitted at 4 left: -2
  const throttled = await container
    .item('a', 'a')
    .read()
    .then(
      () => null,
      (err: ErrorResponse) => err,
    );
  expect(throttled?.code).toBe(429);
  expect(throttled?.retryAfterInMs).toBe(200); // 2 RU owed at 10 RU/s
  expect(throttled?.substatus).toBe(3200);
  expect(throttled?.message).toContain('Request rate is large');
  expect(proxy.stats().throttled).toBe(1);

  // Metadata is not metered: the container can still be read while its budget is spent.
  await container.read();

  now += 100; // half way: still owed 1 RU
  await expect(container.item('a', 'a').read()).rejects.toMatchObject({ code: 429, retryAfterInMs: 100 });
  now += 101;
  expect((await container.item('a', 'a').read()).resource).toMatchObject({ id: 'a' });
  // A bucket holds at most one second: a long idle time does not bank more.
  now += 60_000;
  for (let i = 0; i < 10; i++) await container.item('a', 'a').read(); // 10 × 1 RU
  await expect(container.item('a', 'a').read()).rejects.toMatchObject({ code: 429 });
});

it('meters each container on its own', async () => {
  let now = 0;
  const { container } = await containerBehind({ target: cosmos.endpoint, delayMs: 0, jitterMs: 0, ruPerSecond: 7, now: () => now });
  const other = (await container.database.containers.createIfNotExists({ id: 'other', partitionKey: { paths: ['/pk'] } })).container;
  await container.items.create({ id: 'a', pk: 'a' }); // 6 of the first container's 7
  await container.item('a', 'a').read(); // admitted at 1 left: 0
  await expect(container.item('a', 'a').read()).rejects.toMatchObject({ code: 429 });
  await other.items.create({ id: 'a', pk: 'a' });
  expect((await other.item('a', 'a').read()).requestCharge).toBe(1);
});

/**
 * Long-lived factory streams pin factories to the replica they first reached; a replica says
 * goodbye (MAX_AGE) to a stream past its maximum age so a load balancer can place the reconnect
 * elsewhere. Off unless configured on SQLite; the leases the factory holds survive the goodbye.
 */
import { afterEach, expect, it } from 'vitest';
import { GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { COSMOS_MAX_STREAM_AGE_MS, fleetSettings, resolveServeConfig } from '../../src/config.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

it('says goodbye with MAX_AGE to a stream older than the maximum age, and the factory may come back', async () => {
  server = await startTestServer({ maxStreamAgeMs: 400, reaperIntervalMs: 50, insecureDev: true });
  const factory = new RawFactory(server.grpcUrl);
  factory.hello('aging');
  await factory.next('welcome');
  const opened = Date.now();
  const goodbye = await factory.next('goodbye');
  const age = Date.now() - opened;
  expect(goodbye.reason).toBe(GoodbyeReason.MAX_AGE);
  expect(age).toBeGreaterThanOrEqual(400 * 0.9 - 60); // up to 10% jitter earlier, one sweep late at most
  await factory.closed();
  const again = new RawFactory(server.grpcUrl);
  again.hello('aging');
  await again.next('welcome');
  again.breakStream();
});

it('defaults the maximum stream age to off on SQLite and to 30 minutes on Cosmos', () => {
  expect(fleetSettings(resolveServeConfig({}, {})).maxStreamAgeMs).toBe(0);
  const cosmos = resolveServeConfig({}, { GIGAFACTORY_STORE: 'cosmos', GIGAFACTORY_COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/', GIGAFACTORY_COSMOS_KEY: 'c2VjcmV0' });
  expect(fleetSettings(cosmos).maxStreamAgeMs).toBe(COSMOS_MAX_STREAM_AGE_MS);
  expect(fleetSettings({ ...cosmos, maxStreamAgeMs: 0 }).maxStreamAgeMs).toBe(0);
});

it('refuses store cosmos without an endpoint and key, naming the settings but never the key', () => {
  expect(() => resolveServeConfig({ store: 'cosmos' }, {})).toThrow(/cosmosEndpoint \(default\): required when store is cosmos \(flag --cosmos-endpoint or GIGAFACTORY_COSMOS_ENDPOINT\)/);
  expect(() => resolveServeConfig({ store: 'cosmos' }, {})).toThrow(/cosmosKey/);
  let message = '';
  try {
    resolveServeConfig({ store: 'cosmos', cosmosKey: 'top-secret-key', cosmosEndpoint: 'not a url' }, {});
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/cosmosEndpoint \(flag --cosmos-endpoint\)/);
  expect(message).not.toContain('top-secret-key');
});

/**
 * Replicas share credentials and product settings through Cosmos's control container (security on):
 * a key made on one works on the other, an enrollment token works once across both, a factory
 * revoked on replica A is disconnected from replica B within the revocation poll, product settings
 * changed on one reach the other, a replica started later finds all of it, and the container holds
 * hashes only.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { FactoryService, GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { CONTROL_CONTAINER_ID } from '../../src/store/cosmos/index.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { bearer } from '../security/helpers.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let database: string;
const servers: TestServer[] = [];
const factories: RawFactory[] = [];

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  database = cosmos.freshDatabase();
});
afterAll(async () => {
  for (const f of factories) f.breakStream();
  await Promise.all(servers.map((s) => s.stop()));
  await cosmos?.close();
});

async function replica(): Promise<TestServer> {
  const server = await startReplica(cosmos, database, { insecureDev: false });
  servers.push(server);
  return server;
}

const admin = (server: TestServer, token: string): Client<typeof AdminService> =>
  createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl, interceptors: bearer(token) }));

async function codeOf(call: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

it('shares keys, enrollment, revocation and product settings between replicas, durably, as hashes only', async () => {
  const [a, b] = [await replica(), await replica()];
  const secrets: string[] = [];

  // An admin key made on A (as `keys bootstrap --store cosmos` would) works on B.
  const { key } = await a.security.createApiKey('root', 'admin', 'bootstrap');
  secrets.push(key);
  const adminA = admin(a, key);
  const adminB = admin(b, key);
  expect((await adminB.listApiKeys({})).apiKeys.map((k) => k.name)).toEqual(['root']);
  const { key: viewer } = await adminB.createApiKey({ name: 'viewer', role: 1 });
  secrets.push(viewer);
  expect(await codeOf(admin(a, viewer).listApiKeys({}))).toBe(Code.PermissionDenied); // known on A, with its role

  // An enrollment token made on A is redeemed on B, once.
  const { token: enrollment } = await adminA.createEnrollmentToken({ factoryId: 'roamer', allowedLabels: [{ key: 'os', values: [] }] });
  secrets.push(enrollment);
  const enrollOn = (server: TestServer) => createClient(FactoryService, createGrpcTransport({ baseUrl: server.grpcUrl, interceptors: bearer(enrollment) }));
  const { factoryToken } = await enrollOn(b).enroll({ factoryId: 'roamer' });
  secrets.push(factoryToken);
  expect(await codeOf(enrollOn(a).enroll({ factoryId: 'roamer' }))).toBe(Code.Unauthenticated);

  // The factory connects to B; A revokes it; B closes the stream within the revocation poll.
  const onB = new RawFactory(b.grpcUrl, { token: factoryToken });
  factories.push(onB);
  onB.hello('roamer', { labels: { os: 'linux' } });
  await onB.next('welcome');
  const started = Date.now();
  const revoked = await adminA.revokeFactory({ factoryId: 'roamer', reason: 'decommissioned' });
  expect(revoked.closedStreams).toBe(0); // none on A
  const goodbye = await onB.next('goodbye');
  const elapsed = Date.now() - started;
  expect(goodbye).toMatchObject({ reason: GoodbyeReason.REVOKED, message: expect.stringContaining('decommissioned') });
  expect((await onB.closed()).error).toBeNull();
  expect(elapsed).toBeLessThan(1_000);
  console.log(`revocation on replica A closed the factory's stream on replica B after ${elapsed} ms`);
  const again = new RawFactory(b.grpcUrl, { token: factoryToken });
  factories.push(again);
  again.hello('roamer');
  expect((await again.closed()).error).toMatchObject({ code: Code.Unauthenticated });

  // Product settings set on A reach B (its periodic reload), and conflict-free writes from B build on them.
  await adminA.setProductSettings({ productId: 'render', shareWeight: 4 });
  await expect.poll(async () => (await adminB.getProductSettings({ productId: 'render' })).settings?.shareWeight, { timeout: 5_000, interval: 100 }).toBe(4);
  const fromB = await adminB.setProductSettings({ productId: 'render', shareWeight: 6 });
  expect(fromB.settings?.revision).toBe(2n);

  // Revoking a key on B refuses it on A at once (no cache).
  await adminB.revokeApiKey({ name: 'viewer' });
  expect(await codeOf(admin(a, viewer).listFactories({}))).toBe(Code.Unauthenticated);

  // Durable: a replica started afterwards (nothing in memory) knows all of it.
  const c = await replica();
  const adminC = admin(c, key);
  expect((await adminC.listApiKeys({})).apiKeys.map((k) => [k.name, k.revokeTime !== undefined])).toEqual([
    ['root', false],
    ['viewer', true],
  ]);
  expect((await adminC.getProductSettings({ productId: 'render' })).settings?.shareWeight).toBe(6);

  // Hashes only: no secret appears anywhere in the control container.
  const { resources } = await cosmos.client().database(database).container(CONTROL_CONTAINER_ID).items.query('SELECT * FROM c').fetchAll();
  expect(resources.length).toBeGreaterThan(5);
  const stored = JSON.stringify(resources);
  for (const secret of secrets) expect(stored).not.toContain(secret);
  expect(stored).not.toContain(secrets[0]!.slice(4, 20));
});

it('`keys bootstrap --store cosmos` writes the first admin key where every replica finds it', async () => {
  const a = await replica();
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [bin, '--json', 'keys', 'bootstrap', '--name', 'first-admin', '--store', 'cosmos', '--cosmos-endpoint', cosmos.endpoint], {
    // The key from the environment, as the README advises (flags show up in `ps`).
    env: { ...process.env, GIGAFACTORY_COSMOS_KEY: cosmos.key, GIGAFACTORY_COSMOS_DATABASE: database },
  });
  const { key } = JSON.parse(stdout) as { key: string };
  expect(key).toMatch(/^gfk_/);
  expect((await admin(a, key).listApiKeys({})).apiKeys.map((k) => k.name)).toContain('first-admin');
});

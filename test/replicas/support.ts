/**
 * Coordinator replicas in this process (the real server, startServer) over one Cosmos test server:
 * for tests of what replicas share through the store, where two processes would only add start-up
 * time. test/replicas/replicas.test.ts runs real replica processes.
 */
import type { ServeConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type { CosmosTestServer } from './cosmos-test-server.js';
import type { Clock } from '../../src/coordinator/clock.js';

export async function startReplica(cosmos: CosmosTestServer, database: string, overrides: Partial<ServeConfig> = {}, opts: { clock?: Clock } = {}): Promise<TestServer> {
  return startTestServer({
    store: 'cosmos',
    cosmosEndpoint: cosmos.endpoint,
    cosmosKey: cosmos.key,
    cosmosDatabase: database,
    heartbeatIntervalMs: 500,
    reaperIntervalMs: 200,
    ...overrides,
  }, opts);
}

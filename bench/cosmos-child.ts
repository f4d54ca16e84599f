/**
 * The Cosmos DB test server (@vercel/cosmosdb-server, the one the tests use) in a process of its
 * own, so its single thread is measured apart from the load generator and the replicas. Started by
 * bench/replicas.ts with fork; answers over the IPC channel:
 * - at start: { endpoint, key }
 * - { t: 'cpu' } → { cpu: process.cpuUsage() }
 * It exits when the parent disconnects.
 */
import { startCosmosTestServer } from '../test/replicas/cosmos-test-server.js';

const server = await startCosmosTestServer();
process.send!({ endpoint: server.endpoint, key: server.key });
process.on('message', (message: { t?: string }) => {
  if (message.t === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});

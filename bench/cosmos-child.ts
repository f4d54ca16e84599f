/**
 * The Cosmos DB test server (@vercel/cosmosdb-server, the one the tests use) in a process of its
 * own, so its single thread is measured apart from the load generator and the replicas. Started by
 * bench/replicas.ts with fork, with an optional JSON argument: the options of a realistic test bed
 * (test/support/cosmos-proxy.ts: round-trip delay, RU budget) put in front of it in the same
 * process. Answers over the IPC channel:
 * - at start: { endpoint, key } (the proxy's endpoint when there is one)
 * - { t: 'cpu' } → { cpu: process.cpuUsage() }
 * It exits when the parent disconnects.
 */
import { startCosmosTestServer } from '../test/replicas/cosmos-test-server.js';
import { startCosmosProxy, type CosmosProxyOptions } from '../test/support/cosmos-proxy.js';

const server = await startCosmosTestServer();
const bed = process.argv[2] ? (JSON.parse(process.argv[2]) as Omit<CosmosProxyOptions, 'target'>) : null;
const proxy = bed ? await startCosmosProxy({ ...bed, target: server.endpoint }) : null;
process.send!({ endpoint: proxy?.endpoint ?? server.endpoint, key: server.key });
process.on('message', (message: { t?: string }) => {
  if (message.t === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => {
  void Promise.all([proxy?.close(), server.close()]).finally(() => process.exit(0));
});

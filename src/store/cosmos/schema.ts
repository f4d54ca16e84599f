/**
 * The container the provider needs, created (or brought up to date) on start-up: one container,
 * partition key `/productId`, and an indexing policy that indexes only the derived query fields
 * (documents.ts) plus the composite indexes each ORDER BY needs. The record under `/job`, the
 * events and the log bytes are not indexed: every write then costs fewer request units.
 *
 * Every multi-field ORDER BY in queries.ts must match one composite index here exactly (real Cosmos
 * and the test server both refuse the query otherwise), so the conformance suite run against the
 * test server checks the pairing.
 */
import type { CompositePath, Container, ContainerDefinition, CosmosClient, IndexingPolicy } from '@azure/cosmos';

export const CONTAINER_ID = 'jobs';

const asc = (path: string): CompositePath => ({ path, order: 'ascending' });
const desc = (path: string): CompositePath => ({ path, order: 'descending' });

export const COMPOSITE_INDEXES: CompositePath[][] = [
  // listRunnable: stage = 'queued' (leading equality), best first.
  [asc('/stage'), desc('/priority'), asc('/createdAt'), asc('/jobId')],
  // listJobs: newest first, with or without product/stage/label filters, and the other orders
  // (queries.ts ORDER_FIELDS). Cosmos could read a descending index backwards; the test server
  // matches an ORDER BY only to an index in its own direction, so both are listed.
  ...(['/createdAt', '/priority', '/productId', '/stage'] as const).flatMap((field) =>
    [desc, asc].map((dir) => (field === '/createdAt' ? [dir(field), dir('/jobId')] : [dir(field), dir('/createdAt'), dir('/jobId')])),
  ),
  // listExpiredLeases: soonest expiry first.
  [asc('/leaseExpiresAt'), asc('/jobId')],
  // listLeasedTo: one factory's leases by job id.
  [asc('/leaseFactoryId'), asc('/jobId')],
  // readLogs and spilled events: one job's documents in order.
  [asc('/jobId'), asc('/epoch'), asc('/sequence')],
  [asc('/jobId'), asc('/revision')],
];

export const INDEXING_POLICY: IndexingPolicy = {
  indexingMode: 'consistent',
  automatic: true,
  includedPaths: [
    '/type/?',
    '/jobId/?',
    '/productId/?',
    '/stage/?',
    '/priority/?',
    '/createdAt/?',
    '/notBefore/?',
    // listRunnableIn: the partitions a replica owns (docs/scaling-out.md, "Dividing the work").
    '/partition/?',
    '/leaseExpiresAt/?',
    '/leaseFactoryId/?',
    '/labelKeys/[]/?',
    '/labelValues/[]/?',
    '/labelPairs/[]/?',
    '/spendUntil/?',
    '/epoch/?',
    '/sequence/?',
    '/revision/?',
    // Artifacts (cosmos-artifact-store.ts): whether any file still names a digest.
    '/sha256/?',
    // The echo outbox (cosmos-echo-outbox.ts): due pending echoes, soonest first.
    '/echoState/?',
    '/dueAt/?',
    // Placement decisions (cosmos-decision-store.ts): a product's newest, and its oldest to trim.
    '/decidedAt/?',
  ].map((path) => ({ path })),
  excludedPaths: [{ path: '/*' }],
  compositeIndexes: COMPOSITE_INDEXES,
};

export const CONTAINER_DEFINITION: ContainerDefinition = {
  id: CONTAINER_ID,
  partitionKey: { paths: ['/productId'] },
  indexingPolicy: INDEXING_POLICY,
};

/**
 * Creates the database and container when missing. An existing container whose composite indexes
 * or included paths differ (an older build) gets this build's indexing policy; Cosmos re-indexes online. Several
 * replicas may start at once: a create that loses the race (409) just reads what the winner made.
 */
export async function ensureContainer(client: CosmosClient, databaseId: string): Promise<Container> {
  const database = (await retryOnConflict(() => client.databases.createIfNotExists({ id: databaseId }))).database;
  const { container, resource } = await retryOnConflict(() => database.containers.createIfNotExists(CONTAINER_DEFINITION));
  const current = resource?.indexingPolicy?.compositeIndexes ?? [];
  // A path this build queries on but the container does not index (a field added since) also needs
  // the new policy; paths the service adds on its own must not cause a replace on every start.
  const included = new Set((resource?.indexingPolicy?.includedPaths ?? []).map((p) => p.path));
  const outdated =
    JSON.stringify(normalise(current)) !== JSON.stringify(normalise(COMPOSITE_INDEXES)) || INDEXING_POLICY.includedPaths!.some((p) => !included.has(p.path));
  if (resource && outdated) {
    await container.replace({ ...resource, id: CONTAINER_ID, partitionKey: resource.partitionKey ?? CONTAINER_DEFINITION.partitionKey!, indexingPolicy: INDEXING_POLICY });
  }
  return container;
}

function normalise(indexes: CompositePath[][]): string[] {
  return indexes.map((paths) => paths.map((p) => `${p.path}:${p.order ?? 'ascending'}`).join(',')).sort();
}

export async function retryOnConflict<T>(create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 409 || attempt >= 3) throw err;
    }
  }
}

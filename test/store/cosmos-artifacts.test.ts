/**
 * What only the Cosmos artifact store has to get right beyond the conformance suite (run in
 * cosmos.test.ts): replicas on their own clients sharing files and the quota ledger, and the
 * digest index its isReferenced query relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactQuotaExceeded } from '../../src/store/artifact-store.js';
import { CONTAINER_ID, openCosmosArtifactStore } from '../../src/store/cosmos/index.js';
import { startCosmosTestServer, type CosmosTestServer } from '../replicas/cosmos-test-server.js';

let server: CosmosTestServer;
beforeAll(async () => {
  server = await startCosmosTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('cosmos artifact store', () => {
  const record = { jobId: 'job-1', productId: 'render', epoch: 1, kind: 'artifact' as const, sizeBytes: 60, sha256: 'a'.repeat(64), contentType: 'text/plain', factoryId: 'f1', createdAt: 1 };

  it('shares files and the quota between replicas: of two racing for the last bytes on separate clients one gets in', async () => {
    const database = server.freshDatabase();
    const replicas = await Promise.all([0, 1].map(() => openCosmosArtifactStore({ endpoint: server.endpoint, key: server.key, database })));
    try {
      const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
      await b.putUpload({ ...record, name: 'x', uploadId: 'u1' });
      expect(await a.getUpload('u1')).toMatchObject({ name: 'x' });
      const results = await Promise.allSettled([a.attach({ ...record, name: 'x' }, 'u1', 100), b.attach({ ...record, name: 'y' }, 'u2', 100)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ArtifactQuotaExceeded);
      expect(await b.productUsage('render')).toBe(60);
      expect(await a.listArtifacts('job-1', {})).toEqual(await b.listArtifacts('job-1', {}));
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await server.dropDatabase(database);
    }
  });

  it('indexes the digest in the jobs container, so isReferenced is an indexed query across products', async () => {
    const database = server.freshDatabase();
    const store = await openCosmosArtifactStore({ endpoint: server.endpoint, key: server.key, database });
    try {
      const { resource } = await server.client().database(database).container(CONTAINER_ID).read();
      expect(resource?.indexingPolicy?.includedPaths?.map((p) => p.path)).toContain('/sha256/?');
    } finally {
      await store.close();
      await server.dropDatabase(database);
    }
  });
});

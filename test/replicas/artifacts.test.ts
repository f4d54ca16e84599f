/**
 * Artifact records shared by replicas over Cosmos (bytes in azurite): an upload begun on one
 * replica is finished on the other, and both list and serve the file, also after a restart.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { startAzurite, type Azurite } from '../support/azurite.js';
import { RawFactory } from '../support/raw-factory.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

let cosmos: CosmosTestServer;
let azurite: Azurite;
beforeAll(async () => {
  [cosmos, azurite] = await Promise.all([startCosmosTestServer(), startAzurite()]);
});
afterAll(async () => {
  await Promise.all([cosmos?.close(), azurite?.stop()]);
});

it('finishes on one replica an upload begun on another, and every replica (restarted too) lists and serves the file', async () => {
  const database = cosmos.freshDatabase();
  const open = () => startReplica(cosmos, database, { blobConnectionString: azurite.connectionString, leaseTtlMs: 5_000 });
  const replicas: TestServer[] = [await open(), await open()];
  const raw = new RawFactory(replicas[0]!.grpcUrl);
  try {
    const [a, b] = replicas as [TestServer, TestServer];
    const jobsOn = (s: TestServer) => createClient(JobService, createGrpcTransport({ baseUrl: s.grpcUrl }));
    const factoryOn = (s: TestServer) => createClient(FactoryService, createGrpcTransport({ baseUrl: s.grpcUrl }));
    raw.hello('f1');
    await raw.next('welcome');
    const { job } = await jobsOn(a).submitJob({ productId: 'p', command: ['true'] });
    const offer = await raw.next('leaseOffer', (o) => o.jobId === job!.id);
    raw.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });

    const bytes = randomBytes(4096);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const started = await factoryOn(a).startUpload({ factoryId: 'f1', jobId: offer.jobId, epoch: offer.epoch, kind: ArtifactKind.ARTIFACT, name: 'out.bin', sizeBytes: BigInt(bytes.length), sha256, contentType: '' });
    await factoryOn(b).uploadChunks((async function* () {
      yield { uploadId: started.uploadId, offset: 0n, data: bytes };
    })());
    const attached = (await factoryOn(b).finishUpload({ uploadId: started.uploadId })).artifact!;
    expect(attached).toMatchObject({ name: 'out.bin', sha256 });

    replicas.push(await open()); // a replica started since: nothing of it was in memory anywhere
    for (const s of replicas) {
      expect((await jobsOn(s).listArtifacts({ jobId: offer.jobId })).artifacts.map((x) => x.name)).toEqual(['out.bin']);
      const parts: Uint8Array[] = [];
      for await (const msg of jobsOn(s).downloadArtifact({ jobId: offer.jobId, name: 'out.bin' })) parts.push(msg.data);
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    }
  } finally {
    raw.breakStream();
    await Promise.all(replicas.map((s) => s.stop()));
    await cosmos.dropDatabase(database);
  }
});

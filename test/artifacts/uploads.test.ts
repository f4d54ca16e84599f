/**
 * The upload contract against a real coordinator (gRPC on 127.0.0.1, SQLite and blob files in a
 * temp dir), spoken by a raw factory that holds a real lease: resume from the held offset, the
 * epoch fence, the quota, bad input of every kind, and the retention reaper.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;
let server: TestServer;
let jobs: Client<typeof JobService>;
let factory: Client<typeof FactoryService>;
let admin: Client<typeof AdminService>;
const raws: RawFactory[] = [];
const beats: NodeJS.Timeout[] = [];
/** Real time plus what a test adds (retention is judged by the coordinator's clock). */
const clock = { skewMs: 0, now: () => Date.now() + clock.skewMs };

beforeEach(async () => {
  clock.skewMs = 0;
  server = await startTestServer({ leaseTtlMs: 1_000, heartbeatIntervalMs: 200, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 20 }, { clock });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  factory = createClient(FactoryService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
});
afterEach(async () => {
  for (const b of beats.splice(0)) clearInterval(b);
  for (const r of raws.splice(0)) r.breakStream();
  await server.stop();
});

/** A factory that takes the next job offered to it; returns the job id and epoch it holds. */
async function holdLease(factoryId: string, productId = 'p', maxAttempts = 0): Promise<{ raw: RawFactory; jobId: string; epoch: bigint }> {
  const raw = new RawFactory(server.grpcUrl);
  raws.push(raw);
  raw.hello(factoryId);
  await raw.next('welcome');
  const { job } = await jobs.submitJob({ productId, command: ['true'], maxAttempts });
  const offer = await raw.next('leaseOffer', (o) => o.jobId === job!.id);
  raw.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
  // Heartbeats keep the lease, as an agent's do, until the stream breaks.
  let sequence = 0n;
  const beat = setInterval(() => !raw.ended && raw.send({ case: 'heartbeat', value: { sequence: ++sequence, runningJobs: [{ jobId: offer.jobId, epoch: offer.epoch }] } }), 200);
  beats.push(beat);
  return { raw, jobId: offer.jobId, epoch: offer.epoch };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function* chunksOf(uploadId: string, bytes: Uint8Array, from: number, chunk = MiB): AsyncGenerator<{ uploadId: string; offset: bigint; data: Uint8Array }> {
  for (let at = from; at < bytes.length; at += chunk) yield { uploadId, offset: BigInt(at), data: bytes.subarray(at, at + chunk) };
}

function declare(factoryId: string, jobId: string, epoch: bigint, name: string, bytes: Uint8Array, extra: { sha256?: string; contentType?: string } = {}) {
  return factory.startUpload({ factoryId, jobId, epoch, kind: ArtifactKind.ARTIFACT, name, sizeBytes: BigInt(bytes.length), sha256: extra.sha256 ?? sha256(bytes), contentType: extra.contentType ?? '' });
}

async function upload(factoryId: string, jobId: string, epoch: bigint, name: string, bytes: Uint8Array) {
  const started = await declare(factoryId, jobId, epoch, name, bytes);
  if (bytes.length > Number(started.committedBytes)) await factory.uploadChunks(chunksOf(started.uploadId, bytes, Number(started.committedBytes)));
  return (await factory.finishUpload({ uploadId: started.uploadId })).artifact!;
}

async function refusal(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected a refusal');
}

async function download(jobId: string, name: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const msg of jobs.downloadArtifact({ jobId, name })) parts.push(msg.data);
  return Buffer.concat(parts);
}

describe('uploads', () => {
  it('resume from the bytes the coordinator holds after a broken stream, and attach once verified', async () => {
    const { jobId, epoch } = await holdLease('f1');
    const bytes = randomBytes(2 * MiB + 17);
    const started = await declare('f1', jobId, epoch, 'out/data.bin', bytes);
    expect(started.committedBytes).toBe(0n);
    await factory.uploadChunks(chunksOf(started.uploadId, bytes.subarray(0, MiB), 0)); // then the "factory" goes away
    const again = await declare('f1', jobId, epoch, 'out/data.bin', bytes);
    expect(again).toMatchObject({ uploadId: started.uploadId, committedBytes: BigInt(MiB) });
    await factory.uploadChunks(chunksOf(started.uploadId, bytes, MiB));
    const artifact = (await factory.finishUpload({ uploadId: started.uploadId })).artifact!;
    expect(artifact).toMatchObject({ jobId, epoch, name: 'out/data.bin', sizeBytes: BigInt(bytes.length), sha256: sha256(bytes), factoryId: 'f1', productId: 'p' });
    expect((await download(jobId, 'out/data.bin')).equals(bytes)).toBe(true); // equals: a deep diff of 2 MiB is slow
    // Declared again after the finish (a restart that lost track): already there, nothing to send.
    expect((await declare('f1', jobId, epoch, 'out/data.bin', bytes)).artifact?.sha256).toBe(sha256(bytes));
  });

  it('accept files from the factory that ended the attempt, until a newer attempt; refuse other factories and stale epochs', async () => {
    const { raw, jobId, epoch } = await holdLease('f1', 'p', 1);
    expect((await refusal(() => declare('f2', jobId, epoch, 'x.txt', Buffer.from('x')))).code).toBe(Code.FailedPrecondition);
    raw.send({ case: 'jobResult', value: { jobId, epoch, outcome: AttemptOutcome.FAILED, exitCode: 1 } });
    await raw.next('resultAck');
    await upload('f1', jobId, epoch, 'after-result.txt', Buffer.from('late but mine')); // the attempt ended, no newer one yet
    await jobs.requeueJob({ jobId });
    const offer = await raw.next('leaseOffer', (o) => o.jobId === jobId); // a newer attempt begins
    expect(offer.epoch).toBe(epoch + 1n);
    const stale = await refusal(() => declare('f1', jobId, epoch, 'zombie.txt', Buffer.from('z')));
    expect(stale.code).toBe(Code.FailedPrecondition);
    expect(stale.rawMessage).toMatch(/stale/);
    expect((await jobs.listArtifacts({ jobId })).artifacts.map((a) => a.name)).toEqual(['after-result.txt']);
  });

  it('refuse an upload begun under a lease that lapsed before its finish', async () => {
    const { raw, jobId, epoch } = await holdLease('f1');
    const bytes = Buffer.from('half way');
    const started = await declare('f1', jobId, epoch, 'a.txt', bytes);
    await factory.uploadChunks(chunksOf(started.uploadId, bytes, 0));
    raw.breakStream(); // no more heartbeats: the lease lapses and the coordinator takes the job back
    await expect.poll(async () => (await jobs.getJob({ jobId })).job!.attempts[0]?.outcome, { timeout: 10_000 }).toBe(AttemptOutcome.LEASE_EXPIRED);
    const refused = await refusal(() => factory.finishUpload({ uploadId: started.uploadId }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect((await jobs.listArtifacts({ jobId })).artifacts).toEqual([]);
  });

  it('refuse bad input with a status naming what was wrong, and keep nothing of it', async () => {
    const { jobId, epoch } = await holdLease('f1');
    const bytes = Buffer.from('hello');
    const bad = async (call: () => Promise<unknown>, code: Code, message: RegExp) => {
      const err = await refusal(call);
      expect([Code[err.code], err.rawMessage]).toEqual([Code[code], expect.stringMatching(message)]);
    };
    await bad(() => declare('f1', 'job_missing', 1n, 'a.txt', bytes), Code.NotFound, /job_missing/);
    await bad(() => declare('f1', jobId, epoch, '../etc/passwd', bytes), Code.InvalidArgument, /relative path/);
    await bad(() => declare('f1', jobId, epoch, '', bytes), Code.InvalidArgument, /name is required/);
    await bad(() => declare('f1', jobId, epoch, 'a.txt', bytes, { sha256: 'xyz' }), Code.InvalidArgument, /sha256/);
    await bad(() => declare('f1', jobId, epoch, 'a.txt', bytes, { contentType: 'not a type' }), Code.InvalidArgument, /content_type/);
    await bad(() => factory.startUpload({ factoryId: 'f1', jobId, epoch, name: 'a.txt', sizeBytes: 5n, sha256: sha256(bytes) }), Code.InvalidArgument, /kind is required/);
    await bad(() => declare('', jobId, epoch, 'a.txt', bytes), Code.InvalidArgument, /factory_id/);
    await bad(() => factory.finishUpload({ uploadId: 'u-nope' }), Code.NotFound, /StartUpload first/);

    const big = randomBytes(MiB + 1);
    const started = await declare('f1', jobId, epoch, 'big.bin', big);
    await bad(() => factory.uploadChunks(chunksOf(started.uploadId, big, 0, MiB + 1)), Code.ResourceExhausted, /1 MiB/);
    await bad(() => factory.uploadChunks(chunksOf(started.uploadId, big.subarray(0, 10), 5)), Code.FailedPrecondition, /resume at 0/);
    await bad(() => factory.uploadChunks(chunksOf(started.uploadId, Buffer.concat([big, big]), 0)), Code.InvalidArgument, /past the declared size/);

    // The bytes do not match the declared digest: refused at the finish, and the upload starts over.
    const lying = await declare('f1', jobId, epoch, 'lie.txt', bytes, { sha256: sha256(Buffer.from('other')) });
    await factory.uploadChunks(chunksOf(lying.uploadId, bytes, 0));
    await bad(() => factory.finishUpload({ uploadId: lying.uploadId }), Code.FailedPrecondition, /SHA-256.*start it again from offset 0/);
    expect((await declare('f1', jobId, epoch, 'lie.txt', bytes, { sha256: sha256(Buffer.from('other')) })).committedBytes).toBe(0n);
    expect((await jobs.listArtifacts({ jobId })).artifacts).toEqual([]);
    await bad(() => jobs.listArtifacts({ jobId: 'job_missing' }), Code.NotFound, /job_missing/);
  });
});

describe('quota and retention', () => {
  it('refuse an upload over the product quota, naming product, used and limit', async () => {
    await admin.setProductSettings({ productId: 'q', artifactRetention: { maxTotalBytes: 100n } });
    const { jobId, epoch } = await holdLease('f1', 'q');
    await upload('f1', jobId, epoch, 'a.bin', randomBytes(60));
    const refused = await refusal(() => declare('f1', jobId, epoch, 'b.bin', randomBytes(41)));
    expect([Code[refused.code], refused.rawMessage]).toEqual([Code[Code.ResourceExhausted], 'product q artifact quota exceeded: 60 bytes used + 41 bytes new > limit 100 bytes']);
    await upload('f1', jobId, epoch, 'c.bin', randomBytes(40)); // what fits still goes
    expect((await admin.getProductSettings({ productId: 'q' })).settings!.artifactRetention!.maxTotalBytes).toBe(100n);
  });

  it('the reaper deletes artifacts past the max age, keeping content another artifact still names', async () => {
    await admin.setProductSettings({ productId: 'r', artifactRetention: { maxAge: durationFromMs(3_600_000) } });
    const shared = randomBytes(1000);
    const old = await holdLease('f1', 'r');
    clock.skewMs = -2 * 3_600_000; // these two are attached two hours ago
    await upload('f1', old.jobId, old.epoch, 'old.bin', randomBytes(500));
    await upload('f1', old.jobId, old.epoch, 'shared.bin', shared);
    old.raw.breakStream();
    clock.skewMs = 0;
    const young = await holdLease('f2', 'r');
    await upload('f2', young.jobId, young.epoch, 'shared-again.bin', shared);
    // The rows go by the coordinator's clock; old.bin's bytes (filed just now by the blob store's own
    // clock) go once they are older than the cut-off, in a later pass's sweep.
    expect(await server.artifactReaper!.pass()).toMatchObject({ artifacts: 2 });
    expect((await jobs.listArtifacts({ jobId: old.jobId })).artifacts).toEqual([]);
    expect((await refusal(() => download(old.jobId, 'old.bin'))).code).toBe(Code.NotFound);
    expect(await download(young.jobId, 'shared-again.bin')).toEqual(shared);
  });
});

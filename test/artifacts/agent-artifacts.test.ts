/**
 * Artifacts end to end: a real agent process runs a job that writes files into
 * GIGAFACTORY_ARTIFACTS_DIR; the agent uploads them when the attempt ends (before its result), and
 * they are listed per attempt and downloaded byte-identical over gRPC and plain HTTP GET (with Range).
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { readFileSync } from 'node:fs';
import { cli } from '../support/cli.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let workRoot: string;
const agents: ManagedProcess[] = [];

beforeEach(async () => {
  server = await startTestServer({ leaseTtlMs: 15_000, heartbeatIntervalMs: 300, reaperIntervalMs: 100 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  workRoot = mkdtempSync(join(tmpdir(), 'gigafactory-artifacts-'));
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(workRoot, { recursive: true, force: true });
});

async function agent(id: string): Promise<ManagedProcess> {
  const a = await spawnAgent({ coordinator: server.grpc.address, id, workDir: join(workRoot, id) });
  agents.push(a);
  return a;
}

async function download(jobId: string, name: string, epoch = 0n, offset = 0n): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const msg of jobs.downloadArtifact({ jobId, name, epoch, offset })) parts.push(msg.data);
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('artifacts from a real agent', () => {
  it('uploads the files a job wrote before its result; lists them per attempt; downloads them byte-identical over gRPC and HTTP (Range too)', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 123); // several chunks, not a multiple of 1 MiB
    const source = join(workRoot, 'payload.bin');
    writeFileSync(source, payload);
    await agent('a1');
    const script = `const fs=require('fs'),p=require('path');const d=process.env.GIGAFACTORY_ARTIFACTS_DIR;fs.mkdirSync(p.join(d,'reports'),{recursive:true});fs.writeFileSync(p.join(d,'reports','summary.txt'),'all good\\n');fs.copyFileSync(${JSON.stringify(source)},p.join(d,'data.bin'));`;
    const { job } = await jobs.submitJob({ productId: 'p', command: [process.execPath, '-e', script] });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);

    // Listed as soon as the job succeeded: the result waited for the upload.
    const { artifacts } = await jobs.listArtifacts({ jobId: job!.id });
    expect(artifacts.map((a) => [a.name, Number(a.sizeBytes), a.epoch, a.kind, a.contentType])).toEqual([
      ['data.bin', payload.length, 1n, ArtifactKind.ARTIFACT, 'application/octet-stream'],
      ['reports/summary.txt', 9, 1n, ArtifactKind.ARTIFACT, 'text/plain; charset=utf-8'],
    ]);
    expect(artifacts[0]!.sha256).toBe(sha256(payload));
    expect(artifacts[0]!.factoryId).toBe('a1');

    expect(sha256(await download(job!.id, 'data.bin'))).toBe(sha256(payload));
    expect((await download(job!.id, 'reports/summary.txt', 1n)).toString()).toBe('all good\n');
    expect(await download(job!.id, 'data.bin', 0n, BigInt(payload.length - 10))).toEqual(payload.subarray(payload.length - 10));

    const url = `${server.httpUrl}/artifacts/${job!.id}/1/data.bin`;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('application/octet-stream');
    expect(whole.headers.get('content-disposition')).toContain('filename="data.bin"');
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(payload));

    const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-199/${payload.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(payload.subarray(100, 200));

    const suffix = await fetch(`${server.httpUrl}/artifacts/${job!.id}/latest/reports/summary.txt`, { headers: { range: 'bytes=-5' } });
    expect(suffix.status).toBe(206);
    expect(await suffix.text()).toBe('good\n');

    const past = await fetch(url, { headers: { range: `bytes=${payload.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${payload.length}`);

    expect((await fetch(`${server.httpUrl}/artifacts/${job!.id}/1/missing.txt`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/artifacts/${job!.id}/x/data.bin`)).status).toBe(400);

    // The CLI: list, then get into a file (checked against the digest before it is renamed into place).
    const listed = await cli(['--coordinator', server.grpc.address, '--json', 'artifacts', job!.id]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((a) => a.name)).toEqual(['data.bin', 'reports/summary.txt']);
    const target = join(workRoot, 'got.bin');
    const got = await cli(['--coordinator', server.grpc.address, 'artifacts', 'get', job!.id, 'data.bin', '-o', target]);
    expect(got.code, got.stderr).toBe(0);
    expect(sha256(readFileSync(target))).toBe(sha256(payload));
    const missing = await cli(['--coordinator', server.grpc.address, 'artifacts', 'get', job!.id, 'nope.txt', '-o', join(workRoot, 'nope')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.txt/);
  });

  it('an agent killed (kill -9) mid-upload resumes after its restart: the artifact arrives whole, the job succeeds once', async () => {
    const payload = randomBytes(48 * 1024 * 1024);
    const source = join(workRoot, 'big.bin');
    writeFileSync(source, payload);
    const first = await agent('k1');
    const script = `require('fs').copyFileSync(${JSON.stringify(source)}, require('path').join(process.env.GIGAFACTORY_ARTIFACTS_DIR, 'big.bin'))`;
    const { job } = await jobs.submitJob({ productId: 'p', command: [process.execPath, '-e', script] });
    await first.waitFor((l) => l.msg === 'uploading artifact' && l.name === 'big.bin');
    // Asking as the agent would (the same declaration names the same upload) tells how far it got.
    const factory = createClient(FactoryService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const declared = { factoryId: 'k1', jobId: job!.id, epoch: 1n, kind: ArtifactKind.ARTIFACT, name: 'big.bin', sizeBytes: BigInt(payload.length), sha256: sha256(payload), contentType: 'application/octet-stream' };
    await expect.poll(async () => (await factory.startUpload(declared)).committedBytes, { timeout: 20_000, interval: 20 }).toBeGreaterThan(0n);
    await first.kill('SIGKILL');
    agents.splice(agents.indexOf(first), 1);
    const second = await agent('k1'); // same id, same work dir: its outbox and unsent result
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    await second.waitFor((l) => l.msg === 'artifacts uploaded' && l.jobId === job!.id);
    const { artifacts } = await jobs.listArtifacts({ jobId: job!.id });
    expect(artifacts.map((a) => [a.name, Number(a.sizeBytes), a.sha256])).toEqual([['big.bin', payload.length, sha256(payload)]]);
    expect(sha256(await download(job!.id, 'big.bin'))).toBe(sha256(payload));
    expect((await jobs.getJob({ jobId: job!.id })).job!.attempts).toHaveLength(1);
    // Killed after its first acknowledged chunk of 48, so the restarted agent went on from there.
    const resumed = second.lines.find((l) => l.msg === 'resuming artifact upload' && l.name === 'big.bin');
    expect(Number(resumed?.from)).toBeGreaterThan(0);
  });
});

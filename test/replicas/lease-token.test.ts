/**
 * Lease tokens with real agents on two replicas over one Cosmos store: a job paused (SIGSTOP, with
 * its agent) until its lease lapses and a successor on the other replica has written through the
 * guarded writer of docs/examples/; resumed (SIGCONT), its own write is refused. Replica B answers
 * LeaseService.Check for the lease A issued, and both publish the same keys.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LeaseService } from '../../gen/ts/gigafactory/fleet/v1/lease_service_pb.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import type { TestServer } from '../support/server.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';
import { startReplica } from './support.js';

const WRITER = join(import.meta.dirname, '..', '..', 'docs', 'examples', 'guarded_writer.py');
const PYTHON = '/usr/bin/python3';
const TIMINGS = { leaseTtlMs: 6_000, heartbeatIntervalMs: 500, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50 };

/**
 * The job: say it started (its process group id, its token), wait for the test's go, then write
 * through the guarded writer and keep its verdict. Files are named by epoch, so attempts do not mix.
 */
const JOB_SCRIPT = [
  'printf %s "$GIGAFACTORY_LEASE_TOKEN" > "$MARKS/token-$GIGAFACTORY_EPOCH"',
  'echo $$ > "$MARKS/pid.tmp-$GIGAFACTORY_EPOCH" && mv "$MARKS/pid.tmp-$GIGAFACTORY_EPOCH" "$MARKS/pid-$GIGAFACTORY_EPOCH"',
  'while [ ! -e "$MARKS/go-$GIGAFACTORY_EPOCH" ]; do sleep 0.05; done',
  '"$PYTHON" "$WRITER" --coordinator "$CHECKER" --ledger "$MARKS/ledger" "written by epoch $GIGAFACTORY_EPOCH" > "$MARKS/verdict.tmp-$GIGAFACTORY_EPOCH"',
  'code=$?; mv "$MARKS/verdict.tmp-$GIGAFACTORY_EPOCH" "$MARKS/verdict-$GIGAFACTORY_EPOCH"; exit $code',
].join('\n');

let cosmos: CosmosTestServer;
let a: TestServer;
let b: TestServer;
let marks: string;
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  const database = cosmos.freshDatabase();
  a = await startReplica(cosmos, database, TIMINGS);
  b = await startReplica(cosmos, database, TIMINGS);
  marks = mkdtempSync(join(tmpdir(), 'gigafactory-lease-token-'));
});
afterAll(async () => {
  for (const agent of agents) {
    agent.child.kill('SIGCONT');
    await agent.kill('SIGKILL');
  }
  await a?.stop();
  await b?.stop();
  await cosmos?.close();
  rmSync(marks, { recursive: true, force: true });
});

const clients = (server: TestServer): { jobs: Client<typeof JobService>; lease: Client<typeof LeaseService> } => {
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  return { jobs: createClient(JobService, transport), lease: createClient(LeaseService, transport) };
};

async function agentOn(server: TestServer, id: string): Promise<ManagedProcess> {
  const agent = await spawnAgent({ coordinator: server.grpc.address, id, workDir: join(marks, id), readyTimeoutMs: 60_000 }); // an agent is slow to start on a loaded machine
  agents.push(agent);
  return agent;
}

const mark = (name: string): string => join(marks, name);
const appeared = (name: string): Promise<void> => expect.poll(() => existsSync(mark(name)), { timeout: 60_000, interval: 50 }).toBe(true);
const verdict = (epoch: number): unknown => JSON.parse(readFileSync(mark(`verdict-${epoch}`), 'utf8'));

it('a paused job that lost its lease has its write refused; its successor, checked on the other replica, writes', async () => {
  const onA = clients(a);
  const onB = clients(b);
  const first = await agentOn(a, 'first');
  const env = { MARKS: marks, WRITER, PYTHON, CHECKER: b.httpUrl };
  const { job } = await onA.jobs.submitJob({ productId: 'guarded', command: ['sh', '-c', JOB_SCRIPT], env });
  const jobId = job!.id;
  await appeared('pid-1');
  const token1 = readFileSync(mark('token-1'), 'utf8');

  // B answers for the lease A issued, from the store; both replicas publish the same keys.
  const live = await onB.lease.check({ token: token1 });
  expect(live).toMatchObject({ current: true, reason: '', currentEpoch: 1n, claims: { jobId, epoch: 1n, factoryId: 'first' } });
  const keysOf = async (server: TestServer): Promise<unknown> => (await fetch(`${server.httpUrl}/.well-known/gigafactory-lease-keys`)).json();
  expect(await keysOf(b)).toEqual(await keysOf(a));

  // Pause the job and its agent: no heartbeats, so the lease lapses and B's check says so at once.
  const jobGroup = Number(readFileSync(mark('pid-1'), 'utf8'));
  process.kill(-jobGroup, 'SIGSTOP');
  first.child.kill('SIGSTOP');
  await expect.poll(async () => (await onB.lease.check({ token: token1 })).reason, { timeout: 20_000, interval: 100 }).toMatch(/lapsed|superseded|has ended/);

  // The successor runs on an agent of B and writes at once.
  writeFileSync(mark('go-2'), '');
  await agentOn(b, 'second');
  await waitForStage(onB.jobs, jobId, JobStage.SUCCEEDED);
  expect(verdict(2)).toEqual({ written: true, job: jobId, epoch: 2 });

  // The paused job resumes (its agent still stopped) and tries its write: refused.
  process.kill(-jobGroup, 'SIGCONT');
  writeFileSync(mark('go-1'), '');
  await appeared('verdict-1');
  expect(verdict(1)).toEqual({ written: false, reason: `epoch 1 is older than epoch 2, which already wrote for job ${jobId}` });
  expect(await onA.lease.check({ token: token1 })).toMatchObject({ current: false, currentEpoch: 2n, reason: `superseded: job ${jobId} is at epoch 2, the token is for epoch 1` });
  const ledger = readFileSync(mark('ledger'), 'utf8').trim().split('\n').map((row) => JSON.parse(row));
  expect(ledger).toEqual([{ job: jobId, epoch: 2, factory: 'second', line: 'written by epoch 2' }]);
  first.child.kill('SIGCONT');
}, 240_000);

it('the guarded writer refuses, saying why, a token that is stale online, forged, or missing', async () => {
  const run = promisify(execFile);
  const writer = async (token: string | undefined): Promise<{ code: number; out: unknown }> => {
    const env = { ...process.env, GIGAFACTORY_LEASE_TOKEN: token ?? '' };
    try {
      const { stdout } = await run(PYTHON, [WRITER, '--coordinator', b.httpUrl, '--ledger', mark('other-ledger'), 'x'], { env });
      return { code: 0, out: JSON.parse(stdout) };
    } catch (err) {
      const failed = err as { code: number; stdout: string };
      return { code: failed.code, out: JSON.parse(failed.stdout) };
    }
  };
  // The first test's epoch-1 token, on a fresh ledger: no epoch to compare, so the online check refuses it.
  expect(await writer(readFileSync(mark('token-1'), 'utf8'))).toEqual({ code: 3, out: { written: false, reason: expect.stringMatching(/^superseded: job .* is at epoch 2, the token is for epoch 1$/) } });
  const [prefix, claims, signature] = readFileSync(mark('token-1'), 'utf8').split('.') as [string, string, string];
  const forged = Buffer.from(Buffer.from(claims, 'base64url').toString().replace('"e":1', '"e":3')).toString('base64url');
  expect(await writer(`${prefix}.${forged}.${signature}`)).toEqual({ code: 3, out: { written: false, reason: 'the signature does not verify' } });
  expect(await writer('garbage')).toEqual({ code: 2, out: { written: false, error: expect.stringMatching(/not a lease token/) } });
  expect(await writer(undefined)).toEqual({ code: 2, out: { written: false, error: expect.stringMatching(/GIGAFACTORY_LEASE_TOKEN is not set/) } });
  // Check itself: what is not a token is INVALID_ARGUMENT saying so.
  await expect(clients(b).lease.check({ token: 'garbage' })).rejects.toThrow(/not a lease token/);
});

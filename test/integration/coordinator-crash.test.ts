/**
 * kill -9 of the coordinator in the middle of a run of 1,000 jobs on live agents, then a restart on
 * the same data dir and ports: nothing acknowledged is lost, the agents reconnect and resume, every
 * job ends exactly once, and — since every agent stayed alive — no job was executed twice (each
 * job's process was started once, as the agents' own logs say).
 *
 * GIGAFACTORY_CRASH_TEST_JOBS sets the number of jobs (at most 1,000 per submit batch; default 1,000).
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AttemptOutcome, JobStage, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { spawnAgent, spawnCoordinator, type ManagedProcess } from '../support/processes.js';

const root = mkdtempSync(join(tmpdir(), 'gigafactory-crash-'));
const processes: ManagedProcess[] = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});

// The lease TTL is long enough that an agent starved of CPU (two cores shared with other test runs)
// is not taken for dead: a lapsed lease would rightly run its job again, which is not what this tests.
const env = { GIGAFACTORY_LEASE_TTL_MS: '15000', GIGAFACTORY_HEARTBEAT_INTERVAL_MS: '500', GIGAFACTORY_REAPER_INTERVAL_MS: '200', GIGAFACTORY_RETRY_BASE_MS: '50' };
const JOBS = Number(process.env.GIGAFACTORY_CRASH_TEST_JOBS ?? 1_000);
const AGENTS = ['left', 'right', 'middle'];

async function allJobs(client: Client<typeof JobService>): Promise<Job[]> {
  const jobs: Job[] = [];
  let pageToken = '';
  do {
    const page = await client.listJobs({ productId: 'crash', pageSize: 500, pageToken });
    jobs.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return jobs;
}

it(`survives kill -9 of the coordinator during ${JOBS} jobs: agents resume, every job ends once and runs once`, async () => {
  const dataDir = join(root, 'data');
  const first = await spawnCoordinator({ dataDir, env });
  processes.push(first);
  const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
  const [grpcPort, httpPort] = [portOf(first.grpcAddress), portOf(first.httpAddress)];
  const client = createClient(JobService, createGrpcTransport({ baseUrl: `http://${first.grpcAddress}` }));
  const agents = await Promise.all(AGENTS.map((id) => spawnAgent({ coordinator: first.grpcAddress, id, slots: 4, workDir: join(root, id) })));
  processes.push(...agents);

  // Every fifth job runs a little longer, so some are mid-run when the coordinator dies.
  const requests = Array.from({ length: JOBS }, (_, i) => ({ productId: 'crash', command: i % 5 === 0 ? ['sleep', '0.2'] : ['true'], idempotencyKey: `job-${i}` }));
  const { results } = await client.submitJobs({ jobs: requests });
  expect(results).toHaveLength(JOBS);

  // Progress from the agents' own log lines: polling the store would compete with the run.
  const lines = (msg: string) => agents.flatMap((a) => a.lines.filter((l) => l.msg === msg));
  await expect.poll(() => lines('job ended').length, { timeout: 120_000, interval: 50 }).toBeGreaterThanOrEqual(Math.ceil(JOBS / 3));
  await first.kill('SIGKILL');
  const second = await spawnCoordinator({ dataDir, grpcPort, httpPort, env });
  processes.push(second);

  await expect.poll(() => lines('job ended').length, { timeout: 240_000, interval: 250 }).toBeGreaterThanOrEqual(JOBS);
  await expect.poll(async () => (await allJobs(client)).filter((j) => j.stage === JobStage.SUCCEEDED).length, { timeout: 30_000, interval: 500 }).toBe(JOBS);
  const jobs = await allJobs(client);
  const wrong = jobs.filter((j) => j.stage !== JobStage.SUCCEEDED || j.attempts.filter((a) => a.outcome === AttemptOutcome.SUCCEEDED).length !== 1);
  expect(wrong.map((j) => ({ id: j.id, stage: j.stage, attempts: j.attempts.length }))).toEqual([]);

  // Every agent stayed alive, so no job may have been executed twice.
  const starts = new Map<string, number>();
  for (const line of lines('job started')) starts.set(String(line.jobId), (starts.get(String(line.jobId)) ?? 0) + 1);
  const twice = [...starts].filter(([, n]) => n > 1);
  const retried = jobs.filter((j) => j.attempts.length > 1).length;
  const resumed = second.lines.filter((l) => l.msg === 'factory connected' && Number(l.resuming) > 0).length;
  console.log(`coordinator crash: ${JOBS} jobs, ${starts.size} started, ${twice.length} started twice, ${retried} with more than one attempt, ${resumed} agents resumed leases`);
  // On failure, say how each such job's attempts ended (a LEASE_EXPIRED first attempt means its agent
  // went unheard for a whole TTL).
  expect(twice.map(([id, n]) => ({ id, started: n, attempts: jobs.find((j) => j.id === id)?.attempts.map((a) => `${a.factoryId}:${AttemptOutcome[a.outcome]}`) }))).toEqual([]);
  expect(starts.size).toBe(JOBS);
  // The agents came back to the restarted coordinator rather than being replaced.
  expect(second.lines.filter((l) => l.msg === 'factory connected').map((l) => l.factoryId).sort()).toEqual([...AGENTS].sort());
}, 400_000);

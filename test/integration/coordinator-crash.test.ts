/**
 * kill -9 of the coordinator in the middle of a run, then a restart on the same data dir and ports:
 * nothing acknowledged is lost, the agents reconnect and resume, and every job ends exactly once.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { spawnAgent, spawnCoordinator, type ManagedProcess } from '../support/processes.js';

const root = mkdtempSync(join(tmpdir(), 'gigafactory-crash-'));
const processes: ManagedProcess[] = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});

const env = { GIGAFACTORY_LEASE_TTL_MS: '4000', GIGAFACTORY_HEARTBEAT_INTERVAL_MS: '500', GIGAFACTORY_REAPER_INTERVAL_MS: '200', GIGAFACTORY_RETRY_BASE_MS: '50' };
const JOBS = 40;

it('survives kill -9 of the coordinator: agents resume and every job ends exactly once', async () => {
  const dataDir = join(root, 'data');
  const first = await spawnCoordinator({ dataDir, env });
  processes.push(first);
  const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
  const [grpcPort, httpPort] = [portOf(first.grpcAddress), portOf(first.httpAddress)];
  const client = createClient(JobService, createGrpcTransport({ baseUrl: `http://${first.grpcAddress}` }));
  for (const id of ['left', 'right']) processes.push(await spawnAgent({ coordinator: first.grpcAddress, id, slots: 2, workDir: join(root, id) }));

  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const { job } = await client.submitJob({ productId: 'crash', command: ['sh', '-c', `sleep 0.3; echo done ${i}`] });
    ids.push(job!.id);
  }
  const succeeded = async () => (await client.listJobs({ productId: 'crash', stages: [JobStage.SUCCEEDED], pageSize: 500 })).jobs.length;
  await expect.poll(succeeded, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(6);

  await first.kill('SIGKILL');
  const second = await spawnCoordinator({ dataDir, grpcPort, httpPort, env });
  processes.push(second);

  await expect.poll(succeeded, { timeout: 60_000, interval: 250 }).toBe(JOBS);
  for (const id of ids) {
    const job = (await client.getJob({ jobId: id })).job!;
    expect(job.stage).toBe(JobStage.SUCCEEDED);
    expect(job.attempts.filter((a) => a.outcome === AttemptOutcome.SUCCEEDED)).toHaveLength(1);
  }
  // The agents came back to the restarted coordinator rather than being replaced.
  expect(second.lines.filter((l) => l.msg === 'factory connected').map((l) => l.factoryId).sort()).toEqual(['left', 'right']);
});

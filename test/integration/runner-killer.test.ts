/**
 * A job that takes its runner down (it kills the agent that started it) must not crash-loop the
 * fleet: each time, the agent comes back (here the test restarts it, as a service manager would)
 * without the job, the attempt counts, and after max_attempts the job is dead — while the agent,
 * once the job is gone, runs other work.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { tempWorkDir } from '../agent/helpers.js';

let server: TestServer;
let workDir: string;
let cleanup: () => Promise<void>;
/** Every agent process the supervisor started. */
const agents: ManagedProcess[] = [];
let supervising = true;
let supervisor: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = await startTestServer({ leaseTtlMs: 2_000, heartbeatIntervalMs: 300, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50, reconnectGraceMs: 500 });
  ({ dir: workDir, cleanup } = await tempWorkDir());
});
afterAll(async () => {
  supervising = false;
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await supervisor;
  await Promise.all(agents.map((a) => a.kill('SIGKILL'))); // one started while the others died
  await server.stop();
  await cleanup();
});

/** Keeps one agent running, restarting it whenever it dies, as a service manager would. */
function supervise(): void {
  supervisor = (async () => {
    while (supervising) {
      const agent = await spawnAgent({ coordinator: server.grpcUrl.replace('http://', ''), id: 'victim', workDir: join(workDir, 'agent') });
      agents.push(agent);
      if (!supervising) break;
      await agent.exited;
    }
  })();
}

it('a job that kills its agent uses up its attempts and ends dead; the agent then runs other work', async () => {
  const jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  supervise();
  // The job's parent is the agent process: kill -9 it, as an out-of-memory kill of the runner would.
  const { job } = await jobs.submitJob({ productId: 'p', command: ['sh', '-c', 'kill -9 $PPID; sleep 30'], maxAttempts: 2 });
  for await (const res of jobs.watchJobs({ jobId: job!.id })) if (res.event!.toStage === JobStage.DEAD) break;
  const dead = (await jobs.getJob({ jobId: job!.id })).job!;
  expect(dead.attemptCount).toBe(2);
  expect(agents.length).toBeGreaterThanOrEqual(2); // it took the agent down, and the agent came back
  const { job: next } = await jobs.submitJob({ productId: 'p', command: ['true'] });
  for await (const res of jobs.watchJobs({ jobId: next!.id })) if (res.event!.toStage === JobStage.SUCCEEDED) break;
}, 120_000);

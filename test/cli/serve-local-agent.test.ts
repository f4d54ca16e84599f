/**
 * `gigafactory serve --local-agent --insecure-dev` as `npm start` runs it: a relative data dir, so
 * the agent's work dir is relative to the coordinator's cwd. A job runs in its own workspace (and
 * may change directory further), so the cost file it is told about must be an absolute path. The
 * start log ends by saying where the UI and the gRPC listener are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { jobClient } from '../../src/cli/client.js';
import { spawnCoordinator, type CoordinatorProcess } from '../support/processes.js';
import { waitForStage } from '../support/jobs.js';

const cwd = mkdtempSync(join(tmpdir(), 'gigafactory-npm-start-'));
let coordinator: CoordinatorProcess;
beforeAll(async () => {
  coordinator = await spawnCoordinator({ dataDir: '.gigafactory', cwd, args: ['--local-agent'] });
  await coordinator.waitFor((l) => l.msg === 'connected');
});
afterAll(async () => {
  await coordinator?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

it('ends the start log with one line naming the web control plane and the gRPC address', async () => {
  const ready = await coordinator.waitFor((l) => l.msg.startsWith('ready: '));
  expect(ready).toMatchObject({ ui: `http://${coordinator.httpAddress}/`, grpc: coordinator.grpcAddress, msg: `ready: web control plane at http://${coordinator.httpAddress}/, gRPC at ${coordinator.grpcAddress}` });
  expect(coordinator.lines.indexOf(ready)).toBeGreaterThan(coordinator.lines.findLastIndex((l) => l.msg === 'listening'));
});

it('charges the cost a job writes to $GIGAFACTORY_COST_FILE from another directory', async () => {
  const jobs = jobClient(coordinator.grpcAddress);
  const { job } = await jobs.submitJob({ productId: 'cost', command: ['sh', '-c', 'cd / && echo 0.5 > "$GIGAFACTORY_COST_FILE"'], maxAttempts: 1 });
  await waitForStage(jobs, job!.id, JobStage.SUCCEEDED, JobStage.FAILED);
  const { job: done } = await jobs.getJob({ jobId: job!.id });
  expect({ stage: JobStage[done!.stage], cost: done!.cost }).toEqual({ stage: 'SUCCEEDED', cost: 0.5 });
});

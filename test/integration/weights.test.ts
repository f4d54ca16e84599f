/**
 * Placement decisions and outcomes captured from a real coordinator with real agents: every attempt
 * is recorded with the signals of the chosen factory and its runners-up, its wait and its outcome;
 * an A/B experiment puts about its fraction of jobs in the candidate arm (by job id) and reports the
 * arms; WeightsService refuses bad input and thin data with messages that say what was wrong.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { WeightsService } from '../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import { armOf } from '../../src/domain/weights-experiment.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
let weights: Client<typeof WeightsService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-weights-'));
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  jobs = createClient(JobService, transport);
  weights = createClient(WeightsService, transport);
  agents.push(await spawnAgent({ coordinator: server.grpc.address, id: 'cheap', slots: 2, workDir: join(root, 'cheap'), labels: ['cost=low'] }));
  agents.push(await spawnAgent({ coordinator: server.grpc.address, id: 'plain', slots: 2, workDir: join(root, 'plain') }));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function runJobs(productId: string, commands: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const command of commands) {
    const { job } = await jobs.submitJob({ productId, command: ['sh', '-c', command], maxAttempts: 1 });
    ids.push(job!.id);
  }
  await Promise.all(ids.map((id) => waitForStage(jobs, id, JobStage.SUCCEEDED, JobStage.FAILED)));
  return ids;
}

async function recorded(productId: string) {
  await server.coordinator.fleet.decisions.flush();
  // An outcome is recorded from the job's final change, which the waiter may see just before the log does.
  return server.coordinator.fleet.decisions.store.listDecisions(productId, 1_000);
}

describe('capture', () => {
  it('records every placement with its signals, runners-up and wait, and each attempt outcome', async () => {
    const ids = await runJobs('capture', ['exit 0', 'exit 3', 'exit 0']);
    await expect.poll(async () => (await recorded('capture')).filter((d) => d.outcome !== null).length, { timeout: 10_000 }).toBe(3);
    const decisions = await recorded('capture');
    expect(decisions.map((d) => d.jobId).sort()).toEqual([...ids].sort());
    for (const d of decisions) {
      const job = (await jobs.getJob({ jobId: d.jobId })).job!;
      expect(d.epoch).toBe(Number(job.epoch));
      expect(d.chosen.factoryId).toBe(job.attempts[0]!.factoryId);
      expect(d.arm).toBe('control');
      expect(d.weights.costClass).toBe(3);
      expect(d.waitMs).toBeGreaterThanOrEqual(0);
      // Two factories with a free slot: the other one is the runner-up (when it still had a slot).
      expect(d.rejected.every((r) => r.factoryId !== d.chosen.factoryId)).toBe(true);
      expect(d.chosen.signals.costClass).toBe(d.chosen.factoryId === 'cheap' ? 1 : 0);
      expect(d.outcome!.result).toBe(job.stage === JobStage.SUCCEEDED ? 'succeeded' : 'failed');
      expect(d.outcome!.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses to evaluate on too few placements, saying how many there are and are needed', async () => {
    const err = await weights.evaluateWeights({ productId: 'capture', weights: { costClass: 0 } }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toMatch(/at least 30 placements with an outcome; there are 3/);
    const rec = await weights.recommendWeights({ productId: 'capture' }).catch((e: unknown) => ConnectError.from(e));
    expect((rec as ConnectError).rawMessage).toMatch(/at least 200 placements with an outcome; there are 3 \(197 more\)/);
  });
});

describe('A/B experiment', () => {
  it('places about its fraction of jobs with the candidate weights, by job id, and compares the arms', async () => {
    const started = await weights.startWeightsExperiment({ productId: 'ab', weights: { costClass: 0, load: 10 }, fraction: 0.5 });
    expect(started.experiment!.fraction).toBe(0.5);
    const ids = await runJobs('ab', Array.from({ length: 12 }, () => 'exit 0'));
    await expect.poll(async () => (await recorded('ab')).filter((d) => d.outcome !== null).length, { timeout: 10_000 }).toBe(12);
    const experiment = { weights: {}, fraction: 0.5, startedAt: 0 };
    for (const d of await recorded('ab')) {
      expect(d.arm).toBe(armOf(d.jobId, experiment));
      expect(d.weights.costClass).toBe(d.arm === 'candidate' ? 0 : 3);
    }
    const { comparison } = await weights.getWeightsExperiment({ productId: 'ab' });
    const candidates = ids.filter((id) => armOf(id, experiment) === 'candidate').length;
    expect(comparison!.candidate!.placements).toBe(candidates);
    expect(comparison!.control!.placements).toBe(12 - candidates);
    if (candidates > 0 && candidates < 12) expect(comparison!.successRate!.mean).toBe(0); // every job succeeded in both arms

    await weights.stopWeightsExperiment({ productId: 'ab' });
    expect((await weights.getWeightsExperiment({ productId: 'ab' })).experiment).toBeUndefined();
  });

  it('refuses a bad experiment naming what was wrong, and stores nothing', async () => {
    const refused = async (req: Parameters<typeof weights.startWeightsExperiment>[0]): Promise<ConnectError> =>
      (await weights.startWeightsExperiment(req).catch((e: unknown) => ConnectError.from(e))) as ConnectError;
    expect((await refused({ productId: 'bad', weights: { load: 1 }, fraction: 0 })).rawMessage).toContain('fraction 0 must be more than 0 and at most 1');
    expect((await refused({ productId: 'bad', weights: { load: 1 }, fraction: 1.5 })).rawMessage).toContain('fraction 1.5');
    expect((await refused({ productId: 'bad', fraction: 0.1 })).rawMessage).toContain('name at least one scoring weight');
    const negative = await refused({ productId: 'bad', weights: { load: -1 }, fraction: 0.1 });
    expect(negative.code).toBe(Code.InvalidArgument);
    expect(negative.rawMessage).toContain('weights.load -1 must be from 0 to 1000');
    expect((await refused({ productId: '', weights: { load: 1 }, fraction: 0.1 })).code).toBe(Code.InvalidArgument);
    expect((await weights.getWeightsExperiment({ productId: 'bad' })).experiment).toBeUndefined();
    const stop = await weights.stopWeightsExperiment({ productId: 'bad' }).catch((e: unknown) => ConnectError.from(e));
    expect((stop as ConnectError).code).toBe(Code.FailedPrecondition);
    const objective = await weights.recommendWeights({ productId: 'bad', objective: 'speed' }).catch((e: unknown) => ConnectError.from(e));
    expect((objective as ConnectError).rawMessage).toContain('objective "speed" is not one of success, turnaround, cost');
  });
});

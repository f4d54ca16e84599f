/**
 * DAG inputs over a real coordinator on SQLite and a real agent process: a job names artifacts of
 * its dependencies (by job id, idempotency key, or an AddChildren sibling's key) and gets them
 * resolved to job ids on the job and in its offer; bad inputs are refused with INVALID_ARGUMENT
 * naming the input and field, storing nothing; an input the agent cannot fetch fails the attempt
 * with a reason naming it, and the command does not run; an upstream artifact lands at the input's
 * path before the downstream command starts.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { readLogs, waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let jobs: Client<typeof JobService>;
const root = mkdtempSync(join(tmpdir(), 'gigafactory-dag-inputs-'));
let agent: ManagedProcess;

beforeAll(async () => {
  server = await startTestServer({ heartbeatIntervalMs: 300, reaperIntervalMs: 100, retryBaseMs: 10, retryMaxMs: 50 });
  jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  agent = await spawnAgent({ coordinator: server.grpc.address, id: 'inputs-1', slots: 2, workDir: join(root, 'agent') });
});
afterAll(async () => {
  await agent.kill('SIGKILL');
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => null,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err, 'the call was accepted').not.toBeNull();
  expect(err!.code).toBe(Code.InvalidArgument);
  return err!;
}

describe('submitting inputs', () => {
  it('resolves a dependency named by idempotency key to its job id, and keeps a job id', async () => {
    const build = (await jobs.submitJob({ productId: 'inputs', command: ['sleep', '30'], idempotencyKey: 'build-1' })).job!;
    const lint = (await jobs.submitJob({ productId: 'inputs', command: ['sleep', '30'] })).job!;
    const { job } = await jobs.submitJob({
      productId: 'inputs',
      command: ['true'],
      dependsOn: [build.id, lint.id],
      inputs: [
        { from: 'build-1', name: 'dist/app.tar' },
        { from: lint.id, name: 'report.txt', path: 'in/lint.txt' },
      ],
    });
    expect(job!.inputs.map(({ from, name, path }) => ({ from, name, path }))).toEqual([
      { from: build.id, name: 'dist/app.tar', path: 'dist/app.tar' },
      { from: lint.id, name: 'report.txt', path: 'in/lint.txt' },
    ]);
    const again = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(again.inputs.map((i) => i.from)).toEqual([build.id, lint.id]);
    await Promise.all([build, lint, job!].map((j) => jobs.cancelJob({ jobId: j.id })));
  });

  it('resolves a sibling key in AddChildren', async () => {
    const parent = (await jobs.submitJob({ productId: 'inputs', command: ['sleep', '30'] })).job!;
    const { children } = await jobs.addChildren({
      parentId: parent.id,
      children: [
        { productId: 'inputs', command: ['sleep', '30'], idempotencyKey: 'compile' },
        { productId: 'inputs', command: ['true'], idempotencyKey: 'test', dependsOnKeys: ['compile'], inputs: [{ from: 'compile', name: 'bin/app' }] },
      ],
    });
    expect(children[1]!.inputs[0]!.from).toBe(children[0]!.id);
    await jobs.cancelJob({ jobId: parent.id });
    await Promise.all(children.map((c) => jobs.cancelJob({ jobId: c.id })));
  });

  it.each([
    ['a job that is not a dependency', { inputs: [{ from: 'job_nope', name: 'a' }] }, 'inputs[0].from "job_nope" is not one of this job\'s dependencies'],
    ['a ".." name', { inputs: [{ from: 'x', name: '../../etc/passwd' }] }, 'inputs[0].name: name "../../etc/passwd" must be a relative path'],
    ['an absolute path', { inputs: [{ from: 'x', name: 'a', path: '/tmp/a' }] }, 'inputs[0].path: name "/tmp/a" must be a relative path'],
    ['a control character', { inputs: [{ from: 'x', name: 'a\u0007b' }] }, 'inputs[0].name: name "a\\u0007b" has a control character'],
    ['two inputs on one path', { inputs: [{ from: 'x', name: 'a' }, { from: 'x', name: 'b', path: 'a' }] }, 'inputs[1].path "a" is also the path of inputs[0]'],
  ])('refuses %s with INVALID_ARGUMENT naming it, storing nothing', async (_, fields, message) => {
    const key = `bad-${Math.random()}`;
    const err = await refusal(jobs.submitJob({ productId: 'inputs', command: ['true'], idempotencyKey: key, ...fields }));
    expect(err.rawMessage).toContain(message);
    const listed = await jobs.listJobs({ productId: 'inputs', pageSize: 500 });
    expect(listed.jobs.some((j) => j.idempotencyKey === key)).toBe(false);
  });

  it('refuses inputs in SubmitJobs and AddChildren naming the item', async () => {
    const err = await refusal(jobs.submitJobs({ jobs: [{ productId: 'inputs', command: ['true'] }, { productId: 'inputs', command: ['true'], inputs: [{ from: 'k', name: 'a' }] }] }));
    expect(err.rawMessage).toContain('jobs[1].inputs[0].from "k" is not one of this job\'s dependencies');
    const parent = (await jobs.submitJob({ productId: 'inputs', command: ['sleep', '30'] })).job!;
    const child = await refusal(jobs.addChildren({ parentId: parent.id, children: [{ productId: 'inputs', command: ['true'], inputs: [{ from: 'nope', name: 'a' }] }] }));
    expect(child.rawMessage).toContain('children[0].inputs[0].from "nope" is not one of this job\'s dependencies: name a job in depends_on (by id or idempotency key) or a sibling in depends_on_keys');
    await jobs.cancelJob({ jobId: parent.id });
  });
});

describe('fetching inputs', () => {
  it("puts the upstream job's artifact at the input's path before the downstream command starts", async () => {
    const upstream = (
      await jobs.submitJob({ productId: 'inputs', idempotencyKey: `up-${Date.now()}`, command: ['sh', '-c', 'mkdir -p "$GIGAFACTORY_ARTIFACTS_DIR/dist" && printf "built by upstream" > "$GIGAFACTORY_ARTIFACTS_DIR/dist/app.txt"'] })
    ).job!;
    const downstream = (
      await jobs.submitJob({
        productId: 'inputs',
        command: ['sh', '-c', 'cat in/app.txt'],
        dependsOn: [upstream.id],
        inputs: [{ from: upstream.idempotencyKey, name: 'dist/app.txt', path: 'in/app.txt' }],
      })
    ).job!;
    await waitForStage(jobs, downstream.id, JobStage.SUCCEEDED, JobStage.FAILED, JobStage.DEAD);
    expect((await jobs.getJob({ jobId: downstream.id })).job!.stage).toBe(JobStage.SUCCEEDED);
    expect(await readLogs(jobs, downstream.id)).toBe('built by upstream');
  });

  it('fails the attempt, naming the input, when the dependency has no such artifact; the command never runs', async () => {
    const upstream = (await jobs.submitJob({ productId: 'inputs', command: ['true'] })).job!;
    const marker = join(root, 'downstream-ran');
    const downstream = (
      await jobs.submitJob({ productId: 'inputs', command: ['touch', marker], maxAttempts: 1, dependsOn: [upstream.id], inputs: [{ from: upstream.id, name: 'missing.txt' }] })
    ).job!;
    await waitForStage(jobs, downstream.id, JobStage.FAILED, JobStage.DEAD);
    const ended = (await jobs.getJob({ jobId: downstream.id })).job!;
    expect(ended.attempts.at(-1)!.message).toContain(`could not prepare the job: input 0 ("missing.txt" of job ${upstream.id}) could not be fetched`);
    expect(existsSync(marker)).toBe(false);
  });
});

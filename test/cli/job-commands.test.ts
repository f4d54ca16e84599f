/**
 * The job commands through the real CLI process against a real coordinator and a real agent
 * process: `submit --wait` exits with the job's status (its exit code; 80 when cancelled), prints
 * the job's link and its stage changes; `logs` puts a header before each attempt and `logs -f`
 * exits non-zero for a failed job; usage errors are one line and a hint, exit 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { jobClient } from '../../src/cli/client.js';
import { JOB_EXIT, jobExitStatus } from '../../src/cli/job-exit.js';
import { cli } from '../support/cli.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let agent: ManagedProcess;
let workDir: string;
beforeAll(async () => {
  server = await startTestServer({ retryBaseMs: 10, retryMaxMs: 50 });
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-cli-jobs-'));
  agent = await spawnAgent({ coordinator: server.grpc.address, id: 'cli-test', workDir, slots: 2 });
});
afterAll(async () => {
  await agent?.kill('SIGKILL');
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const run = (args: string[], onStdout?: (text: string) => void) => cli(['--coordinator', server.grpc.address, ...args], {}, onStdout);
const submittedId = (stdout: string): string => /^submitted (\S+)$/m.exec(stdout)![1]!;

describe('submit --wait', () => {
  it("exits with the job's exit code, saying how it went, and prints the job's link", async () => {
    const failed = await run(['submit', '--wait', '--max-attempts', '1', '--', 'sh', '-c', 'exit 3']);
    const id = submittedId(failed.stdout);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toBe(`submitted ${id}\nhttp://127.0.0.1:8080/jobs/${id}\n`);
    expect(failed.stderr).toMatch(new RegExp(`^${id}: running on cli-test$`, 'm'));
    expect(failed.stderr).toMatch(new RegExp(`^${id}: failed`, 'm'));

    const ok = await run(['--ui-url', 'https://factory.example/', 'submit', '--wait', '--', 'true']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`submitted ${submittedId(ok.stdout)}\nhttps://factory.example/jobs/${submittedId(ok.stdout)}\n`);
    expect(ok.stderr).toMatch(/: succeeded/m);
  });

  it('exits 80 for a job cancelled while it waits', async () => {
    let cancelled = false;
    const res = await run(['submit', '--wait', '--', 'sleep', '30'], (stdout) => {
      const m = /^submitted (\S+)$/m.exec(stdout);
      if (!m || cancelled) return;
      cancelled = true;
      void jobClient(server.grpc.address).cancelJob({ jobId: m[1]!, reason: 'test' });
    });
    expect(res.code).toBe(JOB_EXIT.cancelled);
    expect(res.stderr).toMatch(/: cancelled/m);
  });

  it('with --json prints the job as it ended', async () => {
    const res = await run(['--json', 'submit', '--wait', '--', 'true']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ stage: 'JOB_STAGE_SUCCEEDED', exitCode: 0 });
  });
});

describe('logs', () => {
  it('puts a header line before each attempt, and logs -f exits with the status of a failed job', async () => {
    const jobs = jobClient(server.grpc.address);
    // The first attempt leaves a marker beside its workspace and fails; the second finds it and succeeds.
    const script = 'if [ -f ../retry-marker ]; then echo second; else touch ../retry-marker; printf first; exit 1; fi';
    const { job } = await jobs.submitJob({ productId: 'cli', command: ['sh', '-c', script], maxAttempts: 2 });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED, JobStage.FAILED, JobStage.DEAD);
    const { job: done } = await jobs.getJob({ jobId: job!.id });
    const [first, second] = done!.attempts.map((a) => a.epoch);
    expect(done!.stage).toBe(JobStage.SUCCEEDED);

    const text = await run(['logs', job!.id]);
    expect(text).toEqual({ code: 0, stderr: '', stdout: `── attempt · epoch ${first} ──\nfirst\n── attempt · epoch ${second} ──\nsecond\n` });
    expect((await run(['logs', '--raw', job!.id])).stdout).toBe('firstsecond\n');

    const { job: failing } = await jobs.submitJob({ productId: 'cli', command: ['sh', '-c', 'echo bad; exit 7'], maxAttempts: 1 });
    const followed = await run(['logs', '-f', failing!.id]);
    expect(followed.code).toBe(7);
    expect(followed.stdout).toMatch(/^── attempt · epoch \d+ ──\nbad\n$/);
  });
});

describe('usage errors', () => {
  it.each([
    [['submit'], "error: missing required argument 'command'", 'gigafactory submit'],
    [['jobs', '--limit', 'x'], 'error: option \'--limit <n>\' argument \'x\' is invalid. --limit must be an integer, got "x"', 'gigafactory jobs'],
    [['jobs', '--stage', 'nope'], 'error: --stage "nope" is not a job stage', 'gigafactory jobs'],
    [['submit', '--env', 'oops', '--', 'true'], 'error: option \'--env <K=V>\' argument \'oops\' is invalid. --env "oops" must look like NAME=value', 'gigafactory submit'],
    [['nonsense'], "error: unknown command 'nonsense'", 'gigafactory'],
  ])('%j prints one line and the hint, exit 2', async (args, message, command) => {
    const res = await run(args);
    expect(res).toEqual({ code: JOB_EXIT.usage, stdout: '', stderr: `${message}\nRun '${command} --help' for usage.\n` });
  });
});

describe('job exit statuses', () => {
  it("maps each ending to a status; a failed job's code keeps saying failure in 8 bits", () => {
    expect(jobExitStatus('succeeded', 0)).toBe(0);
    expect(jobExitStatus('awaiting_review', 0)).toBe(0);
    expect(jobExitStatus('shipped', 0)).toBe(0);
    expect(jobExitStatus('failed', 3)).toBe(3);
    expect(jobExitStatus('failed', 256)).toBe(JOB_EXIT.failedWithoutCode);
    expect(jobExitStatus('failed', -1)).toBe(255);
    expect(jobExitStatus('failed', undefined)).toBe(JOB_EXIT.failedWithoutCode);
    expect([jobExitStatus('cancelled', undefined), jobExitStatus('dead', undefined), jobExitStatus('rejected', 0)]).toEqual([JOB_EXIT.cancelled, JOB_EXIT.dead, JOB_EXIT.rejected]);
  });
});

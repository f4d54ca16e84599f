import { statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { LeaseOfferSchema } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { JobSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { jobWorkspace, runSpecFromOffer, startJob, type JobRunSpec } from '../../agent/job-process.js';
import { firstLines, isRunning, readAll, tempWorkDir } from './helpers.js';

describe('job process', () => {
  let workDir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: workDir, cleanup } = await tempWorkDir()));
  afterEach(() => cleanup());

  const spec = (command: string[], more: Partial<JobRunSpec> = {}): JobRunSpec => ({
    jobId: 'job-1',
    epoch: 7n,
    command,
    env: {},
    timeoutMs: 0,
    ...more,
  });

  it('spawns nothing when its start is aborted (a lease revoked while the workspace was made)', async () => {
    const job = await startJob(spec(['sh', '-c', 'echo should not run']), { workDir, factoryId: 'f-1', signal: AbortSignal.abort(new Error('lease revoked')) });
    expect(job.pid).toBeUndefined();
    expect(await job.done).toEqual({ outcome: 'cancelled', exitCode: null, message: 'not started: lease revoked' });
    expect(await readAll(job.stdout)).toBe('');
  });

  it('reports succeeded with exit code 0 and hands over the output', async () => {
    const job = await startJob(spec(['sh', '-c', 'echo hello; echo oops >&2']), { workDir, factoryId: 'f-1' });
    const [out, err, report] = await Promise.all([readAll(job.stdout), readAll(job.stderr), job.done]);
    expect(report).toEqual({ outcome: 'succeeded', exitCode: 0, message: 'exited with code 0' });
    expect(out).toBe('hello\n');
    expect(err).toBe('oops\n');
  });

  it('reports the cost the job wrote to GIGAFACTORY_COST_FILE, and says why it ignored a bad one', async () => {
    const paid = await startJob(spec(['sh', '-c', 'printf " 0.75\\n" > "$GIGAFACTORY_COST_FILE"']), { workDir, factoryId: 'f-1' });
    expect(await paid.done).toEqual({ outcome: 'succeeded', exitCode: 0, message: 'exited with code 0', cost: 0.75 });
    const bad = await startJob(spec(['sh', '-c', 'echo -3 > "$GIGAFACTORY_COST_FILE"; exit 2'], { epoch: 8n }), { workDir, factoryId: 'f-1' });
    expect(await bad.done).toEqual({ outcome: 'failed', exitCode: 2, message: 'exited with code 2 (cost file ignored: "-3" is not a number >= 0)' });
    const summed = await startJob(spec(['sh', '-c', 'for c in 0.25 0.5 1.25; do echo $c >> "$GIGAFACTORY_COST_FILE"; done'], { epoch: 11n }), { workDir, factoryId: 'f-1' });
    expect((await summed.done).cost).toBe(2); // appended increments add up
    const junk = await startJob(spec(['sh', '-c', 'echo lots > "$GIGAFACTORY_COST_FILE"'], { epoch: 9n }), { workDir, factoryId: 'f-1' });
    expect((await junk.done).message).toBe('exited with code 0 (cost file ignored: "lots" is not a number >= 0)');
    const none = await startJob(spec(['sh', '-c', 'test -n "$GIGAFACTORY_COST_FILE"'], { epoch: 10n }), { workDir, factoryId: 'f-1' });
    expect(await none.done).toEqual({ outcome: 'succeeded', exitCode: 0, message: 'exited with code 0' });
  });

  it('reports failed with the exit code of a non-zero exit', async () => {
    const job = await startJob(spec(['sh', '-c', 'exit 3']), { workDir, factoryId: 'f-1' });
    expect(await job.done).toEqual({ outcome: 'failed', exitCode: 3, message: 'exited with code 3' });
  });

  it('reports a command that cannot start as failed, with a clear message, without throwing', async () => {
    const job = await startJob(spec(['gigafactory-no-such-command']), { workDir, factoryId: 'f-1' });
    const report = await job.done;
    expect(report.outcome).toBe('failed');
    expect(report.exitCode).toBeNull();
    expect(report.message).toBe('cannot start "gigafactory-no-such-command": command not found (ENOENT)');
    expect(job.pid).toBeUndefined();
    // The output still ends, so a log batcher attached to it finishes.
    expect(await readAll(job.stdout)).toBe('');
    expect(await job.stop(0, 'too late')).toBe(report);
  });

  it('reports an empty command as failed', async () => {
    const job = await startJob(spec([]), { workDir, factoryId: 'f-1' });
    expect(await job.done).toEqual({ outcome: 'failed', exitCode: null, message: 'job has no command' });
    expect(await readAll(job.stdout)).toBe('');
  });

  it('runs in its own workspace with the job env and the GIGAFACTORY_ variables, which the job cannot override', async () => {
    const job = await startJob(
      spec(['sh', '-c', 'echo "$GIGAFACTORY_JOB_ID $GIGAFACTORY_EPOCH $FOO"; pwd'], {
        env: { FOO: 'bar', GIGAFACTORY_JOB_ID: 'spoofed' },
      }),
      { workDir, factoryId: 'f-1' },
    );
    const [out, report] = await Promise.all([readAll(job.stdout), job.done]);
    expect(report.outcome).toBe('succeeded');
    expect(job.workspace).toBe(jobWorkspace(workDir, 'job-1', 7n));
    expect(out.split('\n')).toEqual(['job-1 7 bar', await realpath(job.workspace), '']);
  });

  it("sees only the allow-list, --pass-env names and its own variables of the agent's environment", async () => {
    process.env.GIGAFACTORY_TEST_AGENT_SECRET = 'agent-secret';
    process.env.GIGAFACTORY_TEST_PASSED = 'passed-through';
    process.env.GIGAFACTORY_FACTORY_TOKEN = 'gff_not_for_jobs';
    try {
      const job = await startJob(spec(['env'], { env: { FOO: 'bar' } }), { workDir, factoryId: 'f-1', passEnv: ['GIGAFACTORY_TEST_PASSED', 'GIGAFACTORY_TEST_UNSET'] });
      const [out, report] = await Promise.all([readAll(job.stdout), job.done]);
      expect(report.outcome).toBe('succeeded');
      const env = Object.fromEntries(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      // `env` itself may add nothing; sh is not involved. PWD is absent too: no shell set it.
      expect(Object.keys(env).sort()).toEqual(
        ['FOO', 'GIGAFACTORY_ARTIFACTS_DIR', 'GIGAFACTORY_CHECKPOINT_DIR', 'GIGAFACTORY_COST_FILE', 'GIGAFACTORY_COST_NOTICE_FILE', 'GIGAFACTORY_EPOCH', 'GIGAFACTORY_FACTORY_ID', 'GIGAFACTORY_JOB_ID', 'GIGAFACTORY_LEASE_TOKEN', 'GIGAFACTORY_TEST_PASSED', 'GIGAFACTORY_WORK_DIR', ...['HOME', 'LANG', 'PATH'].filter((n) => process.env[n] !== undefined)].sort(),
      );
      expect(env).toMatchObject({ FOO: 'bar', GIGAFACTORY_TEST_PASSED: 'passed-through', GIGAFACTORY_FACTORY_ID: 'f-1', GIGAFACTORY_WORK_DIR: job.workspace, GIGAFACTORY_CHECKPOINT_DIR: join(job.workspace, '.gigafactory-checkpoint'), GIGAFACTORY_ARTIFACTS_DIR: join(job.workspace, '.gigafactory-artifacts'), GIGAFACTORY_JOB_ID: 'job-1', GIGAFACTORY_EPOCH: '7' });
    } finally {
      delete process.env.GIGAFACTORY_TEST_AGENT_SECRET;
      delete process.env.GIGAFACTORY_TEST_PASSED;
      delete process.env.GIGAFACTORY_FACTORY_TOKEN;
    }
  });

  it('makes the workspace and the jobs dir above it readable by the agent user only', async () => {
    const job = await startJob(spec(['true']), { workDir, factoryId: 'f-1' });
    await job.done;
    expect(statSync(job.workspace).mode & 0o777).toBe(0o700);
    expect(statSync(join(workDir, 'jobs')).mode & 0o777).toBe(0o700);
  });

  it('keeps a job id with path characters inside the work dir', () => {
    expect(jobWorkspace('/w', '../../etc/x', 2n)).toBe('/w/jobs/.._.._etc_x-2');
  });

  it('kills a job that runs past its timeout and reports timed_out', async () => {
    const job = await startJob(spec(['sleep', '1000'], { timeoutMs: 100 }), { workDir, factoryId: 'f-1' });
    expect(await job.done).toEqual({
      outcome: 'timed_out',
      exitCode: null,
      message: 'timed out after 100 ms (killed by SIGTERM)',
    });
  });

  it('stop() kills the whole process group, grandchildren included', async () => {
    const job = await startJob(spec(['sh', '-c', 'sleep 1000 & echo $!; sleep 1000 & echo $!; wait']), { workDir, factoryId: 'f-1' });
    const grandchildren = (await firstLines(job.stdout, 2)).map(Number);
    expect(grandchildren.every(isRunning)).toBe(true);

    const report = await job.stop(5_000, 'operator said so');
    expect(report).toEqual({ outcome: 'cancelled', exitCode: null, message: 'cancelled: operator said so (killed by SIGTERM)' });
    await vi.waitFor(() => expect(grandchildren.filter(isRunning)).toEqual([]));
  });

  it('stop() escalates to SIGKILL after the grace when the job ignores SIGTERM', async () => {
    // An ignored signal is inherited, so both the shell and its sleep ignore SIGTERM.
    const job = await startJob(spec(['sh', '-c', 'trap "" TERM; echo ready; sleep 1000']), { workDir, factoryId: 'f-1' });
    await firstLines(job.stdout, 1);
    const report = await job.stop(50, 'now');
    expect(report.outcome).toBe('cancelled');
    expect(report.message).toBe('cancelled: now (killed by SIGKILL)');
  });

  it('kills what a finished job left running, so its output ends', async () => {
    const job = await startJob(spec(['sh', '-c', 'sleep 1000 & echo $!']), { workDir, factoryId: 'f-1' });
    // The background sleep holds stdout open: this only ends because the group is killed on exit.
    const [out, report] = await Promise.all([readAll(job.stdout), job.done]);
    expect(report.outcome).toBe('succeeded');
    await vi.waitFor(() => expect(isRunning(Number(out.trim()))).toBe(false));
  });

  it('reads the run spec from a lease offer', () => {
    const offer = create(LeaseOfferSchema, {
      jobId: 'job-9',
      epoch: 3n,
      job: create(JobSchema, { command: ['make', 'test'], env: { A: '1' }, timeout: durationFromMs(90_000), costCeiling: 5 }),
      leaseToken: 'gfl1.x.y',
    });
    expect(runSpecFromOffer(offer)).toEqual({ jobId: 'job-9', epoch: 3n, command: ['make', 'test'], env: { A: '1' }, timeoutMs: 90_000, leaseToken: 'gfl1.x.y', costCeiling: 5 });
    expect(runSpecFromOffer(create(LeaseOfferSchema, { jobId: 'j', epoch: 1n })).timeoutMs).toBe(0);
  });
});

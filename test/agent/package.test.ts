/**
 * The packaged agent, built for real (`npm run build:agent`'s function): its bundle, copied alone
 * into an empty directory with no node_modules above it, installs a systemd service (under a temp
 * root), and the unit's own command line enrolls with the stored token against a real coordinator,
 * runs a job with logs and a result, and is drained by a service stop (SIGTERM) with a job running
 * and exits 0; the npm tarball installs into a temp prefix without the network and its `bin` runs jobs.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { AGENT_BUNDLE_FILE, AGENT_PACKAGE_NAME, buildAgentPackage, type AgentPackage } from '../../agent/package/build.js';
import { ENROLL_TOKEN_FILE, FACTORY_TOKEN_FILE } from '../../agent/token-files.js';
import { VERSION } from '../../src/version.js';
import { readLogs, waitForStage } from '../support/jobs.js';
import { ManagedProcess } from '../support/processes.js';
import { grpcClient, startSecureServer, type SecureServer } from '../security/helpers.js';

const run = promisify(execFile);
let root: string;
let built: AgentPackage;
let server: SecureServer;
const agents: ManagedProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gigafactory-package-'));
  built = await buildAgentPackage({ outDir: join(root, 'dist') });
  server = await startSecureServer({ heartbeatIntervalMs: 300 });
}, 120_000);
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.kill('SIGKILL')));
});
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Starts a packaged agent program with a plain environment (no NODE_PATH, no tsx). */
function startAgent(program: string[], args: string[], cwd: string): ManagedProcess {
  const child = spawn(program[0]!, [...program.slice(1), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const proc = new ManagedProcess(child);
  agents.push(proc);
  return proc;
}

async function enrollmentToken(factoryId: string): Promise<string> {
  const admin = grpcClient(AdminService, server, server.keys.admin);
  return (await admin.createEnrollmentToken({ factoryId, allowedLabels: [{ key: 'os', values: [] }, { key: 'arch', values: [] }] })).token;
}

function hasNodeModulesAbove(dir: string): boolean {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) return true;
    if (dirname(at) === at) return false;
  }
}

describe('packaged agent', () => {
  it('is one file that, alone in an empty directory, enrolls, runs a job, and drains on SIGTERM', async () => {
    expect(VERSION).toBe((JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
    const alone = join(root, 'alone');
    mkdirSync(alone);
    expect(hasNodeModulesAbove(alone)).toBe(false);
    copyFileSync(built.bundle, join(alone, AGENT_BUNDLE_FILE));
    const program = [process.execPath, join(alone, AGENT_BUNDLE_FILE)];

    expect((await run(program[0]!, [...program.slice(1), '--version'], { cwd: alone })).stdout.trim()).toBe(VERSION);

    // The service, as root would install it, under a temp root; its token goes to a 0600 file.
    const serviceRoot = join(alone, 'root');
    await run(program[0]!, [...program.slice(1), '--coordinator', server.grpc.address, 'install-service', '--platform', 'linux', '--root', serviceRoot, '--id', 'packaged', '--drain-timeout', '30', '--enroll-token', await enrollmentToken('packaged')], { cwd: alone });
    const unit = readFileSync(join(serviceRoot, 'etc/systemd/system/gigafactory-agent.service'), 'utf8');
    const workDir = join(serviceRoot, 'var/lib/gigafactory-agent');
    expect(statSync(join(workDir, ENROLL_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    // Run what systemd would (ExecStart), with the work dir under the temp root.
    const execStart = unit.match(/^ExecStart=(.*)$/m)![1]!.split(' ').map((word) => (word === '/var/lib/gigafactory-agent' ? workDir : word));
    expect(execStart.slice(0, 2)).toEqual(program);
    const agent = startAgent(execStart, [], alone);
    await agent.waitFor((l) => l.msg === 'enrolled; factory token stored');
    expect(existsSync(join(workDir, ENROLL_TOKEN_FILE))).toBe(false);
    expect(statSync(join(workDir, FACTORY_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    await agent.waitFor((l) => l.msg === 'connected');
    const jobs = grpcClient(JobService, server, server.keys.operator);
    const { job } = await jobs.submitJob({ productId: 'pkg', command: ['sh', '-c', 'echo out; echo err >&2'] });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    const done = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(done.attempts.map((a) => [a.factoryId, a.outcome, a.exitCode])).toEqual([['packaged', AttemptOutcome.SUCCEEDED, 0]]);
    expect(await readLogs(jobs, job!.id)).toBe('out\nerr\n');
    const factories = await grpcClient(AdminService, server, server.keys.viewer).listFactories({});
    expect(factories.factories.find((f) => f.id === 'packaged')?.agentVersion).toBe(VERSION);

    // A service stop (systemctl stop, launchctl bootout, an image roll) is a SIGTERM: the job finishes.
    const { job: running } = await jobs.submitJob({ productId: 'pkg', command: ['sh', '-c', 'sleep 1; echo finished'] });
    await waitForStage(jobs, running!.id, JobStage.RUNNING);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect((await jobs.getJob({ jobId: running!.id })).job!.stage).toBe(JobStage.SUCCEEDED);
    expect(await readLogs(jobs, running!.id)).toBe('finished\n');
    expect(agent.lines.some((l) => l.msg === 'drained by the coordinator; stopping')).toBe(true);
  });

  it('installs from its npm tarball into a temp prefix, offline, and the installed bin runs jobs', async () => {
    const prefix = join(root, 'prefix');
    await run('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, built.tarball], { cwd: root });
    const bin = join(prefix, 'bin', AGENT_PACKAGE_NAME);
    expect((await run(bin, ['--version'], { cwd: root })).stdout.trim()).toBe(VERSION);
    expect(existsSync(join(prefix, 'lib', 'node_modules', AGENT_PACKAGE_NAME, 'node_modules'))).toBe(false);

    const work = join(root, 'installed-work');
    mkdirSync(work);
    const agent = startAgent([bin], ['--coordinator', server.grpc.address, 'run', '--id', 'installed', '--work-dir', work, '--enroll-token', await enrollmentToken('installed')], work);
    await agent.waitFor((l) => l.msg === 'connected');
    const jobs = grpcClient(JobService, server, server.keys.operator);
    const { job } = await jobs.submitJob({ productId: 'pkg', command: ['echo', 'installed'], requiredLabels: [] });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    expect((await jobs.getJob({ jobId: job!.id })).job!.attempts.map((a) => a.factoryId)).toEqual(['installed']);
  });
});

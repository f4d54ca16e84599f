/**
 * The commands people run: `serve` secure by default (with its local agent and a bootstrapped admin
 * key), the loopback-only development mode `npm start` uses, an agent that enrolls once and then
 * reconnects with its stored token, and the CLI's --key and --tls-* options.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { FACTORY_TOKEN_FILE } from '../../agent/token-files.js';
import { readLogs, waitForStage } from '../support/jobs.js';
import { lookUpUser } from '../../agent/run-as.js';
import { spawnAgent, spawnCoordinator, type ManagedProcess } from '../support/processes.js';
import type { TestServer } from '../support/server.js';
import { makeTestCerts } from './certs.js';
import { enrolledFactory, grpcClient, startSecureServer } from './helpers.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');
const root = mkdtempSync(join(tmpdir(), 'gigafactory-security-cli-'));
chmodSync(root, 0o755); // a job running as another account must pass through to its workspace
const isRoot = process.getuid?.() === 0;
const processes: ManagedProcess[] = [];
const servers: TestServer[] = [];

function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, GIGAFACTORY_API_KEY: '' } });
}

/** A stand-in TestServer for a spawned coordinator, so the shared client helpers reach it. */
function addressOf(grpcAddress: string): TestServer {
  return { grpcUrl: `http://${grpcAddress}` } as TestServer;
}

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('serve', () => {
  it.skipIf(!isRoot)('is secure by default: calls need a key; `keys bootstrap` makes the first; the local agent runs jobs as another account', async () => {
    const dataDir = join(root, 'secure');
    const coordinator = await spawnCoordinator({ dataDir, secure: true, args: ['--local-agent', '--local-agent-user', 'nobody'], env: { GIGAFACTORY_TEST_COORDINATOR_SECRET: 'do-not-leak' } });
    processes.push(coordinator);
    await coordinator.waitFor((l) => l.msg === 'connected' && l.component === 'local-agent');
    expect(coordinator.lines.some((l) => l.insecureDev === true)).toBe(false);

    const anonymous = await cli(['--coordinator', coordinator.grpcAddress, 'jobs']).catch((err: { code: number; stderr: string }) => err);
    expect(anonymous).toMatchObject({ code: 1, stderr: expect.stringContaining('needs a credential') });

    const { stdout } = await cli(['--json', 'keys', 'bootstrap', '--name', 'root', '--data-dir', dataDir]);
    const { key } = JSON.parse(stdout) as { key: string };
    expect(key).toMatch(/^gfk_/);
    const submitted = await cli(['--coordinator', coordinator.grpcAddress, '--key', key, '--json', 'submit', '--product', 'cli', '--', 'sh', '-c', `id -u; env; cat ${join(dataDir, 'gigafactory.sqlite')}`]);
    const jobId = (JSON.parse(submitted.stdout) as { id: string }).id;
    const jobs = grpcClient(JobService, addressOf(coordinator.grpcAddress), key);
    await waitForStage(jobs, jobId, JobStage.SUCCEEDED, JobStage.FAILED);
    expect((await jobs.getJob({ jobId })).job!.stage).toBe(JobStage.FAILED); // cat: Permission denied
    const output = await readLogs(jobs, jobId);
    expect(output.split('\n')[0]).toBe(String(lookUpUser('nobody').uid));
    expect(output).toContain('Permission denied');
    expect(output).not.toContain('do-not-leak');
    expect(statSync(dataDir).mode & 0o777).toBe(0o711); // others pass through to their workspaces, list nothing
    expect(statSync(join(dataDir, 'gigafactory.sqlite')).mode & 0o777).toBe(0o600);
    const job = (await jobs.getJob({ jobId })).job!;
    expect(job.attempts[0]!.factoryId).toBe('local');
    const events = [];
    for await (const res of jobs.watchJobs({ jobId })) {
      events.push(res.event!);
      if (res.event!.toStage === JobStage.FAILED) break;
    }
    expect(events[0]!.actor).toBe('root');
    expect(coordinator.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain(key);
  }, 120_000);

  it('refuses --local-agent with security on unless its jobs run as another account, and says what to do', async () => {
    const refused = (args: string[]) => cli(['serve', '--data-dir', join(root, 'refused'), '--grpc-port', '0', '--http-port', '0', ...args]).catch((err: { code: number; stderr: string }) => err);
    expect(await refused(['--local-agent'])).toMatchObject({ code: 2, stderr: expect.stringContaining("would run jobs as the coordinator's own user") });
    expect(await refused(['--local-agent'])).toMatchObject({ stderr: expect.stringContaining('Give --local-agent-user NAME (as root)') });
    const missing = await refused(['--local-agent', '--local-agent-user', 'gigafactory-no-such-user']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining(isRoot ? 'no such account "gigafactory-no-such-user"' : 'only root can run jobs as another account') });
  });

  it('development mode (what `npm start` uses) needs no key, runs the local agent, and says so loudly', async () => {
    const coordinator = await spawnCoordinator({ dataDir: join(root, 'dev'), args: ['--local-agent'] }); // --insecure-dev is the default of spawnCoordinator
    processes.push(coordinator);
    const warning = await coordinator.waitFor((l) => l.insecureDev === true && l.level === 40);
    expect(String(warning.msg)).toMatch(/INSECURE DEVELOPMENT MODE/);
    await coordinator.waitFor((l) => l.msg === 'connected' && l.component === 'local-agent');
    const jobs = grpcClient(JobService, addressOf(coordinator.grpcAddress), null);
    const { job } = await jobs.submitJob({ productId: 'dev', command: ['echo', 'dev'] });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    expect(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).scripts.start).toContain('--insecure-dev');
  });

  it('refuses development mode on a host other machines can reach', async () => {
    const failure = await cli(['serve', '--data-dir', join(root, 'exposed'), '--host', '0.0.0.0', '--insecure-dev']).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('insecureDev (flag --insecure-dev): development mode serves without credentials') });
  });
});

describe('agent', () => {
  it("a job sees neither the agent's environment nor its token, only what --pass-env names; the work dir is the agent's alone", async () => {
    const server = await startSecureServer();
    servers.push(server);
    const workDir = join(root, 'env-agent-work');
    const token = await enrolledFactory(server, 'env-agent', [{ key: 'os', values: [] }, { key: 'arch', values: [] }]);
    const agent = await spawnAgent({
      coordinator: server.grpc.address,
      id: 'env-agent',
      workDir,
      args: ['--pass-env', 'GIGAFACTORY_TEST_PASSED'],
      env: { GIGAFACTORY_FACTORY_TOKEN: token, GIGAFACTORY_TEST_AGENT_SECRET: 'agent-secret-value', GIGAFACTORY_TEST_PASSED: 'passed-value' },
    });
    processes.push(agent);
    const jobs = grpcClient(JobService, server, server.keys.operator);
    const { job } = await jobs.submitJob({ productId: 'env', command: ['sh', '-c', 'env; ls -a ../..'], env: { OWN: 'own-value' } });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    const output = await readLogs(jobs, job!.id);
    expect(output).toContain('GIGAFACTORY_TEST_PASSED=passed-value');
    expect(output).toContain('OWN=own-value');
    expect(output).toContain('GIGAFACTORY_FACTORY_ID=env-agent');
    expect(output).not.toContain('agent-secret-value');
    expect(output).not.toContain(token);
    expect(output).not.toContain('GIGAFACTORY_FACTORY_TOKEN');
    expect(statSync(workDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(workDir, 'jobs')).mode & 0o777).toBe(0o700);
  });

  it('refuses a --pass-env that is not a variable name', async () => {
    const failure = await cli(['agent', '--work-dir', join(root, 'bad-pass-env'), '--pass-env', '$(id)']).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('--pass-env "$(id)" is not an environment variable name') });
  });

  it('enrolls once with --enroll-token, stores its token 0600, reconnects with it; a used token is refused', async () => {
    const server = await startSecureServer();
    servers.push(server);
    const admin = grpcClient(AdminService, server, server.keys.admin);
    const { token } = await admin.createEnrollmentToken({ factoryId: 'cli-agent', allowedLabels: [{ key: 'os', values: [] }, { key: 'arch', values: [] }] });
    const workDir = join(root, 'agent-work');
    const first = await spawnAgent({ coordinator: server.grpc.address, id: 'cli-agent', workDir, args: ['--enroll-token', token] });
    processes.push(first);
    const file = join(workDir, FACTORY_TOKEN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = readFileSync(file, 'utf8').trim();
    expect(stored).toMatch(/^gff_/);
    expect(first.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain(stored);
    await first.kill('SIGKILL');

    const again = await spawnAgent({ coordinator: server.grpc.address, id: 'cli-agent', workDir, args: ['--enroll-token', token] });
    processes.push(again);
    expect(again.lines.some((l) => l.msg === 'enrolled; factory token stored')).toBe(false);
    const jobs = grpcClient(JobService, server, server.keys.operator);
    const { job } = await jobs.submitJob({ productId: 'cli', command: ['true'] });
    await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);

    const reuse = await cli(['--coordinator', server.grpc.address, 'agent', '--id', 'other', '--work-dir', join(root, 'other-work'), '--enroll-token', token]).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(reuse).toMatchObject({ code: 1, stderr: expect.stringMatching(/enrollment refused: .*already used/) });
  });
});

describe('CLI', () => {
  it('talks TLS with --tls-ca and a client certificate, and manages keys with --key', async () => {
    const certs = makeTestCerts();
    try {
      const server = await startSecureServer({ tlsCertFile: certs.serverCert, tlsKeyFile: certs.serverKey, tlsClientCaFile: certs.caCert });
      servers.push(server);
      const base = ['--coordinator', `localhost:${server.grpc.port}`, '--tls-ca', certs.caCert, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey];
      const created = await cli([...base, '--key', server.keys.admin, '--json', 'keys', 'create', '--name', 'ci', '--role', 'operator']);
      const ci = (JSON.parse(created.stdout) as { key: string }).key;
      await cli([...base, '--key', ci, 'submit', '--product', 'tls', '--', 'true']);
      const listed = await cli([...base, '--key', ci, '--json', 'jobs', '--product', 'tls']);
      expect((JSON.parse(listed.stdout) as { jobs: unknown[] }).jobs).toHaveLength(1);
      const denied = await cli([...base, '--key', ci, 'keys', 'list']).catch((err: { code: number; stderr: string }) => err);
      expect(denied).toMatchObject({ code: 1, stderr: expect.stringContaining('PermissionDenied') });
      const token = await cli([...base, '--key', server.keys.admin, '--json', 'enroll-token', 'create', '--label', 'gpu=t4', '--ttl', '10m']);
      expect(JSON.parse(token.stdout)).toMatchObject({ token: expect.stringMatching(/^gfe_/) });
    } finally {
      certs.remove();
    }
  });
});

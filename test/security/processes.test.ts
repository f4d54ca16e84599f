/**
 * The commands people run: `serve` secure by default (with its local agent and a bootstrapped admin
 * key), the loopback-only development mode `npm start` uses, an agent that enrolls once and then
 * reconnects with its stored token, and the CLI's --key and --tls-* options.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { FACTORY_TOKEN_FILE } from '../../agent/token-files.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, spawnCoordinator, type ManagedProcess } from '../support/processes.js';
import type { TestServer } from '../support/server.js';
import { makeTestCerts } from './certs.js';
import { grpcClient, startSecureServer } from './helpers.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');
const root = mkdtempSync(join(tmpdir(), 'gigafactory-security-cli-'));
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
  it('is secure by default: calls need a key; `keys bootstrap` makes the first; the local agent runs jobs', async () => {
    const dataDir = join(root, 'secure');
    const coordinator = await spawnCoordinator({ dataDir, secure: true, args: ['--local-agent'] });
    processes.push(coordinator);
    await coordinator.waitFor((l) => l.msg === 'connected' && l.component === 'local-agent');
    expect(coordinator.lines.some((l) => l.insecureDev === true)).toBe(false);

    const anonymous = await cli(['--coordinator', coordinator.grpcAddress, 'jobs']).catch((err: { code: number; stderr: string }) => err);
    expect(anonymous).toMatchObject({ code: 1, stderr: expect.stringContaining('needs a credential') });

    const { stdout } = await cli(['--json', 'keys', 'bootstrap', '--name', 'root', '--data-dir', dataDir]);
    const { key } = JSON.parse(stdout) as { key: string };
    expect(key).toMatch(/^gfk_/);
    const submitted = await cli(['--coordinator', coordinator.grpcAddress, '--key', key, '--json', 'submit', '--product', 'cli', '--', 'echo', 'secure']);
    const jobId = (JSON.parse(submitted.stdout) as { id: string }).id;
    const jobs = grpcClient(JobService, addressOf(coordinator.grpcAddress), key);
    await waitForStage(jobs, jobId, JobStage.SUCCEEDED);
    const job = (await jobs.getJob({ jobId })).job!;
    expect(job.attempts[0]!.factoryId).toBe('local');
    const events = [];
    for await (const res of jobs.watchJobs({ jobId })) {
      events.push(res.event!);
      if (res.event!.toStage === JobStage.SUCCEEDED) break;
    }
    expect(events[0]!.actor).toBe('root');
    expect(coordinator.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain(key);
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

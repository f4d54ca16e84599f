/**
 * `gigafactory top` through the real CLI process against a real coordinator and a real agent
 * process: `--once` prints one frame (the factory, its slots, the queue by product, a running job)
 * cut to COLUMNS; a live run without a terminal prints plain frames that follow a job submitted
 * while it runs, and exits 0 on `q`; bad flags are one-line usage errors (exit 2); a missing or
 * refused key is the usual clear error (exit 1).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { jobClient } from '../../src/cli/client.js';
import { BIN, cli } from '../support/cli.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startSecureServer, type SecureServer } from '../security/helpers.js';

const ESC = '\u001b';

describe('gigafactory top', () => {
  let server: TestServer;
  let agent: ManagedProcess;
  let workDir: string;
  let running: string;
  beforeAll(async () => {
    server = await startTestServer();
    workDir = mkdtempSync(join(tmpdir(), 'gigafactory-cli-top-'));
    agent = await spawnAgent({ coordinator: server.grpc.address, id: 'top-factory', workDir, slots: 3, labels: ['pool=top'] });
    const jobs = jobClient(server.grpc.address);
    running = (await jobs.submitJob({ productId: 'top-busy', title: 'long one', command: ['sleep', '60'] })).job!.id;
    await waitForStage(jobs, running, JobStage.RUNNING);
    // No factory has a GPU: these two wait in the queue for as long as the test runs.
    for (let i = 0; i < 2; i++) await jobs.submitJob({ productId: 'top-waiting', command: ['true'], requiredLabels: [{ key: 'gpu', operator: LabelOperator.EXISTS, values: [] }] });
  });
  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('--once prints one plain frame: the factory and its slots, the queue by product, the running job', async () => {
    const { code, stdout, stderr } = await cli(['--coordinator', server.grpc.address, 'top', '--once'], { COLUMNS: '100' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).not.toContain(ESC);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^top · ${server.grpc.address} · \\d\\d:\\d\\d:\\d\\d UTC · snapshot$`));
    expect(lines).toContain('fleet  1 connected, 0 draining · slots 1/3 used');
    expect(lines).toContain('jobs   2 queued, 0 scheduled, 1 running, 0 failed in the last hour');
    expect(stdout).toMatch(/^top-waiting +2 +0 +0 +0 +0 +0$/m);
    expect(stdout).toMatch(/^top-busy +0 +0 +0 +1 +0 +0$/m);
    expect(stdout).toMatch(/^top-factory +connected +1\/3 +\d+s ago +.*pool=top/m);
    expect(stdout).toMatch(new RegExp(`^${running} +top-busy +top-factory +\\d+s +- +long one$`, 'm'));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('--once --json prints what the frame shows as data', async () => {
    const { code, stdout } = await cli(['--coordinator', server.grpc.address, '--json', 'top', '--once', '--product', 'top-']);
    expect(code).toBe(0);
    const snapshot = JSON.parse(stdout);
    expect(snapshot.fleet).toMatchObject({ connected: 1, slots: 3, usedSlots: 1, queued: 2, running: 1, capped: false });
    expect(snapshot.products).toContainEqual({ productId: 'top-waiting', queued: 2, scheduled: 0, blocked: 0, running: 0, review: 0, failedLastHour: 0 });
    expect(snapshot.factories).toEqual([expect.objectContaining({ id: 'top-factory', slots: 3, state: 'FACTORY_STATE_CONNECTED' })]);
    expect(snapshot.running).toEqual([expect.objectContaining({ id: running, stage: 'JOB_STAGE_RUNNING' })]);
  });

  it('--once cuts every line to COLUMNS instead of wrapping it, and --product filters', async () => {
    const narrow = await cli(['--coordinator', server.grpc.address, 'top', '--once'], { COLUMNS: '40' });
    expect(narrow.code).toBe(0);
    const lines = narrow.stdout.trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBe(40);
    expect(lines.filter((l) => l.length === 40).every((l) => l.endsWith('…'))).toBe(true);

    const filtered = await cli(['--coordinator', server.grpc.address, 'top', '--once', '--product', 'waiting'], { COLUMNS: '100' });
    expect(filtered.stdout).toContain('filter: products containing "waiting"');
    expect(filtered.stdout).toMatch(/^top-waiting /m);
    expect(filtered.stdout).not.toMatch(/^top-busy /m);
    expect(filtered.stdout).toContain('no running job matches the filter');
  });

  it('live without a terminal: plain frames that follow a job submitted meanwhile, and q exits 0', async () => {
    const child = spawn(process.execPath, [BIN, '--coordinator', server.grpc.address, 'top', '--refresh', '0.25'], {
      env: { ...process.env, COLUMNS: '120', LINES: '40' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const waiters: (() => void)[] = [];
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      for (const wake of waiters.splice(0)) wake();
    });
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const until = async (seen: (text: string) => boolean): Promise<void> => {
      while (!seen(stdout)) await new Promise<void>((wake) => waiters.push(wake));
    };
    try {
      await until((text) => / · live/.test(text) && text.includes(running));
      const { job } = await jobClient(server.grpc.address).submitJob({ productId: 'top-live', command: ['sleep', '60'] });
      await until((text) => new RegExp(`^${job!.id} +top-live +top-factory`, 'm').test(text));
      child.stdin.write('q');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
    expect(stdout).not.toContain(ESC);
    // Frames are whole and apart: each starts with the header, after a blank line.
    expect(stdout.split('\n\ntop · ').length).toBeGreaterThan(1);
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(120);
  });

  it('bad flags are a one-line usage error, exit 2', async () => {
    const unknown = await cli(['--coordinator', server.grpc.address, 'top', '--bogus']);
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: "error: unknown option '--bogus'\nRun 'gigafactory top --help' for usage.\n" });
    const refresh = await cli(['--coordinator', server.grpc.address, 'top', '--refresh', 'soon']);
    expect(refresh.code).toBe(2);
    expect(refresh.stderr).toMatch(/^error: .*--refresh must be a number of seconds from 0\.25 to 3600, got "soon"\nRun 'gigafactory top --help' for usage\.\n$/);
    const json = await cli(['--coordinator', server.grpc.address, '--json', 'top']);
    expect(json).toEqual({ code: 2, stdout: '', stderr: "error: top --json needs --once: a live view is for a terminal\nRun 'gigafactory top --help' for usage.\n" });
  });
});

describe('gigafactory top with security on', () => {
  let server: SecureServer;
  beforeAll(async () => {
    server = await startSecureServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('works with a viewer key, and says which is wrong when the key is missing or refused (exit 1)', async () => {
    const address = server.grpc.address;
    const viewer = await cli(['--coordinator', address, '--key', server.keys.viewer, 'top', '--once']);
    expect(viewer.code).toBe(0);
    expect(viewer.stdout).toContain('no factory connected');

    const missing = await cli(['--coordinator', address, 'top', '--once']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(new RegExp(`^error: the coordinator at ${address} needs an API key \\(pass --key or set GIGAFACTORY_API_KEY\\): .+ \\(Unauthenticated\\)\\n$`));

    // Live too: the first snapshot fails before any frame is drawn, so the error is all it prints.
    const refused = await cli(['--coordinator', address, '--key', 'gfk_not-a-key', 'top']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(new RegExp(`^error: the coordinator at ${address} refused the API key: .+ \\(Unauthenticated\\)\\n$`));
  });
});

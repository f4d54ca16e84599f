/**
 * The attack suite: a real coordinator process (security on) with a real agent running a job, under
 * bounded loops of hostile traffic on loopback: nested JSON and gzip bodies without credentials,
 * nested JSON with one, half-sent bodies, more streams per key than allowed, huge ids, a factory
 * that floods its stream with heartbeats listing jobs it does not hold and never reads the answers,
 * and WatchJobs and TailLogs followers on both listeners that stop reading while megabytes of job
 * changes and logs go by.
 *
 * Asserted: the coordinator stays up and answers every /healthz throughout, its RSS grows less than
 * RSS_GROWTH_BOUND, the agent's job in flight finishes exactly once, the deaf factory is ended
 * RESOURCE_EXHAUSTED and forgotten, and each stalled follower is ended RESOURCE_EXHAUSTED and a
 * TailLogs follower resumes after the last chunk it read with nothing lost or repeated.
 *
 * /healthz answer times are printed, never asserted (a timed assertion fails under load): p50 and
 * p99 before the attack and during it, timed by a process of their own, with how long the
 * coordinator's main thread ran and how long it waited for a CPU during the attack. The target is
 * 250 ms; docs/security.md has the figures and why a shared 2-core machine misses it.
 * GIGAFACTORY_ATTACK_SCALE (default 1) multiplies every loop and volume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService, TailLogsRequestSchema, TailLogsResponseSchema, WatchJobsRequestSchema, WatchJobsResponseSchema, type TailLogsResponse } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { create } from '@bufbuild/protobuf';
import { nestedJson } from '../support/attacks.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, spawnCoordinator, type ManagedProcess } from '../support/processes.js';
import type { TestServer } from '../support/server.js';
import { DeafFactory, type Drained, halfSent, rawPost, stalledGatewayFollower, stalledNativeFollower } from './attackers.js';
import { gatewayClient, grpcClient, outcome } from './helpers.js';
import { rssOf, schedTimes, watchHealth, type LatencySummary } from './health-watch.js';

const SCALE = Math.max(1, Number(process.env.GIGAFACTORY_ATTACK_SCALE ?? 1));
/** How much the coordinator's resident memory may grow under the attack. */
const RSS_GROWTH_BOUND = 256 * 1024 * 1024;
/** What the job in flight prints: more than a follower may fall behind (16 MiB) plus what the transports buffer. */
const LOG_BYTES = 32 * 1024 * 1024 * SCALE;
/** Jobs of a 1 MiB env each, submitted and cancelled: two job changes each for the stalled WatchJobs followers. */
const HEAVY_JOBS = 16 * SCALE;
/** How long /healthz is timed before the attack, as the baseline. */
const BASELINE_MS = 1_500;

const WATCH_JOBS = '/gigafactory.fleet.v1.JobService/WatchJobs';
const TAIL_LOGS = '/gigafactory.fleet.v1.JobService/TailLogs';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');
const root = mkdtempSync(join(tmpdir(), 'gigafactory-attack-'));
const processes: ManagedProcess[] = [];
let stopHealth = (): void => undefined;
afterAll(async () => {
  stopHealth();
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});

function figures(s: LatencySummary): string {
  return `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (${s.count} answers)`;
}

it('stays up, healthy and bounded under hostile clients, and the in-flight job finishes exactly once', async () => {
  const dataDir = join(root, 'coordinator');
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [BIN, '--json', 'keys', 'bootstrap', '--name', 'root', '--data-dir', dataDir]);
  const adminKey = (JSON.parse(stdout) as { key: string }).key;
  const coordinator = await spawnCoordinator({ dataDir, secure: true });
  processes.push(coordinator);
  const pid = coordinator.child.pid!;
  const server = { grpcUrl: `http://${coordinator.grpcAddress}`, httpUrl: `http://${coordinator.httpAddress}` } as TestServer;
  const httpPort = Number(coordinator.httpAddress.split(':').pop());
  const admin = grpcClient(AdminService, server, adminKey);
  const { key: viewerKey } = await admin.createApiKey({ name: 'attacker', role: ApiKeyRole.VIEWER });
  const { key: followerKey } = await admin.createApiKey({ name: 'stalled-follower', role: ApiKeyRole.VIEWER });
  const { key: operatorKey } = await admin.createApiKey({ name: 'ops', role: ApiKeyRole.OPERATOR });
  const grants = [{ key: 'os', values: [] }, { key: 'arch', values: [] }];
  const { token } = await admin.createEnrollmentToken({ factoryId: 'victim', allowedLabels: grants });
  const { token: deafEnrollment } = await admin.createEnrollmentToken({ factoryId: 'deaf', allowedLabels: grants });
  const { factoryToken: deafToken } = await grpcClient(FactoryService, server, deafEnrollment).enroll({ factoryId: 'deaf' });
  const agent = await spawnAgent({ coordinator: coordinator.grpcAddress, id: 'victim', workDir: join(root, 'agent'), env: { GIGAFACTORY_ENROLL_TOKEN: token } });
  processes.push(agent);
  const jobs = grpcClient(JobService, server, operatorKey);
  // Made before the clock starts: compressing them blocks this process, not the coordinator.
  const bomb = gzipSync(nestedJson(2_000_000));
  const nested = nestedJson(200_000);
  const heavyEnv = { BLOB: 'x'.repeat(1 << 20) };

  const health = watchHealth(server.httpUrl);
  stopHealth = health.stop;
  await health.ready;
  const baselineFrom = Date.now();
  await new Promise((resolve) => setTimeout(resolve, BASELINE_MS)); // a quiet span to time /healthz in, not a wait for anything
  const attackFrom = Date.now();
  const schedBefore = schedTimes(pid);
  const rssBefore = rssOf(pid);

  // Followers that stop reading, on both listeners: every job change, and the logs of the job in flight.
  const watchers = [
    stalledNativeFollower(server.grpcUrl, WATCH_JOBS, WatchJobsRequestSchema, WatchJobsResponseSchema, create(WatchJobsRequestSchema, {}), followerKey),
    stalledGatewayFollower(server.httpUrl, WATCH_JOBS, WatchJobsRequestSchema, WatchJobsResponseSchema, create(WatchJobsRequestSchema, {}), followerKey),
  ];
  const { job } = await jobs.submitJob({ productId: 'victim', command: ['sh', '-c', `sleep 1; yes '${'x'.repeat(99)}' | head -c ${LOG_BYTES}; echo done`] });
  const tailRequest = create(TailLogsRequestSchema, { jobId: job!.id, follow: true });
  const tails = [
    stalledNativeFollower(server.grpcUrl, TAIL_LOGS, TailLogsRequestSchema, TailLogsResponseSchema, tailRequest, followerKey),
    stalledGatewayFollower(server.httpUrl, TAIL_LOGS, TailLogsRequestSchema, TailLogsResponseSchema, tailRequest, followerKey),
  ];
  await waitForStage(jobs, job!.id, JobStage.RUNNING);

  // A factory that floods heartbeats listing jobs it does not hold and never reads the answers.
  const deaf = new DeafFactory(coordinator.grpcAddress, deafToken);
  const flooding = deaf.flood('deaf', 64, 2_000 * SCALE);

  const getJob = '/gigafactory.fleet.v1.JobService/GetJob';
  const json = { 'content-type': 'application/json' };
  // Nested JSON and gzip bombs without a credential: refused from the headers, never read.
  await Promise.all(Array.from({ length: 20 * SCALE }, (_, i) => rawPost(server.httpUrl, getJob, i % 2 ? bomb : nested, i % 2 ? { ...json, 'content-encoding': 'gzip' } : json)));
  // The same with a credential: the depth guard and the compressed-JSON refusal.
  const withKey = { ...json, authorization: `Bearer ${viewerKey}` };
  const statuses = await Promise.all(Array.from({ length: 20 * SCALE }, (_, i) => rawPost(server.httpUrl, getJob, i % 2 ? bomb : nested, i % 2 ? { ...withKey, 'content-encoding': 'gzip' } : withKey)));
  expect(statuses.every((s) => s === 400 || s === 0)).toBe(true);
  // Half-sent bodies, with and without a credential, left hanging.
  const hanging = Array.from({ length: 200 * SCALE }, (_, i) => halfSent(httpPort, getJob, i % 2 ? { ...json, authorization: `Bearer ${viewerKey}` } : json, 1 << 20, 1_000));
  // More WatchJobs streams than one key may open.
  const viewer = grpcClient(JobService, server, viewerKey);
  const streams = new AbortController();
  const opened = Array.from({ length: 40 * SCALE }, () => outcome(async () => {
    for await (const _ of viewer.watchJobs({}, { signal: streams.signal })) void _;
  }));
  // Huge ids: the error quotes a little of them.
  for (let i = 0; i < 10 * SCALE; i++) {
    await expect(viewer.getJob({ jobId: `job_${'x'.repeat(60_000)}` })).rejects.toSatisfy((err: { rawMessage: string }) => err.rawMessage.length < 1_100); // cut at 1,000 characters, and says so
  }
  // The streams' job is done (refused beyond the cap); the ones admitted would each be sent every job change below.
  streams.abort();
  const refusedStreams = (await Promise.all(opened)).filter((o) => o === 'ResourceExhausted').length;
  // Job changes of a megabyte each (a 1 MiB env) for the stalled WatchJobs followers: jobs no factory may take, submitted and cancelled.
  for (let i = 0; i < HEAVY_JOBS; i++) {
    const { job: heavy } = await jobs.submitJob({ productId: 'heavy', command: ['true'], env: heavyEnv, requiredLabels: [{ key: 'gpu', operator: LabelOperator.EQUALS, values: ['none'] }] });
    await jobs.cancelJob({ jobId: heavy!.id, reason: 'attack suite' });
  }

  await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
  await flooding;
  const attackTo = Date.now();
  const sched = schedTimes(pid);
  const rssAfter = rssOf(pid);
  for (const socket of hanging) socket.destroy();
  health.stop();

  const baseline = health.between(baselineFrom, attackFrom);
  const attack = health.between(attackFrom, attackTo);
  const ran = sched.cpuMs - schedBefore.cpuMs;
  const waited = sched.waitMs - schedBefore.waitMs;
  process.stdout.write(
    `attack suite (scale ${SCALE}): /healthz before the attack ${figures(baseline)}; during it ${figures(attack)} ` +
      `(p50 x${(attack.p50 / baseline.p50).toFixed(1)}, p99 x${(attack.p99 / baseline.p99).toFixed(1)}); ` +
      `over the attack's ${attackTo - attackFrom} ms the coordinator's main thread ran ${ran.toFixed(0)} ms and waited ${waited.toFixed(0)} ms for a CPU; ` +
      `RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB\n`,
  );
  expect(refusedStreams).toBeGreaterThan(0);
  expect(coordinator.child.exitCode).toBeNull();
  expect(baseline.failures + attack.failures).toBe(0);
  expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
  const finished = (await jobs.getJob({ jobId: job!.id })).job!;
  expect(finished.attempts).toHaveLength(1);
  expect(finished.stage).toBe(JobStage.SUCCEEDED);

  // The deaf factory was ended once its answers backed up, and forgotten. (Its grpc-js client reports
  // no status while its own heartbeats wait unsent, so the coordinator's log line is what says it.)
  expect((await admin.listFactories({})).factories.map((f) => f.id)).not.toContain('deaf');
  const deafLines = coordinator.lines.filter((l) => l.factoryId === 'deaf').map((l) => ({ msg: l.msg, err: l.err }));
  expect(deafLines).toContainEqual({ msg: 'factory stream ended with an error', err: expect.stringMatching(/resource_exhausted.*not reading its stream/) });
  deaf.close();

  // Each stalled follower was ended for falling too far behind.
  const ends = await Promise.all([...watchers, ...tails].map((follower) => follower.drain()));
  for (const end of ends) expect(end).toMatchObject({ code: 'ResourceExhausted', message: expect.stringContaining('resume after the last message it read') });
  // A TailLogs follower resumes after the last chunk it read: the whole log, nothing twice.
  const follower = gatewayClient(JobService, server, followerKey);
  for (const end of ends.slice(watchers.length) as Drained<TailLogsResponse>[]) {
    const last = end.messages.at(-1)?.chunk;
    const rest: TailLogsResponse[] = [];
    for await (const res of follower.tailLogs({ jobId: job!.id, afterEpoch: last?.epoch ?? 0n, afterSequence: last?.sequence ?? 0n })) rest.push(res);
    const all = [...end.messages, ...rest].map((res) => res.chunk!);
    expect(all.map((c) => Number(c.sequence))).toEqual(all.map((_, i) => i));
    expect(all.reduce((bytes, c) => bytes + c.data.length, 0)).toBe(LOG_BYTES + 'done\n'.length);
  }
}, 180_000 * SCALE);

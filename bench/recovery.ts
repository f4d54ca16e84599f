/**
 * Recovery: how long a job is out of reach after its factory is lost, on the coordinator's default
 * settings (lease TTL, reconnect grace, reaper interval, heartbeat timeout, retry back-off), so the
 * figure is what a user gets.
 *
 * - Stream-break path: a real agent process (`gigafactory agent`) runs a long job and is killed with
 *   SIGKILL; the kernel closes its socket, the coordinator sees the stream break, gives the agent the
 *   reconnect grace to come back, and then requeues the job.
 *   Measured from the kill to a second factory (the witness) reading the LeaseOffer for that job.
 * - TTL path: a factory accepts the job and then says nothing more while its TCP connection stays
 *   open, so only the lease expiry (found by the reaper) or the heartbeat timeout can free the job.
 *   Measured from its last message (the accept) to the witness reading the offer.
 *
 * The witness connects only after the first factory holds the job, so the job cannot go to it first.
 * Repetitions run one after another on one coordinator, each with a new job and new factory ids.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttemptOutcome, JobStage } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ServeConfigSchema } from '../src/config.js';
import { waitForStage } from '../test/support/jobs.js';
import { spawnAgent } from '../test/support/processes.js';
import { RawFactory } from '../test/support/raw-factory.js';
import { spawnCoordinator } from './coordinator-child.js';
import { fmt, median, progress, progressDone, type Row } from './stats.js';

export interface RecoveryOptions {
  /** Repetitions of the stream-break path. */
  breakRuns: number;
  /** Repetitions of the TTL path (each takes about a lease TTL). */
  ttlRuns: number;
}

export interface RecoveryResult {
  /** Milliseconds per repetition. */
  streamBreakMs: number[];
  ttlMs: number[];
  settings: { leaseTtlMs: number; reconnectGraceMs: number; reaperIntervalMs: number; heartbeatIntervalMs: number; heartbeatTimeoutMs: number; retryBaseMs: number };
}

type Jobs = Client<typeof JobService>;

/**
 * A factory with one free slot that heartbeats (so it is not itself timed out). Resolves once it is
 * welcomed, with a function that waits for the LeaseOffer of `jobId`, returns when it was read, and
 * finishes the job and the stream.
 */
async function connectWitness(grpcUrl: string, factoryId: string, heartbeatMs: number): Promise<(jobId: string) => Promise<number>> {
  const witness = new RawFactory(grpcUrl);
  let sequence = 0n;
  const heartbeat = setInterval(() => witness.send({ case: 'heartbeat', value: { sequence: ++sequence, runningJobs: [] } }), heartbeatMs);
  const close = async (): Promise<void> => {
    clearInterval(heartbeat);
    witness.finish();
    await witness.closed();
  };
  try {
    witness.hello(factoryId);
    await witness.next('welcome');
  } catch (err) {
    await close();
    throw err;
  }
  return (jobId) => offeredAt(witness, jobId).finally(close);
}

/** When `witness` read the LeaseOffer for `jobId`; it then accepts and finishes the job at once. */
async function offeredAt(witness: RawFactory, jobId: string): Promise<number> {
  const offer = await witness.next('leaseOffer', (m) => m.jobId === jobId);
  const at = performance.now();
  witness.send({ case: 'leaseAccept', value: { jobId, epoch: offer.epoch } });
  witness.send({ case: 'jobResult', value: { jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, message: 'witness' } });
  await witness.next('resultAck', (m) => m.jobId === jobId);
  return at;
}

async function streamBreakOnce(jobs: Jobs, grpcAddress: string, workRoot: string, run: number, heartbeatMs: number): Promise<number> {
  const id = `recovery-agent-${run}`;
  const agent = await spawnAgent({ coordinator: grpcAddress, id, workDir: join(workRoot, id) });
  try {
    // Long enough to outlive the measurement; short enough that the orphaned child does not linger.
    const { job } = await jobs.submitJob({ productId: 'bench-recovery', title: `break-${run}`, command: ['sleep', '30'] });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    // Welcomed, with a free slot, before the kill: the figure must not include its connect time.
    const offered = await connectWitness(`http://${grpcAddress}`, `recovery-witness-break-${run}`, heartbeatMs);
    const killedAt = performance.now();
    await agent.kill('SIGKILL');
    return (await offered(job!.id)) - killedAt;
  } finally {
    await agent.kill('SIGKILL');
  }
}

async function ttlOnce(jobs: Jobs, grpcUrl: string, run: number, heartbeatMs: number): Promise<number> {
  const silent = new RawFactory(grpcUrl);
  try {
    silent.hello(`recovery-silent-${run}`);
    await silent.next('welcome');
    const { job } = await jobs.submitJob({ productId: 'bench-recovery', title: `ttl-${run}`, command: ['sleep', '30'] });
    const offer = await silent.next('leaseOffer', (m) => m.jobId === job!.id);
    silent.send({ case: 'leaseAccept', value: { jobId: job!.id, epoch: offer.epoch } });
    const silentFrom = performance.now(); // its last message: from here on, nothing but an open connection
    const offered = await connectWitness(grpcUrl, `recovery-witness-ttl-${run}`, heartbeatMs);
    return (await offered(job!.id)) - silentFrom;
  } finally {
    silent.breakStream();
  }
}

export async function runRecovery(opts: RecoveryOptions): Promise<RecoveryResult> {
  const defaults = ServeConfigSchema.parse({});
  const settings = {
    leaseTtlMs: defaults.leaseTtlMs,
    reconnectGraceMs: defaults.reconnectGraceMs,
    reaperIntervalMs: defaults.reaperIntervalMs,
    heartbeatIntervalMs: defaults.heartbeatIntervalMs,
    heartbeatTimeoutMs: defaults.heartbeatTimeoutMs,
    retryBaseMs: defaults.retryBaseMs,
  };
  const coordinator = await spawnCoordinator();
  const workRoot = mkdtempSync(join(tmpdir(), 'gigafactory-bench-recovery-'));
  const grpcUrl = `http://${coordinator.grpcAddress}`;
  const jobs = createClient(JobService, createGrpcTransport({ baseUrl: grpcUrl }));
  try {
    const streamBreakMs: number[] = [];
    for (let i = 0; i < opts.breakRuns; i++) {
      progress(`[recovery] stream-break path ${i + 1}/${opts.breakRuns}: kill -9 of an agent running a job`);
      streamBreakMs.push(await streamBreakOnce(jobs, coordinator.grpcAddress, workRoot, i, settings.heartbeatIntervalMs));
    }
    const ttlMs: number[] = [];
    for (let i = 0; i < opts.ttlRuns; i++) {
      progress(`[recovery] TTL path ${i + 1}/${opts.ttlRuns}: a factory holding a job goes silent (about ${fmt(settings.leaseTtlMs / 1000)} s)`);
      ttlMs.push(await ttlOnce(jobs, grpcUrl, i, settings.heartbeatIntervalMs));
    }
    progressDone();
    return { streamBreakMs, ttlMs, settings };
  } catch (err) {
    progressDone();
    throw err;
  } finally {
    await coordinator.stop().catch(() => coordinator.kill());
    rmSync(workRoot, { recursive: true, force: true });
  }
}

export function recoveryRows(r: RecoveryResult | null): Row[] {
  if (!r) return [];
  const s = r.settings;
  const runs = (ms: number[]): string => ms.map((v) => fmt(v / 1000)).join(', ');
  return [
    { section: `Recovery — coordinator defaults: lease TTL ${fmt(s.leaseTtlMs / 1000)} s, reconnect grace ${fmt(s.reconnectGraceMs / 1000)} s, reaper every ${fmt(s.reaperIntervalMs / 1000)} s, heartbeat ${fmt(s.heartbeatIntervalMs / 1000)} s (silent stream closed after ${fmt(s.heartbeatTimeoutMs / 1000)} s), retry back-off from ${fmt(s.retryBaseMs / 1000)} s` },
    ['stream break → offered again  median / max', `${fmt(median(r.streamBreakMs) / 1000)} / ${fmt(Math.max(...r.streamBreakMs) / 1000)}`, 's', `kill -9 of a real agent process running the job → another factory reads the LeaseOffer; bounded by reconnect grace + back-off + reaper interval; runs: ${runs(r.streamBreakMs)}`],
    ['silence → offered again  median / max', `${fmt(median(r.ttlMs) / 1000)} / ${fmt(Math.max(...r.ttlMs) / 1000)}`, 's', `a factory's last message (its LeaseAccept), connection kept open → another factory reads the LeaseOffer; bounded by lease TTL + reaper interval + back-off; runs: ${runs(r.ttlMs)}`],
  ];
}

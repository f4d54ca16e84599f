/**
 * The factory agent: keeps one stream to the coordinator open (reconnecting with one back-off
 * policy), runs the jobs it is offered in child processes, streams their output, heartbeats the
 * leases it holds, and reports each outcome until the coordinator acknowledges it.
 */
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { durationMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  ConnectRequestSchema,
  GoodbyeReason,
  JobRefSchema,
  type ConnectResponse,
  type JobRef,
  type JobResult,
  type LeaseOffer,
} from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { LogStream } from '../gen/ts/gigafactory/fleet/v1/log_pb.js';
import type { Logger } from '../src/logging.js';
import { Connection } from './connection-state.js';
import { FactoryCredentials } from './factory-credentials.js';
import { createFactoryClient, openFactoryStream, type FactoryStream } from './grpc-client.js';
import { Heartbeater } from './heartbeat.js';
import { artifactsDirOf, COST_FILE, COST_NOTICE_FILE, runSpecFromOffer, startJob, type JobProcess, type RunAsUser } from './job-process.js';
import { ArtifactClient } from './artifact-client.js';
import { ArtifactUploader, chunksOf } from './artifact-uploader.js';
import { CostMeter } from './cost-meter.js';
import { LogBatcher } from './log-batcher.js';
import { jobResult, PENDING_RESULTS_FILE, PendingResults } from './pending-results.js';
import { ReconnectPolicy } from './reconnect.js';
import { Uplink } from './uplink.js';
import type { FetchChannel } from './artifact-fetch.js';
import { fetchInputs } from './input-fetch.js';
import { CHECKPOINT_CONTENT_TYPE, CheckpointWatcher, restoreLatestCheckpoint, type PackedCheckpoint } from './checkpoints.js';
import { ArtifactKind } from '../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { maxListedLeases } from '../src/domain/lease-book.js';
import { makePassThroughDir, makePrivateDir } from '../src/private-files.js';
import { VERSION } from '../src/version.js';

/**
 * The most an ending attempt waits for its last checkpoint upload before it reports its end: the
 * next attempt then resumes from the checkpoint before, at most one heartbeat interval older.
 */
const FINAL_CHECKPOINT_WAIT_MS = 60_000;

/** How long a job handed back at a drain's deadline gets between SIGTERM and SIGKILL. */
const HAND_BACK_GRACE_MS = 10_000;

/**
 * After the jobs are handed back, how long to wait for the coordinator's goodbye (it comes once it
 * has recorded the last lease_return) before leaving anyway.
 */
const GOODBYE_WAIT_MS = 5_000;

/**
 * A result unacknowledged for this many heartbeat intervals, while the coordinator keeps answering
 * heartbeats on the same stream, was lost (or its ack was): it is sent again. The coordinator
 * handles a stream's messages in order, so an ack is normally back before the next heartbeat's;
 * a few intervals leave room for a slow store write before resending. A duplicate is harmless: the
 * coordinator acknowledges a result it already recorded without recording it twice.
 */
export const RESULT_RESEND_HEARTBEATS = 3;

/**
 * How long a finished attempt's result waits for its artifacts to upload. Holding the result keeps
 * the lease (the agent lists it in heartbeats), so the job is not SUCCEEDED before its files are
 * there and downstream jobs find them; past this bound the result goes anyway (a big upload must
 * not hold the outcome back) and the upload carries on: the coordinator still takes files of an
 * attempt its own factory ended, until a newer attempt starts.
 */
export const DEFAULT_ARTIFACT_WAIT_MS = 60_000;

export interface AgentOptions {
  /**
   * Coordinator gRPC address, "host:port", or several separated by commas (replicas over one shared
   * store): each reconnect tries the next one, so a factory whose replica died or said goodbye
   * moves to another.
   */
  coordinator: string;
  factoryId?: string;
  labels: Record<string, string>;
  slots: number;
  workDir: string;
  log: Logger;
  /** Transport credentials (TLS, client certificate); insecure h2c without. */
  credentials?: grpc.ChannelCredentials;
  /** Factory token; otherwise the one stored in the work dir, or one obtained with `enrollToken`. */
  factoryToken?: string;
  /** One-time enrollment token, traded for a factory token on the first run (see factory-credentials.ts). */
  enrollToken?: string;
  /** The agent's environment variables jobs also see, by name (job-environment.ts says what else they see). */
  passEnv?: readonly string[];
  /** Jobs run as this user instead of the agent's (the agent must be root). */
  runAs?: RunAsUser;
  /** How long a result waits for its attempt's artifacts to upload (DEFAULT_ARTIFACT_WAIT_MS). */
  artifactWaitMs?: number;
}

interface RunningJob {
  jobId: string;
  epoch: bigint;
  process: JobProcess | null;
  batcher: LogBatcher | null;
  /** Why the agent stopped it, when it did: decides what is reported. */
  stoppedFor: 'cancel' | 'preemption' | 'revoked' | 'handback' | null;
  /** Aborted when the job must not start after all: revoked, cancelled or preempted before its process existed. */
  notYetStarted: AbortController;
}

export class FactoryAgent {
  readonly factoryId: string;
  readonly connection: Connection;
  private readonly running = new Map<string, RunningJob>();
  private readonly uplink = new Uplink();
  private readonly reconnect = new ReconnectPolicy();
  private pending!: PendingResults;
  private uploader!: ArtifactUploader;
  /** The uploads' own channel, to the coordinator address it was made for. */
  private artifactClient: { address: string; client: ArtifactClient } | null = null;
  /** Results recorded but not sent yet: their attempt's artifacts are still uploading. */
  private readonly held = new Set<string>();
  private heartbeater: Heartbeater | null = null;
  /** The heartbeat interval the coordinator asked for in its welcome. */
  private heartbeatIntervalMs = 5_000;
  private readonly log: Logger;
  readonly tokens: FactoryCredentials;
  /** The coordinator addresses to rotate through, and the index of the one to dial next. */
  readonly coordinators: readonly string[];
  private nextCoordinator = 0;
  /** Set by drain(): why, and the deadline after which running jobs are handed back. */
  private draining: { reason: string; deadline: NodeJS.Timeout } | null = null;
  /** Ends run() from inside: a drain with nothing left to wait for. */
  private readonly halt = new AbortController();

  constructor(private readonly opts: AgentOptions) {
    this.coordinators = parseCoordinators(opts.coordinator);
    this.factoryId = opts.factoryId ?? hostname();
    this.log = opts.log.child({ factoryId: this.factoryId });
    this.tokens = new FactoryCredentials({
      workDir: opts.workDir,
      factoryId: this.factoryId,
      log: this.log,
      ...(opts.factoryToken ? { token: opts.factoryToken } : {}),
      ...(opts.enrollToken ? { enrollToken: opts.enrollToken } : {}),
    });
    this.connection = new Connection((next, prev) => this.log.debug({ from: prev.t, to: next.t }, 'connection state'));
  }

  /** Runs until `stop` aborts, a drain ends, or the coordinator revokes this factory. */
  async run(stop: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([stop, this.halt.signal]);
    // The token and unsent results live here: the agent's user only (others may pass through to the
    // workspaces of jobs that run as another user, never list or read the rest).
    (this.opts.runAs ? makePassThroughDir : makePrivateDir)(this.opts.workDir);
    this.pending = await PendingResults.open(join(this.opts.workDir, PENDING_RESULTS_FILE));
    await this.tokens.prepare(() => createFactoryClient(this.coordinators[this.nextCoordinator]!, this.opts.credentials ?? grpc.credentials.createInsecure()), signal);
    this.uploader = new ArtifactUploader({ workDir: this.opts.workDir, factoryId: this.factoryId, client: () => this.artifactClientNow(), log: this.log });
    await this.uploader.open();
    let attempt = 0;
    while (!signal.aborted) {
      this.connection.set({ t: 'connecting', attempt: ++attempt });
      const outcome = await this.session(signal);
      if (outcome.reason === GoodbyeReason.REVOKED) {
        this.connection.set({ t: 'closed', reason: 'revoked by the coordinator' });
        this.log.error('this factory was revoked; not reconnecting');
        break;
      }
      if (outcome.reason === GoodbyeReason.DRAINED) {
        // Drained (by an operator, or on our own request): the work is done and no more is wanted here.
        this.connection.set({ t: 'closed', reason: 'drained' });
        this.log.info('drained by the coordinator; stopping');
        break;
      }
      if (signal.aborted) break;
      if (this.draining && this.running.size === 0) {
        // Nothing left to finish, and no stream to be told goodbye on: unacknowledged results stay
        // in the work dir and are sent by the next start (recorded if the lease is still held then).
        this.log.info({ unacknowledged: this.pending.size }, 'drained while disconnected; stopping');
        break;
      }
      const delay = this.reconnect.nextDelayMs(outcome.retryAfterMs);
      this.connection.set({ t: 'backoff', untilMs: Date.now() + delay });
      this.nextCoordinator = (this.nextCoordinator + 1) % this.coordinators.length;
      this.log.info({ delayMs: delay, why: outcome.why, next: this.coordinators[this.nextCoordinator] }, 'stream ended; reconnecting');
      await sleep(delay, signal);
    }
    if (this.connection.state.t !== 'closed') this.connection.set({ t: 'closed', reason: 'stopped' });
    if (this.draining) clearTimeout(this.draining.deadline);
    this.uploader.stop(); // what is left stays in the outbox for the next start
    this.artifactClient?.client.close();
    await this.stopAll(2_000);
  }

  /** The uploads' client for the coordinator the agent talks to now (a new channel when that changed). */
  private artifactClientNow(): ArtifactClient {
    const address = this.coordinators[this.nextCoordinator]!;
    if (this.artifactClient?.address !== address) {
      this.artifactClient?.client.close();
      const channel = createFactoryClient(address, this.opts.credentials ?? grpc.credentials.createInsecure());
      this.artifactClient = { address, client: new ArtifactClient(channel, () => this.tokens.metadata()) };
    }
    return this.artifactClient.client;
  }

  /**
   * Stops taking work (SIGTERM, a service stop, an image roll): the coordinator is asked to drain
   * this factory, the running jobs finish and their results are delivered, then the coordinator says
   * goodbye and run() returns. Jobs still running after `timeoutMs` are stopped and handed back
   * (lease_return), so they run again elsewhere without using up an attempt.
   */
  drain(reason: string, timeoutMs: number): void {
    if (this.draining) return;
    this.log.info({ reason, running: this.running.size, timeoutMs }, 'draining: no new jobs; running jobs finish, or are handed back after the drain timeout');
    this.draining = { reason, deadline: setTimeout(() => void this.handBackAll(), timeoutMs) };
    const told = this.uplink.sendControl({ case: 'drain', value: { reason } });
    if (!told && this.running.size === 0) this.halt.abort();
  }

  /** The drain's deadline: stop what still runs and give the leases back. */
  private async handBackAll(): Promise<void> {
    const jobs = [...this.running.values()].filter((job) => job.process);
    this.log.warn({ jobs: jobs.map((job) => job.jobId) }, 'drain timeout: stopping the running jobs and handing them back');
    await Promise.all(
      jobs.map((job) => {
        job.stoppedFor = 'handback';
        return job.process!.stop(HAND_BACK_GRACE_MS, 'agent shutting down');
      }),
    );
    // Each job's lease_return went out as it ended (onOffer); the goodbye follows. Without a stream
    // nobody can be told: the coordinator lets the leases lapse and the jobs retry as after a crash.
    setTimeout(() => this.halt.abort(), this.uplink.connected ? GOODBYE_WAIT_MS : 0).unref();
  }

  /** One stream from hello to its end. */
  private session(signal: AbortSignal): Promise<{ why: string; reason?: GoodbyeReason; retryAfterMs?: number }> {
    const coordinator = this.coordinators[this.nextCoordinator]!;
    const client = createFactoryClient(coordinator, this.opts.credentials ?? grpc.credentials.createInsecure());
    const stream = openFactoryStream(client, { signal, metadata: this.tokens.metadata() });
    return new Promise((resolve) => {
      let goodbye: { reason: GoodbyeReason; retryAfterMs?: number } | undefined;
      const finish = (why: string): void => {
        this.heartbeater?.stop();
        this.heartbeater = null;
        this.uplink.detach();
        client.close();
        resolve({ why, ...goodbye });
      };
      stream.on('data', (message: ConnectResponse) => {
        try {
          const bye = this.onMessage(message, stream);
          if (bye) goodbye = bye;
        } catch (err) {
          this.log.error({ err }, 'could not handle a coordinator message');
        }
      });
      stream.on('error', (err: grpc.ServiceError) => finish(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
      stream.on('end', () => finish('coordinator closed the stream'));
      stream.write(
        create(ConnectRequestSchema, {
          kind: {
            case: 'hello',
            value: { factoryId: this.factoryId, labels: this.opts.labels, slots: this.opts.slots, agentVersion: VERSION, runningJobs: this.heldLeases() },
          },
        }),
      );
    });
  }

  private onMessage(message: ConnectResponse, stream: FactoryStream): { reason: GoodbyeReason; retryAfterMs?: number } | undefined {
    const kind = message.kind;
    switch (kind.case) {
      case 'welcome': {
        this.connection.set({ t: 'ready', sessionId: kind.value.sessionId });
        this.reconnect.reset();
        const kept = new Set(kind.value.keptLeases.map((ref) => `${ref.jobId}@${ref.epoch}`));
        for (const job of [...this.running.values()]) {
          if (job.process && !kept.has(`${job.jobId}@${job.epoch}`)) this.abandon(job, 'lease not kept after reconnect');
        }
        this.uplink.attach(stream);
        const intervalMs = kind.value.heartbeatInterval ? durationMs(kind.value.heartbeatInterval) : 5_000;
        this.heartbeatIntervalMs = intervalMs;
        this.heartbeater = new Heartbeater({
          intervalMs,
          send: (heartbeat) => this.uplink.sendControl({ case: 'heartbeat', value: heartbeat }),
          runningJobs: () => this.heldLeases(),
        });
        this.heartbeater.start();
        for (const result of this.pending.list()) this.sendResult(result);
        if (this.draining) this.uplink.sendControl({ case: 'drain', value: { reason: this.draining.reason } });
        this.log.info({ sessionId: kind.value.sessionId, coordinator: this.coordinators[this.nextCoordinator], kept: kept.size, resent: this.pending.size }, 'connected');
        return;
      }
      case 'leaseOffer':
        return void this.onOffer(kind.value);
      case 'heartbeatAck':
        // The coordinator answers on this stream: a result it has not acknowledged for a while was lost.
        if (this.heartbeater?.onAck(kind.value.sequence)) this.resendOverdueResults();
        return;
      case 'cancel':
        return void this.stop(kind.value.jobId, kind.value.epoch, 'cancel', kind.value.gracePeriod ? durationMs(kind.value.gracePeriod) : 10_000);
      case 'preemptionNotice':
        return void this.stop(kind.value.jobId, kind.value.epoch, 'preemption', kind.value.gracePeriod ? durationMs(kind.value.gracePeriod) : 10_000);
      case 'leaseRevoked': {
        void this.pending.drop(kind.value.jobId, kind.value.epoch);
        const job = this.running.get(kind.value.jobId);
        if (job && job.epoch === kind.value.epoch) this.abandon(job, kind.value.reason);
        return;
      }
      case 'resultAck':
        void this.pending.drop(kind.value.jobId, kind.value.epoch);
        return;
      case 'tokenRotated':
        this.tokens.store(kind.value.factoryToken).then(
          () => this.log.info('factory token rotated and stored'),
          (err: unknown) => this.log.error({ err }, 'could not store the rotated factory token'),
        );
        return;
      case 'goodbye':
        this.log.info({ reason: GoodbyeReason[kind.value.reason], message: kind.value.message }, 'goodbye from coordinator');
        return {
          reason: kind.value.reason,
          ...(kind.value.retryTime ? { retryAfterMs: Math.max(0, timestampMs(kind.value.retryTime) - Date.now()) } : {}),
        };
      default:
        this.log.warn({ kind: kind.case }, 'unknown message from the coordinator; ignored (is the coordinator newer?)');
    }
  }

  private async onOffer(offer: LeaseOffer): Promise<void> {
    const ref = { jobId: offer.jobId, epoch: offer.epoch };
    if (this.draining || this.running.size >= this.opts.slots || this.running.has(offer.jobId)) {
      this.uplink.sendControl({ case: 'leaseDecline', value: { ...ref, reason: this.draining ? 'factory is draining' : 'no free slot' } });
      return;
    }
    // An offer that lapsed on its way is not taken: the job may be offered to another factory already.
    if (offer.offerExpireTime && timestampMs(offer.offerExpireTime) <= Date.now()) {
      this.log.warn({ jobId: offer.jobId, epoch: String(offer.epoch) }, 'offer lapsed before it arrived; declined');
      this.uplink.sendControl({ case: 'leaseDecline', value: { ...ref, reason: 'the offer lapsed before it reached the factory' } });
      return;
    }
    const job: RunningJob = { ...ref, process: null, batcher: null, stoppedFor: null, notYetStarted: new AbortController() };
    this.running.set(offer.jobId, job);
    this.uplink.sendControl({ case: 'leaseAccept', value: ref });
    try {
      await this.runJob(job, offer);
    } catch (err) {
      // Whatever a job does, the agent goes on: the attempt fails with the reason.
      this.log.error({ err, jobId: offer.jobId, epoch: String(offer.epoch) }, 'could not run the job');
      if (this.running.get(offer.jobId) === job) this.running.delete(offer.jobId);
      if (job.stoppedFor !== 'revoked') await this.report(jobResult(offer.jobId, offer.epoch, { outcome: 'failed', exitCode: null, message: `the agent could not run the job: ${String(err)}` }, 0));
    }
  }

  /** Runs an accepted job to its end and reports how it ended. */
  private async runJob(job: RunningJob, offer: LeaseOffer): Promise<void> {
    const ref = { jobId: offer.jobId, epoch: offer.epoch };
    const spec = runSpecFromOffer(offer);
    let restored: { restoredSha256: string } | null = null;
    const proc = await startJob(spec, {
      workDir: this.opts.workDir,
      factoryId: this.factoryId,
      signal: job.notYetStarted.signal,
      prepare: async (workspace) => void (restored = await this.prepareWorkspace(offer, workspace, job.notYetStarted.signal)),
      ...(this.opts.passEnv ? { passEnv: this.opts.passEnv } : {}),
      ...(this.opts.runAs ? { runAs: this.opts.runAs } : {}),
    });
    const batcher = new LogBatcher({ jobId: offer.jobId, epoch: offer.epoch, sink: this.uplink.logSink() });
    batcher.attach(proc.stdout, LogStream.STDOUT);
    batcher.attach(proc.stderr, LogStream.STDERR);
    job.process = proc;
    job.batcher = batcher;
    if (proc.pid !== undefined) this.log.info({ jobId: offer.jobId, epoch: String(offer.epoch), pid: proc.pid }, 'job started');
    const meter = new CostMeter({
      costFile: join(proc.workspace, COST_FILE),
      noticeFile: join(proc.workspace, COST_NOTICE_FILE),
      ceiling: spec.costCeiling ?? 0,
      report: (totalCost) => void this.uplink.sendControl({ case: 'costReport', value: { ...ref, totalCost } }),
      warn: (notice) => this.log.warn({ jobId: offer.jobId, epoch: String(offer.epoch), notice }, 'job nears its cost ceiling'),
    });
    const checkpoints = await this.watchCheckpoints(offer, proc, restored);
    const report = await proc.done.finally(() => meter.stop()); // the result carries the final total
    await checkpoints.end(report.outcome === 'succeeded' || job.stoppedFor === 'revoked');
    let chunks = 0;
    try {
      chunks = await batcher.flush();
    } catch {
      // The log was abandoned (lease revoked): nothing more is sent about this job.
    }
    if (this.running.get(offer.jobId) === job) this.running.delete(offer.jobId);
    this.log.info({ jobId: offer.jobId, epoch: String(offer.epoch), outcome: report.outcome, exitCode: report.exitCode }, 'job ended');
    if (job.stoppedFor === 'revoked') return;
    const uploaded = this.uploader
      .enqueue(offer.jobId, offer.epoch, artifactsDirOf(proc.workspace))
      .catch((err: unknown) => this.log.error({ err, jobId: offer.jobId, epoch: String(offer.epoch) }, 'could not queue the artifacts for upload'));
    if (job.stoppedFor === 'handback') {
      this.uplink.sendControl({ case: 'leaseReturn', value: { ...ref, reason: 'the agent is shutting down and its drain timed out' } });
      return;
    }
    if (job.stoppedFor === 'preemption') {
      this.uplink.sendControl({ case: 'preemptionAck', value: { ...ref, checkpoint: '' } });
      return;
    }
    await this.report(jobResult(offer.jobId, offer.epoch, report, chunks), uploaded);
  }

  /**
   * Fills a new attempt's workspace before its command starts: the inputs it names, and the job's
   * latest checkpoint when an earlier attempt may have saved one.
   */
  private async prepareWorkspace(offer: LeaseOffer, workspace: string, signal: AbortSignal): Promise<{ restoredSha256: string } | null> {
    const inputs = offer.job?.inputs ?? [];
    const earlierAttempts = (offer.job?.attempts ?? []).some((a) => a.epoch < offer.epoch);
    if (inputs.length === 0 && !earlierAttempts) return null;
    const target = { factoryId: this.factoryId, jobId: offer.jobId, epoch: offer.epoch, workspace };
    return this.withFetchChannel(async (channel) => {
      await fetchInputs(channel, inputs, target, signal);
      if (!earlierAttempts) return null;
      const restored = await restoreLatestCheckpoint(channel, target, signal);
      if (restored) this.log.info({ jobId: offer.jobId, epoch: String(offer.epoch), checkpoint: restored.name, files: restored.files }, 'checkpoint restored');
      return restored ? { restoredSha256: restored.sha256 } : null;
    });
  }

  /**
   * Uploads the attempt's checkpoint dir on every heartbeat interval where it changed, in the
   * background. `end` stops that; unless the attempt succeeded or lost its lease, it first uploads
   * what the job saved in its last moments (a preemption's or cancel's grace), so the next attempt
   * resumes from there. It runs before the end is reported, while the lease is still held and
   * heartbeated: after the report a new attempt may begin, and this one's uploads would be stale.
   */
  private async watchCheckpoints(offer: LeaseOffer, proc: JobProcess, restored: { restoredSha256: string } | null): Promise<{ end: (skipFinal: boolean) => Promise<void> }> {
    if (proc.pid === undefined) return { end: async () => {} };
    const log = this.log.child({ jobId: offer.jobId, epoch: String(offer.epoch) });
    const watcher = new CheckpointWatcher({ workspace: proc.workspace, log, upload: (cp) => this.uploadCheckpoint(offer, cp) });
    if (restored) await watcher.markRestored(restored.restoredSha256);
    const timer = setInterval(() => void watcher.tick(), this.heartbeatIntervalMs);
    return {
      end: async (skipFinal) => {
        clearInterval(timer);
        if (skipFinal) return;
        let bound: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<void>((resolve) => (bound = setTimeout(resolve, FINAL_CHECKPOINT_WAIT_MS)));
        await Promise.race([watcher.final(), gaveUp]).finally(() => clearTimeout(bound));
      },
    };
  }

  /** One checkpoint archive to the coordinator, as a CHECKPOINT of the attempt (resumable like any upload). */
  private async uploadCheckpoint(offer: LeaseOffer, cp: PackedCheckpoint): Promise<void> {
    const client = this.artifactClientNow();
    const started = await client.startUpload({
      factoryId: this.factoryId,
      jobId: offer.jobId,
      epoch: offer.epoch,
      kind: ArtifactKind.CHECKPOINT,
      name: cp.name,
      sizeBytes: BigInt(cp.sizeBytes),
      sha256: cp.sha256,
      contentType: CHECKPOINT_CONTENT_TYPE,
    });
    if (started.artifact) return;
    if (started.committedBytes < BigInt(cp.sizeBytes)) await client.uploadChunks(chunksOf(cp.file, started.uploadId, Number(started.committedBytes)), this.halt.signal);
    await client.finishUpload(started.uploadId);
  }

  /**
   * A channel of its own for artifact calls beside the stream (closed after), so a big fetch never
   * queues behind the stream's heartbeats or outlives the session it began in.
   */
  private async withFetchChannel<T>(use: (channel: FetchChannel) => Promise<T>): Promise<T> {
    const client = createFactoryClient(this.coordinators[this.nextCoordinator]!, this.opts.credentials ?? grpc.credentials.createInsecure());
    try {
      return await use({ client, metadata: this.tokens.metadata() });
    } finally {
      client.close();
    }
  }

  /**
   * Keeps a result until it is acknowledged, and sends it: at once, or once `uploaded` settles or
   * the artifact wait runs out, whichever is first (see DEFAULT_ARTIFACT_WAIT_MS). While held, the
   * result is on disk and its lease is listed in heartbeats.
   */
  private async report(result: JobResult, uploaded?: Promise<void>): Promise<void> {
    await this.pending.add(result);
    if (uploaded) {
      const k = `${result.jobId}@${result.epoch}`;
      this.held.add(k);
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.artifactWaitMs ?? DEFAULT_ARTIFACT_WAIT_MS)));
      await Promise.race([uploaded.catch(() => {}), waited]).finally(() => clearTimeout(timer));
      this.held.delete(k);
    }
    this.sendResult(result);
    this.heartbeater?.request();
  }

  /** Writes a result to the current stream, if there is one, noting when (see resendOverdueResults). */
  private sendResult(result: JobResult): void {
    if (this.held.has(`${result.jobId}@${result.epoch}`)) return; // report() sends it when its artifacts are up
    if (this.uplink.sendControl({ case: 'jobResult', value: result })) this.pending.markSent(result, Date.now());
  }

  /** Sends again the results unacknowledged for RESULT_RESEND_HEARTBEATS heartbeat intervals. */
  private resendOverdueResults(): void {
    for (const result of this.pending.sentBefore(Date.now() - RESULT_RESEND_HEARTBEATS * this.heartbeatIntervalMs)) {
      this.log.warn({ jobId: result.jobId, epoch: String(result.epoch) }, 'result not acknowledged on a live stream; sending it again');
      this.sendResult(result);
    }
  }

  private async stop(jobId: string, epoch: bigint, why: 'cancel' | 'preemption', graceMs: number): Promise<void> {
    const job = this.running.get(jobId);
    if (!job || job.epoch !== epoch) return;
    job.stoppedFor = why;
    if (!job.process) {
      job.notYetStarted.abort(new Error(`${why === 'cancel' ? 'cancelled' : 'preempted'} before the job started`));
      return;
    }
    this.log.info({ jobId, epoch: String(epoch), why, graceMs }, 'stopping job');
    await job.process.stop(graceMs, why);
  }

  /** The lease is gone: stop the job quickly and send nothing more about it. */
  private abandon(job: RunningJob, reason: string): void {
    this.log.warn({ jobId: job.jobId, epoch: String(job.epoch), reason }, 'lease revoked; stopping job');
    job.stoppedFor = 'revoked';
    job.notYetStarted.abort(new Error(`lease revoked before the job started: ${reason}`));
    job.batcher?.abandon();
    void job.process?.stop(1_000, 'lease revoked');
    this.running.delete(job.jobId);
  }

  /**
   * Leases to list in hello and heartbeats: running jobs, and finished ones whose result is
   * unacknowledged, as many as the coordinator accepts (running jobs first; results beyond the
   * bound are still sent and resent on their own).
   */
  private heldLeases(): JobRef[] {
    const refs = new Map<string, JobRef>();
    for (const job of this.running.values()) refs.set(job.jobId, create(JobRefSchema, { jobId: job.jobId, epoch: job.epoch }));
    for (const result of this.pending.list()) refs.set(result.jobId, create(JobRefSchema, { jobId: result.jobId, epoch: result.epoch }));
    return [...refs.values()].slice(0, maxListedLeases(this.opts.slots));
  }

  private async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.running.values()].map((job) => job.process?.stop(graceMs, 'agent shutting down')));
  }
}

/** "a:1, b:2" → ["a:1", "b:2"]; at least one address. */
export function parseCoordinators(list: string): string[] {
  const addresses = list.split(',').map((a) => a.trim()).filter(Boolean);
  if (addresses.length === 0) throw new Error(`no coordinator address in "${list}"`);
  return addresses;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

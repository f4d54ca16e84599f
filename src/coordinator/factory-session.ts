/**
 * One factory stream, as a state machine with one setter (STYLE.md):
 *
 *   awaiting_hello ──hello──▶ active ──drain──▶ draining
 *         │                     │                  │
 *         └─────────────────────┴──────────────────┴──▶ closed
 *
 * Messages are handled one at a time in arrival order, so a job's log chunks are stored before its
 * result. Every job-scoped message is fenced: it must name the job's current epoch and a lease held
 * by this factory, otherwise the factory is told `lease_revoked` and nothing changes.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  ConnectResponseSchema,
  GoodbyeReason,
  LeaseExtensionSchema,
  type ConnectRequest,
  type ConnectResponse,
  type Hello,
  type JobRef,
  type JobResult,
  type LeaseExtension,
} from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import type { LogChunk } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { agentSupport, oldestSupportedAgentVersion } from '../domain/agent-version.js';
import { checkHelloScope, mayServeProduct, type FactoryScope } from '../domain/credentials.js';
import { DomainError, invalidArgument } from '../domain/errors.js';
import { isFinal, type JobRecord } from '../domain/job.js';
import { validateCost } from '../domain/budget.js';
import { accept, complete, expire, handedBack, preempted, release, renew, type AttemptReport, type JobChange } from '../domain/lifecycle.js';
import { jobToWire, outcomeFromWire, streamFromWire } from '../api/convert.js';
import type { Logger } from '../logging.js';
import { VERSION } from '../version.js';
import type { Fleet } from './fleet.js';

export interface FactoryIdentity {
  factoryId: string;
  labels: Record<string, string>;
  slots: number;
  agentVersion: string;
}

export type SessionState =
  | { t: 'awaiting_hello' }
  | { t: 'active'; factory: FactoryIdentity }
  | { t: 'draining'; factory: FactoryIdentity }
  | { t: 'closed'; reason: string };

const LEGAL: Record<SessionState['t'], readonly SessionState['t'][]> = {
  awaiting_hello: ['active', 'closed'],
  active: ['draining', 'closed'],
  draining: ['closed'],
  closed: [],
};

/** What the transport gives a session: a way to send, and a way to end the stream. */
export interface SessionLink {
  send(message: ConnectResponse): void;
  /** Ends the stream: cleanly after a goodbye, or with an error status. */
  end(error?: DomainError): void;
}

interface HeldLease {
  epoch: number;
  running: boolean;
  /**
   * The job as this session last wrote it: the first guess for the next write about it (accept,
   * renew, result), which then needs no read when nobody else changed the job meanwhile.
   */
  job?: JobRecord;
}

const FACTORY_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const MAX_SLOTS = 1_024;

export class FactorySession {
  private state: SessionState = { t: 'awaiting_hello' };
  /** Set when the stream carries a factory token: who the factory is and what it may claim and serve. */
  private scope: FactoryScope | null = null;
  /** Leases this factory holds as far as this session knows, by job id. */
  readonly leases = new Map<string, HeldLease>();
  /** Set once welcome is sent (see freeSlots). */
  private welcomed = false;
  lastSeenAt: number;
  readonly connectedAt: number;

  constructor(
    readonly sessionId: string,
    private readonly fleet: Fleet,
    private readonly link: SessionLink,
    private readonly log: Logger,
  ) {
    this.connectedAt = this.lastSeenAt = fleet.clock.now();
  }

  get current(): SessionState {
    return this.state;
  }

  get factory(): FactoryIdentity | null {
    return this.state.t === 'active' || this.state.t === 'draining' ? this.state.factory : null;
  }

  /**
   * Slots not taken by an offer or a running job; zero while draining or closed, and until welcome:
   * while hello is resuming leases, the ones not yet resumed would look like free slots (and an
   * offer would go out before the welcome).
   */
  get freeSlots(): number {
    return this.state.t === 'active' && this.welcomed ? this.state.factory.slots - this.leases.size : 0;
  }

  /** Binds the stream to an authenticated factory; hello must then match it (before hello only). */
  restrictTo(scope: FactoryScope): void {
    if (this.state.t !== 'awaiting_hello') throw new Error(`factory session ${this.sessionId}: scope set after hello`);
    this.scope = scope;
  }

  /** Whether jobs of this product may be offered here (an enrollment may limit the products). */
  mayServe(productId: string): boolean {
    return mayServeProduct(this.scope, productId);
  }

  /** Hands the factory its rotated token; false when the stream is already closed. */
  deliverToken(token: string, previousExpiresAt: number): boolean {
    if (this.state.t === 'closed') return false;
    this.send({ case: 'tokenRotated', value: { factoryToken: token, previousTokenExpireTime: timestampFromMs(previousExpiresAt) } });
    return true;
  }

  async handle(message: ConnectRequest): Promise<void> {
    if (this.state.t === 'closed') return;
    this.lastSeenAt = this.fleet.clock.now();
    const kind = message.kind;
    this.fleet.observer.messageIn(kind.case ?? 'unknown');
    if (this.state.t === 'awaiting_hello') {
      if (kind.case !== 'hello') throw invalidArgument(`the first message on the stream must be hello, not ${kind.case ?? 'an empty message'}`);
      return this.onHello(kind.value);
    }
    switch (kind.case) {
      case 'hello':
        throw invalidArgument('hello was already received on this stream; open a new stream to introduce the factory again');
      case 'heartbeat':
        return this.onHeartbeat(kind.value.sequence, kind.value.runningJobs);
      case 'leaseAccept':
        return this.onAccept(kind.value.jobId, Number(kind.value.epoch));
      case 'leaseDecline':
        return this.onDecline(kind.value.jobId, Number(kind.value.epoch), kind.value.reason);
      case 'logChunk':
        return this.onLogChunk(kind.value);
      case 'jobResult':
        return this.onResult(kind.value);
      case 'preemptionAck':
        return this.giveBack(kind.value.jobId, Number(kind.value.epoch), (job, factoryId, now) => preempted(job, factoryId, Number(kind.value.epoch), now, kind.value.checkpoint.slice(0, 2_000)));
      case 'drain':
        return this.onDrain(kind.value.reason);
      case 'leaseReturn':
        return this.giveBack(kind.value.jobId, Number(kind.value.epoch), (job, factoryId, now) => handedBack(job, factoryId, Number(kind.value.epoch), now, kind.value.reason.slice(0, 2_000)));
      default:
        throw invalidArgument('unknown message kind on the factory stream (is the agent newer than the coordinator?)');
    }
  }

  /** Takes a slot for a job being claimed for this factory; offer() follows once the claim is stored. */
  hold(job: JobRecord): void {
    this.leases.set(job.id, { epoch: job.epoch, running: false, job });
    this.fleet.noteHold(job.id, this);
  }

  /** Frees the slot held for a claim that was not stored (the factory never heard of it). */
  unhold(jobId: string, epoch: number): void {
    this.forget(jobId, epoch);
    this.fleet.forgetHold(jobId, this);
    this.goodbyeIfDrained();
  }

  /** Offers a job this session's factory was just granted (the dispatcher already claimed it). */
  offer(job: JobRecord): void {
    this.hold(job);
    this.send({
      case: 'leaseOffer',
      value: {
        jobId: job.id,
        epoch: BigInt(job.epoch),
        job: jobToWire(job),
        offerExpireTime: timestampFromMs(job.lease!.expiresAt),
      },
    });
  }

  /** The job left this factory (reaped, cancelled before start, superseded): tell it to stop. */
  revoke(jobId: string, epoch: number, reason: string): void {
    this.forget(jobId, epoch);
    this.send({ case: 'leaseRevoked', value: { jobId, epoch: BigInt(epoch), reason } });
  }

  /** Asks the factory to stop a job so a more urgent one can have its slot; it answers preemption_ack. */
  preempt(jobId: string, epoch: number, reason: string): void {
    this.log.info({ jobId, epoch, reason }, 'preempting job');
    this.send({
      case: 'preemptionNotice',
      value: { jobId, epoch: BigInt(epoch), gracePeriod: durationFromMs(this.fleet.settings.preemptionGraceMs), reason },
    });
  }

  /** An operator drains this factory (the same as the factory asking for it). */
  drain(reason: string): Promise<void> {
    return this.onDrain(reason);
  }

  cancel(jobId: string, epoch: number, reason: string): void {
    this.send({
      case: 'cancel',
      value: { jobId, epoch: BigInt(epoch), gracePeriod: durationFromMs(this.fleet.settings.cancelGraceMs), reason },
    });
  }

  /** Sends goodbye and ends the stream. Leases stay in the store until they are resumed or expire. */
  goodbye(reason: GoodbyeReason, message: string): void {
    if (this.state.t === 'closed') return;
    this.send({ case: 'goodbye', value: { reason, message } });
    this.close(`goodbye: ${message}`);
    this.link.end();
  }

  /** Ends the stream with an error status (after close()). */
  end(error?: DomainError): void {
    this.link.end(error);
  }

  /**
   * The stream ended without a goodbye (reset, the factory's process died, a bad message): closes
   * the session and gives the factory the reconnect grace to come back for its leases (see
   * Fleet.shortenLeases). Resolves once the leases are shortened; never rejects.
   */
  broke(reason: string): Promise<void> {
    const factoryId = this.factory?.factoryId;
    if (this.state.t === 'closed' || factoryId === undefined) {
      this.close(reason);
      return Promise.resolve();
    }
    // What this session last wrote for each lease: a later expiry in the store means a new stream renewed it.
    const held = [...this.leases].map(([jobId, lease]) => ({ jobId, epoch: lease.epoch, expiresAt: lease.job?.lease?.expiresAt ?? Infinity }));
    this.close(reason);
    this.log.info({ factoryId, reason, leases: held.length }, 'factory stream broke; its leases lapse after the reconnect grace unless it comes back');
    return this.fleet.shortenLeases(factoryId, held);
  }

  /** The stream is gone (either side). Idempotent. */
  close(reason: string): void {
    if (this.state.t === 'closed') return;
    // Unregister first: unregister finds the factory id through `factory`, which is null once closed.
    this.fleet.unregister(this);
    this.setState({ t: 'closed', reason });
  }

  private async onHello(hello: Hello): Promise<void> {
    if (this.scope) {
      // The token, not hello, says who this is; an empty id means the token's identity.
      const factoryId = hello.factoryId || this.scope.factoryId;
      try {
        checkHelloScope(this.scope, factoryId, hello.labels);
      } catch (err) {
        this.log.warn({ factoryId: this.scope.factoryId, claimed: factoryId, err: (err as Error).message }, 'hello refused: outside the factory token scope');
        throw err;
      }
      hello = { ...hello, factoryId };
    }
    const factory = validateHello(hello);
    this.setState({ t: 'active', factory });
    this.fleet.register(this);
    this.log.info({ factoryId: factory.factoryId, slots: factory.slots, labels: factory.labels, agentVersion: factory.agentVersion, resuming: hello.runningJobs.length }, 'factory connected');
    if (agentSupport(factory.agentVersion, VERSION) === 'outdated') {
      this.log.warn({ factoryId: factory.factoryId, agentVersion: factory.agentVersion, oldestSupported: oldestSupportedAgentVersion(VERSION) }, 'agent is older than the compatibility window: upgrade it');
    }

    const kept: JobRef[] = [];
    const revoked: { ref: JobRef; reason: string }[] = [];
    for (const ref of hello.runningJobs) {
      const reason = await this.tryResume(factory.factoryId, ref.jobId, Number(ref.epoch));
      if (reason) revoked.push({ ref, reason });
      else kept.push(ref);
    }
    await this.expireAbandoned(factory.factoryId);
    const settings = this.fleet.settings;
    this.send({
      case: 'welcome',
      value: {
        sessionId: this.sessionId,
        heartbeatInterval: durationFromMs(settings.heartbeatIntervalMs),
        leaseTtl: durationFromMs(settings.leaseTtlMs),
        keptLeases: kept,
      },
    });
    this.welcomed = true;
    for (const { ref, reason } of revoked) this.send({ case: 'leaseRevoked', value: { jobId: ref.jobId, epoch: ref.epoch, reason } });
    for (const ref of kept) {
      const job = await this.fleet.store.getJob(ref.jobId);
      if (job?.cancelRequestedAt !== null && job?.cancelRequestedAt !== undefined) this.cancel(job.id, job.epoch, job.reason);
    }
    this.fleet.requestDispatch();
  }

  /** Keeps a lease the factory says it still runs, or returns why not. */
  private async tryResume(factoryId: string, jobId: string, epoch: number): Promise<string | null> {
    const now = this.fleet.clock.now();
    try {
      const resumed = await this.fleet.jobs.mutate(jobId, (job) => renew(job, factoryId, epoch, now, this.fleet.settings));
      this.fleet.scheduling.track(resumed); // renewals publish no event: a restarted coordinator learns its leases here
      this.leases.set(jobId, { epoch, running: true, job: resumed });
      return null;
    } catch (err) {
      return refusalReason(err);
    }
  }

  /** Jobs the store says this factory holds but hello did not list: the factory lost them. */
  private async expireAbandoned(factoryId: string): Promise<void> {
    for (const job of await this.fleet.store.listLeasedTo(factoryId)) {
      if (this.leases.has(job.id)) continue;
      const epoch = job.epoch;
      await this.fleet.jobs
        .mutate(job.id, (j) => (j.epoch === epoch && j.lease?.factoryId === factoryId ? expire(j, this.fleet.clock.now(), this.fleet.settings.retryBackoff, this.fleet.random(), 'factory reconnected without the job') : null))
        .catch((err: unknown) => this.log.warn({ err, jobId: job.id }, 'could not requeue abandoned job'));
    }
  }

  private async onHeartbeat(sequence: bigint, running: readonly JobRef[]): Promise<void> {
    const factoryId = this.factory!.factoryId;
    const extensions: LeaseExtension[] = [];
    const now = this.fleet.clock.now();
    for (const ref of running) {
      const epoch = Number(ref.epoch);
      const held = this.leases.get(ref.jobId);
      if (!held || held.epoch !== epoch) {
        this.revoke(ref.jobId, epoch, 'this factory does not hold that lease');
        continue;
      }
      if (!held.running) continue; // an offer not yet accepted has nothing to renew
      try {
        const job = await this.fleet.jobs.mutate(ref.jobId, (j) => renew(j, factoryId, epoch, now, this.fleet.settings), held.job);
        this.remember(job);
        extensions.push(create(LeaseExtensionSchema, { jobId: ref.jobId, epoch: ref.epoch, expireTime: timestampFromMs(job.lease!.expiresAt) }));
        // A cancel requested on another replica (or lost with a broken stream) reaches the factory here.
        if (job.cancelRequestedAt !== null) this.cancel(job.id, epoch, job.reason);
      } catch (err) {
        await this.refuse(ref.jobId, epoch, ...refusal(err));
      }
    }
    this.send({ case: 'heartbeatAck', value: { sequence, extensions } });
  }

  private async onAccept(jobId: string, epoch: number): Promise<void> {
    const factoryId = this.factory!.factoryId;
    try {
      const accepted = await this.fleet.jobs.mutate(jobId, (job) => accept(job, factoryId, epoch, this.fleet.clock.now(), this.fleet.settings), this.known(jobId, epoch));
      this.leases.set(jobId, { epoch, running: true, job: accepted });
    } catch (err) {
      await this.refuse(jobId, epoch, ...refusal(err));
    }
  }

  private async onDecline(jobId: string, epoch: number, reason: string): Promise<void> {
    this.forget(jobId, epoch);
    await this.fleet.jobs
      .mutate(jobId, (job) => release(job, epoch, this.fleet.clock.now(), 'declined', reason || 'declined by the factory'))
      .catch((err: unknown) => this.log.debug({ err, jobId }, 'decline of a lease already gone'));
    this.fleet.requestDispatch();
    this.goodbyeIfDrained();
  }

  private async onLogChunk(chunk: LogChunk): Promise<void> {
    const epoch = Number(chunk.epoch);
    const stream = streamFromWire(chunk.stream);
    if (!stream) throw invalidArgument(`log_chunk.stream must be LOG_STREAM_STDOUT or LOG_STREAM_STDERR (job ${chunk.jobId})`);
    if (chunk.data.length > this.fleet.settings.maxLogChunkBytes) {
      throw new DomainError('resource_exhausted', `log_chunk for job ${chunk.jobId} is ${chunk.data.length} bytes; at most ${this.fleet.settings.maxLogChunkBytes} are allowed`);
    }
    if (chunk.sequence < 0n) throw invalidArgument(`log_chunk.sequence must not be negative (job ${chunk.jobId})`);
    const held = this.leases.get(chunk.jobId);
    if (!held || held.epoch !== epoch) return this.refuseOnce(chunk.jobId, epoch, 'this factory does not hold that lease');
    const record = { jobId: chunk.jobId, epoch, sequence: Number(chunk.sequence), stream, data: chunk.data, at: this.fleet.clock.now() };
    const outcome = await this.fleet.store.appendLog(record);
    if (outcome === 'stored') this.fleet.feed.publishLog(record);
    else if (outcome === 'stale_epoch' || outcome === 'not_found') await this.refuse(chunk.jobId, epoch, outcome, `log refused: ${outcome.replace('_', ' ')}`);
  }

  private async onResult(result: JobResult): Promise<void> {
    const factoryId = this.factory!.factoryId;
    const epoch = Number(result.epoch);
    const report = reportFrom(result);
    const ack = (): void => this.send({ case: 'resultAck', value: { jobId: result.jobId, epoch: result.epoch } });
    try {
      await this.fleet.jobs.mutate(
        result.jobId,
        (job) => {
          if (alreadyRecorded(job, factoryId, epoch)) return null;
          return complete(job, factoryId, epoch, report, this.fleet.clock.now(), this.fleet.settings.retryBackoff, this.fleet.random());
        },
        this.known(result.jobId, epoch),
      );
      this.leases.delete(result.jobId);
      ack();
      this.fleet.requestDispatch();
      this.goodbyeIfDrained(); // a draining factory's last result ends its stream
    } catch (err) {
      await this.refuse(result.jobId, epoch, ...refusal(err));
    }
  }

  /**
   * The factory stopped a running job and gives its lease back, after a preemption notice
   * (preemption_ack) or because it is shutting down (lease_return): `transition` says what becomes
   * of the job; neither uses up an attempt.
   */
  private async giveBack(jobId: string, epoch: number, transition: (job: JobRecord, factoryId: string, now: number) => JobChange): Promise<void> {
    const held = this.leases.get(jobId);
    if (!held || held.epoch !== epoch) return this.refuseOnce(jobId, epoch, 'this factory does not hold that lease');
    const factoryId = this.factory!.factoryId;
    try {
      await this.fleet.jobs.mutate(jobId, (job) => transition(job, factoryId, this.fleet.clock.now()));
      this.forget(jobId, epoch);
    } catch (err) {
      await this.refuse(jobId, epoch, ...refusal(err));
    }
    this.goodbyeIfDrained();
    this.fleet.requestDispatch();
  }

  private async onDrain(reason: string): Promise<void> {
    const factory = this.factory!;
    if (this.state.t === 'active') this.setState({ t: 'draining', factory });
    this.log.info({ factoryId: factory.factoryId, reason }, 'factory draining');
    // Offers not yet accepted go back to the queue at once.
    for (const [jobId, held] of [...this.leases]) {
      if (!held.running) await this.onDecline(jobId, held.epoch, 'factory is draining');
    }
    this.goodbyeIfDrained();
  }

  /** A draining factory with nothing left is told goodbye. */
  goodbyeIfDrained(): void {
    if (this.state.t === 'draining' && this.leases.size === 0) this.goodbye(GoodbyeReason.DRAINED, 'drained');
  }

  /** The record this session last wrote for the lease on `jobId` under `epoch`, if it holds that lease. */
  private known(jobId: string, epoch: number): JobRecord | undefined {
    const held = this.leases.get(jobId);
    return held?.epoch === epoch ? held.job : undefined;
  }

  /** Keeps the record just written as the next first guess, while the lease is still held under its epoch. */
  private remember(job: JobRecord): void {
    const held = this.leases.get(job.id);
    if (held?.epoch === job.epoch) held.job = job;
  }

  /**
   * Drops the lease on `jobId` only if it is held under `epoch`: a late message about an older epoch
   * must not make the session forget a newer lease on the same job (it would free a slot that is
   * taken and stop telling the factory about that lease).
   */
  private forget(jobId: string, epoch: number): void {
    if (this.leases.get(jobId)?.epoch === epoch) this.leases.delete(jobId);
  }

  private refuseOnce(jobId: string, epoch: number, reason: string): void {
    this.fleet.observer.refused('not_holder');
    this.send({ case: 'leaseRevoked', value: { jobId, epoch: BigInt(epoch), reason } });
  }

  /**
   * A message about a job was refused. The factory is told its lease is gone; if the store still
   * shows this factory holding that epoch (it broke the protocol, say a result before accepting),
   * the lease is ended now so the job does not sit idle until its TTL.
   */
  private async refuse(jobId: string, epoch: number, code: string, reason: string): Promise<void> {
    this.fleet.observer.refused(code);
    this.revoke(jobId, epoch, reason);
    const factoryId = this.factory?.factoryId;
    await this.fleet.jobs
      .mutate(jobId, (job) =>
        job.lease?.factoryId === factoryId && job.lease?.epoch === epoch
          ? expire(job, this.fleet.clock.now(), this.fleet.settings.retryBackoff, this.fleet.random(), `lease ended after a refused message: ${reason}`)
          : null,
      )
      .catch((err: unknown) => {
        if (!(err instanceof DomainError)) throw err;
      });
    this.fleet.requestDispatch();
    this.goodbyeIfDrained();
  }

  private send(kind: NonNullable<MessageInitShape<typeof ConnectResponseSchema>['kind']>): void {
    if (this.state.t === 'closed') return;
    this.fleet.observer.messageOut(kind.case ?? 'unknown');
    this.link.send(create(ConnectResponseSchema, { kind }));
  }

  private setState(next: SessionState): void {
    if (!LEGAL[this.state.t].includes(next.t)) {
      throw new Error(`factory session ${this.sessionId}: illegal transition ${this.state.t} → ${next.t}`);
    }
    this.state = next;
  }
}

function validateHello(hello: Hello): FactoryIdentity {
  if (!hello.factoryId) throw invalidArgument('hello.factory_id is required');
  if (!FACTORY_ID.test(hello.factoryId)) throw invalidArgument(`hello.factory_id "${hello.factoryId}" must be 1-128 characters of letters, digits, ".", "_", ":", "@" or "-"`);
  if (!Number.isInteger(hello.slots) || hello.slots < 1 || hello.slots > MAX_SLOTS) {
    throw invalidArgument(`hello.slots ${hello.slots} must be from 1 to ${MAX_SLOTS}`);
  }
  for (const ref of hello.runningJobs) {
    if (!ref.jobId) throw invalidArgument('hello.running_jobs[].job_id is required');
  }
  return { factoryId: hello.factoryId, labels: { ...hello.labels }, slots: hello.slots, agentVersion: hello.agentVersion };
}

function reportFrom(result: JobResult): AttemptReport {
  const outcome = outcomeFromWire(result.outcome);
  if (outcome !== 'succeeded' && outcome !== 'failed' && outcome !== 'timed_out' && outcome !== 'cancelled') {
    throw invalidArgument(`job_result.outcome for job ${result.jobId} must be SUCCEEDED, FAILED, TIMED_OUT or CANCELLED`);
  }
  const cost = validateCost(result.cost, `job_result.cost for job ${result.jobId}`);
  return { outcome, exitCode: result.exitCode ?? null, message: result.message.slice(0, 2_000), ...(cost > 0 ? { cost } : {}) };
}

/** Attempt outcomes only a factory's result sets. */
const REPORTED_OUTCOMES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

/**
 * A result for an epoch whose outcome this factory already reported and we stored: a resend after a
 * lost ack. Not an attempt that ended otherwise (offer released or expired, cancelled before it
 * started, preempted): acknowledging a result there would tell the factory it was recorded when it
 * was not.
 */
function alreadyRecorded(job: JobRecord, factoryId: string, epoch: number): boolean {
  const attempt = job.attempts.find((a) => a.epoch === epoch);
  return (
    job.epoch === epoch &&
    attempt !== undefined &&
    attempt.factoryId === factoryId &&
    attempt.startedAt !== null &&
    attempt.outcome !== null &&
    REPORTED_OUTCOMES.has(attempt.outcome) &&
    // Where a recorded result can leave a job: ended, retrying, awaiting review, or waiting for children.
    (isFinal(job.stage) || job.stage === 'queued' || job.stage === 'awaiting_review' || job.stage === 'blocked')
  );
}

function refusalReason(err: unknown): string {
  return refusal(err)[1];
}

/** A DomainError as (code, message); anything else is a fault and propagates. */
function refusal(err: unknown): [string, string] {
  if (err instanceof DomainError) return [err.code, err.message];
  throw err;
}

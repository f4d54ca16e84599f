/**
 * One factory stream, as a state machine with one setter (STYLE.md):
 *
 *   awaiting_hello ──hello──▶ active ──drain──▶ draining
 *         │                     │                  │
 *         └─────────────────────┴──────────────────┴──▶ closed
 *
 * It translates: a factory's messages into lease-book events (Leases, which decides and writes), and
 * the book's notices into messages. It keeps no lease state of its own. Every job-scoped message is
 * fenced there: it must name a lease this factory holds under exactly that epoch, otherwise the
 * factory is told `lease_revoked` and nothing changes.
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
import type { LogChunkRecord } from '../domain/job.js';
import { validateCost } from '../domain/budget.js';
import { maxListedLeases, type FactoryNotice } from '../domain/lease-book.js';
import type { AttemptReport } from '../domain/lifecycle.js';
import { jobToWire, outcomeFromWire, streamFromWire } from './convert.js';
import type { Logger } from '../logging.js';
import { VERSION } from '../version.js';
import type { Farewell, FactoryIdentity, FactoryLink, SessionHost, SessionRegistry, SessionState } from '../coordinator/factory-link.js';

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

/** The wire form of each farewell. */
const GOODBYE_REASONS: Record<Farewell, GoodbyeReason> = {
  shutdown: GoodbyeReason.SHUTDOWN,
  drained: GoodbyeReason.DRAINED,
  revoked: GoodbyeReason.REVOKED,
  replaced: GoodbyeReason.REPLACED,
  max_age: GoodbyeReason.MAX_AGE,
  heartbeat_timeout: GoodbyeReason.HEARTBEAT_TIMEOUT,
};

const FACTORY_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const MAX_SLOTS = 1_024;

function checkListedLeases(what: 'hello' | 'heartbeat', listed: number, slots: number): void {
  const max = maxListedLeases(slots);
  if (listed > max) throw invalidArgument(`${what} lists ${listed} jobs; a factory with ${slots} slot${slots === 1 ? '' : 's'} may list at most ${max} (its running jobs and unacknowledged results)`);
}

export class FactorySession implements FactoryLink {
  private state: SessionState = { t: 'awaiting_hello' };
  /** Set when the stream carries a factory token: who the factory is and what it may claim and serve. */
  private scope: FactoryScope | null = null;
  lastSeenAt: number;
  readonly connectedAt: number;

  constructor(
    readonly sessionId: string,
    private readonly host: SessionHost,
    private readonly link: SessionLink,
    private readonly log: Logger,
  ) {
    this.connectedAt = this.lastSeenAt = host.clock.now();
  }

  get current(): SessionState {
    return this.state;
  }

  get factory(): FactoryIdentity | null {
    return this.state.t === 'active' || this.state.t === 'draining' ? this.state.factory : null;
  }

  /** Slots the lease book shows free: none while draining, closed, silent or before welcome. */
  get freeSlots(): number {
    return this.state.t === 'active' ? this.host.leases.book.freeSlots(this.state.factory.factoryId) : 0;
  }

  /** The jobs this factory holds leases on, as the lease book shows them. */
  jobIds(): string[] {
    const factoryId = this.factory?.factoryId;
    const entry = factoryId === undefined ? undefined : this.host.leases.book.factories.get(factoryId);
    return entry?.sessionId === this.sessionId ? [...entry.jobs] : [];
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
    this.lastSeenAt = this.host.clock.now();
    const kind = message.kind;
    this.host.observer.messageIn(kind.case ?? 'unknown');
    if (this.state.t === 'awaiting_hello') {
      if (kind.case !== 'hello') throw invalidArgument(`the first message on the stream must be hello, not ${kind.case ?? 'an empty message'}`);
      return this.onHello(kind.value);
    }
    const factoryId = this.state.factory.factoryId;
    const leases = this.host.leases;
    switch (kind.case) {
      case 'hello':
        throw invalidArgument('hello was already received on this stream; open a new stream to introduce the factory again');
      case 'heartbeat':
        checkListedLeases('heartbeat', kind.value.runningJobs.length, this.state.factory.slots);
        return this.onHeartbeat(factoryId, kind.value.sequence, kind.value.runningJobs);
      case 'leaseAccept':
        return leases.apply({ t: 'accept', factoryId, jobId: kind.value.jobId, epoch: Number(kind.value.epoch) });
      case 'leaseDecline':
        return leases.apply({ t: 'decline', factoryId, jobId: kind.value.jobId, epoch: Number(kind.value.epoch), reason: kind.value.reason });
      case 'logChunk':
        return leases.apply({ t: 'log', factoryId, jobId: kind.value.jobId, epoch: Number(kind.value.epoch), chunk: this.chunkFrom(kind.value) });
      case 'jobResult': {
        const result = kind.value;
        return leases.apply({ t: 'result', factoryId, jobId: result.jobId, epoch: Number(result.epoch), report: reportFrom(result) });
      }
      case 'costReport': {
        const total = validateCost(kind.value.totalCost, `cost_report.total_cost for job ${kind.value.jobId}`);
        return leases.apply({ t: 'cost', factoryId, jobId: kind.value.jobId, epoch: Number(kind.value.epoch), total });
      }
      case 'preemptionAck':
        return leases.apply({ t: 'preemption_ack', factoryId, jobId: kind.value.jobId, epoch: Number(kind.value.epoch), checkpoint: kind.value.checkpoint });
      case 'drain':
        return this.drain(kind.value.reason);
      case 'leaseReturn':
        // A running job handed back (a shutting-down agent): to the lease book, a decline after accept.
        return leases.apply({ t: 'decline', factoryId, jobId: kind.value.jobId, epoch: Number(kind.value.epoch), reason: kind.value.reason.slice(0, 2_000) || 'shutting down' });
      default:
        throw invalidArgument('unknown message kind on the factory stream (is the agent newer than the coordinator?)');
    }
  }

  /** A notice from the lease book, in its wire form. */
  notify(notice: FactoryNotice): void {
    switch (notice.t) {
      case 'offer':
        this.send({
          case: 'leaseOffer',
          value: {
            jobId: notice.job.id,
            epoch: BigInt(notice.job.epoch),
            job: jobToWire(notice.job),
            offerExpireTime: timestampFromMs(notice.job.lease!.expiresAt),
            leaseToken: this.host.leaseKeys.issue(notice.job),
          },
        });
        return;
      case 'revoke':
        this.send({ case: 'leaseRevoked', value: { jobId: notice.jobId, epoch: BigInt(notice.epoch), reason: notice.reason } });
        return;
      case 'cancel':
        this.send({ case: 'cancel', value: { jobId: notice.jobId, epoch: BigInt(notice.epoch), gracePeriod: durationFromMs(notice.graceMs), reason: notice.reason } });
        return;
      case 'preempt':
        this.log.info({ jobId: notice.jobId, epoch: notice.epoch, reason: notice.reason }, 'preempting job');
        this.send({ case: 'preemptionNotice', value: { jobId: notice.jobId, epoch: BigInt(notice.epoch), gracePeriod: durationFromMs(notice.graceMs), reason: notice.reason } });
        return;
      case 'result_ack':
        this.send({ case: 'resultAck', value: { jobId: notice.jobId, epoch: BigInt(notice.epoch) } });
        return;
    }
  }

  /** A draining factory holds nothing more: goodbye. */
  drained(): void {
    if (this.state.t === 'draining') this.goodbye('drained', 'drained');
  }

  /** The factory, or an operator, drains it: no new offers; goodbye once its jobs are done. */
  async drain(reason: string): Promise<void> {
    const factory = this.factory;
    if (!factory) return;
    if (this.state.t === 'active') this.setState({ t: 'draining', factory });
    this.log.info({ factoryId: factory.factoryId, reason }, 'factory draining');
    await this.host.leases.apply({ t: 'drain', factoryId: factory.factoryId });
  }

  /** Sends goodbye and ends the stream. Leases stay in the store until they are resumed or expire. */
  goodbye(reason: Farewell, message: string): void {
    if (this.state.t === 'closed') return;
    this.send({ case: 'goodbye', value: { reason: GOODBYE_REASONS[reason], message } });
    this.close(`goodbye: ${message}`);
    this.link.end();
  }

  /** Ends the stream with an error status (after close()). */
  end(error?: DomainError): void {
    this.link.end(error);
  }

  /**
   * The stream ended without a goodbye (reset, the factory's process died, a bad message): closes
   * the session and gives the factory the reconnect grace to come back for its leases. Resolves
   * once the leases are shortened; never rejects.
   */
  async broke(reason: string): Promise<void> {
    const factoryId = this.factory?.factoryId;
    const held = this.jobIds().length;
    this.close(reason);
    if (factoryId === undefined) return;
    this.log.info({ factoryId, reason, leases: held }, 'factory stream broke; its leases lapse after the reconnect grace unless it comes back');
    const until = this.host.clock.now() + this.host.settings.reconnectGraceMs;
    await this.host.leases.apply({ t: 'broke', factoryId, sessionId: this.sessionId, until }).catch((err: unknown) => this.log.error({ err, factoryId }, 'could not shorten the leases of a broken stream'));
    if (held > 0) this.host.wakeReaperAt(until);
  }

  /** The stream is gone (either side). Idempotent. */
  close(reason: string): void {
    if (this.state.t === 'closed') return;
    // Unregister first: unregister finds the factory id through `factory`, which is null once closed.
    this.host.unregister(this);
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
    const { factoryId } = factory;
    this.setState({ t: 'active', factory });
    this.host.register(this);
    this.log.info({ factoryId, slots: factory.slots, labels: factory.labels, agentVersion: factory.agentVersion, resuming: hello.runningJobs.length }, 'factory connected');
    if (agentSupport(factory.agentVersion, VERSION) === 'outdated') {
      this.log.warn({ factoryId, agentVersion: factory.agentVersion, oldestSupported: oldestSupportedAgentVersion(VERSION) }, 'agent is older than the compatibility window: upgrade it');
    }
    const leases = this.host.leases;
    const resumed = hello.runningJobs.map((ref) => ({ jobId: ref.jobId, epoch: Number(ref.epoch) }));
    await leases.apply({ t: 'hello', factoryId, sessionId: this.sessionId, slots: factory.slots, resumed });
    // Jobs the store says this factory holds but hello did not list: the factory lost them.
    for (const job of await this.host.listLeasedTo(factoryId)) {
      if (job.lease && !this.holds(job.id, job.lease.epoch)) await leases.apply({ t: 'lost', factoryId, jobId: job.id, epoch: job.lease.epoch });
    }
    const settings = this.host.settings;
    this.send({
      case: 'welcome',
      value: {
        sessionId: this.sessionId,
        heartbeatInterval: durationFromMs(settings.heartbeatIntervalMs),
        leaseTtl: durationFromMs(settings.leaseTtlMs),
        keptLeases: hello.runningJobs.filter((ref) => this.holds(ref.jobId, Number(ref.epoch))),
      },
    });
    await leases.apply({ t: 'ready', factoryId, sessionId: this.sessionId });
  }

  /** Whether the lease book shows this factory holding the lease on `jobId` under `epoch`. */
  private holds(jobId: string, epoch: number): boolean {
    const lease = this.host.leases.book.lease(jobId);
    return lease !== undefined && lease.factoryId === this.factory?.factoryId && lease.epoch === epoch;
  }

  private async onHeartbeat(factoryId: string, sequence: bigint, running: readonly JobRef[]): Promise<void> {
    const refs = running.map((ref) => ({ jobId: ref.jobId, epoch: Number(ref.epoch) }));
    await this.host.leases.apply({ t: 'heartbeat', factoryId, running: refs });
    const extensions: LeaseExtension[] = [];
    for (const ref of refs) {
      const lease = this.host.leases.book.lease(ref.jobId);
      const expiresAt = lease?.job?.lease?.expiresAt;
      if (lease?.factoryId === factoryId && lease.epoch === ref.epoch && lease.phase === 'running' && expiresAt !== undefined) {
        extensions.push(create(LeaseExtensionSchema, { jobId: ref.jobId, epoch: BigInt(ref.epoch), expireTime: timestampFromMs(expiresAt) }));
      }
    }
    this.send({ case: 'heartbeatAck', value: { sequence, extensions } });
  }

  private chunkFrom(chunk: LogChunk): LogChunkRecord {
    const stream = streamFromWire(chunk.stream);
    if (!stream) throw invalidArgument(`log_chunk.stream must be LOG_STREAM_STDOUT or LOG_STREAM_STDERR (job ${chunk.jobId})`);
    const max = this.host.settings.maxLogChunkBytes;
    if (chunk.data.length > max) throw new DomainError('resource_exhausted', `log_chunk for job ${chunk.jobId} is ${chunk.data.length} bytes; at most ${max} are allowed`);
    if (chunk.sequence < 0n) throw invalidArgument(`log_chunk.sequence must not be negative (job ${chunk.jobId})`);
    return { jobId: chunk.jobId, epoch: Number(chunk.epoch), sequence: Number(chunk.sequence), stream, data: chunk.data, at: this.host.clock.now() };
  }

  private send(kind: NonNullable<MessageInitShape<typeof ConnectResponseSchema>['kind']>): void {
    if (this.state.t === 'closed') return;
    this.host.observer.messageOut(kind.case ?? 'unknown');
    this.link.send(create(ConnectResponseSchema, { kind }));
  }

  private setState(next: SessionState): void {
    if (!LEGAL[this.state.t].includes(next.t)) {
      throw new Error(`factory session ${this.sessionId}: illegal transition ${this.state.t} → ${next.t}`);
    }
    this.state = next;
  }
}

/** A new stream's session, registered with the fleet (which closes it if no hello comes in time). */
export function openSession(fleet: SessionHost & SessionRegistry, link: SessionLink, log: Logger): FactorySession {
  const sessionId = fleet.newSessionId();
  const session = new FactorySession(sessionId, fleet, link, log.child({ sessionId }));
  fleet.open(session);
  return session;
}

function validateHello(hello: Hello): FactoryIdentity {
  if (!hello.factoryId) throw invalidArgument('hello.factory_id is required');
  if (!FACTORY_ID.test(hello.factoryId)) throw invalidArgument(`hello.factory_id "${hello.factoryId}" must be 1-128 characters of letters, digits, ".", "_", ":", "@" or "-"`);
  if (!Number.isInteger(hello.slots) || hello.slots < 1 || hello.slots > MAX_SLOTS) {
    throw invalidArgument(`hello.slots ${hello.slots} must be from 1 to ${MAX_SLOTS}`);
  }
  checkListedLeases('hello', hello.runningJobs.length, hello.slots);
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


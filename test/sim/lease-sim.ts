/**
 * A deterministic simulation of the factory lease protocol.
 *
 * The real coordinator (Fleet, FactorySession, the lease book, Jobs over MemoryJobStore) runs
 * unchanged; only time and randomness are fake. Simulated factories talk to it the way the
 * transport does: a factory's messages are read in order into the stream's real MessageLanes
 * (api/message-lanes.ts), which hand them to `session.handle`; the coordinator's go through the
 * session's link into the factory's inbox. Messages take random time to arrive (so different
 * streams reorder), some are lost, and factories crash, lose their streams (the coordinator then
 * gives their leases only the reconnect grace), get partitioned, ignore
 * revocations (zombies), resend and duplicate results. Everything is driven from one seed.
 *
 * Each step advances the clock to the next scheduled event, runs the events due, then lets the
 * coordinator do all the work they caused — messages of different sessions, reaper ticks, job
 * submissions and dispatch passes interleave at microtask granularity in a seeded order — until it
 * is idle, and checks the invariants. A job-scoped message whose epoch is already stale when it is
 * delivered is handled alone, so it can be proven not to have changed its job.
 *
 * After the chaos phase, failures stop (partitions heal, crashed factories return, nothing is lost)
 * and the simulation runs until every job is final, or queued for labels no factory has.
 *
 * What is checked (a violation fails the seed):
 * - every write the coordinator makes (seen through a tap on the store): revision +1, epoch never
 *   down, a final job never changes, a lease shortened only to the reconnect grace's end, a lease
 *   exactly when leased/running and naming a factory of
 *   the fleet at the job's epoch, attempts in epoch order, attemptCount <= maxAttempts, at most one
 *   succeeded attempt, and every factory-reported outcome is one that factory produced for that epoch;
 * - every acknowledged submit is in the store (every 25th step and at the end, every job is read back);
 * - a result_ack is sent only for a result that is recorded, and a deciding one (succeeded,
 *   cancelled) only for the job's last attempt;
 * - a message with a stale epoch (result, log, accept, decline, renewal) changes nothing: its job
 *   and logs are byte-identical before and after; welcome never keeps a stale lease from hello;
 * - a message about a lease another factory holds (accept, decline, lease_return, heartbeat, log,
 *   result, preemption ack; injected from a generator of its own) changes nothing and is answered
 *   lease_revoked, and nothing else;
 * - a factory whose running lease the reaper ended because it went silent is offered nothing until
 *   a message from it arrives (the job is requeued for the others at once, by that write);
 * - a cancel is never lost: a job whose cancel was requested is never queued or offered again;
 * - once a cancel or preemption notice is sent, the job no longer runs under that lease after the
 *   grace (plus a reaper interval), whatever the factory does, unless that stream broke;
 * - offers go only to factories whose labels pass, each under a new epoch, never beyond free slots;
 *   a lease_revoked is sent only for a lease the store no longer gives that factory;
 * - session.handle and the fleet's feed handler never throw; the event history of each job is one
 *   chain of transitions; and, once failures stop, everything finishes (liveness).
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { pino } from 'pino';
import {
  ConnectRequestSchema,
  type ConnectRequest,
  type ConnectResponse,
  type JobRef,
} from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { laneOf, MessageLanes } from '../../src/api/message-lanes.js';
import type { Clock } from '../../src/coordinator/clock.js';
import { openSession, type FactorySession } from '../../src/api/factory-session.js';
import { Fleet } from '../../src/coordinator/fleet.js';
import { JobFeed } from '../../src/coordinator/job-feed.js';
import { Jobs } from '../../src/coordinator/jobs.js';
import type { FleetSettings } from '../../src/coordinator/lease-settings.js';
import { DomainError } from '../../src/domain/errors.js';
import { isFinal, type JobRecord, type JobSpec, type LabelRequirement } from '../../src/domain/job.js';
import { meetsRequirements } from '../../src/domain/labels.js';
import { maxListedLeases } from '../../src/domain/lease-book.js';
import type { JobStore } from '../../src/store/job-store.js';
import { MemoryJobStore } from '../../src/store/memory/memory-store.js';
import { resetIdBytes } from './deterministic-ids.js';
import { EventQueue } from './event-queue.js';
import { Rng } from './prng.js';

const T0 = 1_760_000_000_000;
const SILENT = pino({ level: 'silent' });
/** Every simulated time is a multiple of this, so events coincide and their work interleaves. */
const Q = 10;

type Outcome = 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
const OUTCOME_TO_WIRE: Record<Outcome, AttemptOutcome> = {
  succeeded: AttemptOutcome.SUCCEEDED,
  failed: AttemptOutcome.FAILED,
  timed_out: AttemptOutcome.TIMED_OUT,
  cancelled: AttemptOutcome.CANCELLED,
};
/** Attempt outcomes that only a factory's result can set. */
const REPORTED: ReadonlySet<string> = new Set<Outcome>(['succeeded', 'failed', 'timed_out', 'cancelled']);

type RequestKind = NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>;

export interface SimOptions {
  seed: number;
  /** Record a human-readable trace (slower); used to explain a failing seed. */
  trace?: boolean;
}

export interface SimStats {
  steps: number;
  simMs: number;
  jobs: number;
  finalJobs: number;
  messages: number;
  dropped: number;
  crashes: number;
  streamBreaks: number;
  /** Leases brought in to the reconnect grace after their factory's stream broke. */
  leasesShortened: number;
  partitions: number;
  zombieRevokes: number;
  staleChecked: number;
  resultAcks: number;
  duplicateResults: number;
  offers: number;
  preemptions: number;
  /** Running jobs a draining factory gave back (lease_return) at its drain timeout. */
  handBacks: number;
  /** Running leases the reaper ended because their factory went silent on an open stream. */
  silentLapses: number;
  /** Messages about a lease another factory holds, handled alone and checked. */
  foreignChecked: number;
}

export interface SimReport {
  seed: number;
  failure: string | null;
  stats: SimStats;
  trace: string[];
}

/** The timings and fault rates one seed runs with. */
interface Params {
  settings: FleetSettings;
  chaosMs: number;
  calmMaxMs: number;
  factories: number;
  jobs: number;
  /** Usual one-way message delay, in quanta. */
  maxDelayQ: number;
  /** Chance of a slow message, and how slow it can be (quanta). */
  pSlow: number;
  slowMaxQ: number;
  pDrop: number;
  pDecline: number;
  pIgnoreOffer: number;
  pZombie: number;
  pDuplicate: number;
  /** Longest job run, in ms. */
  maxRunMs: number;
  /** Extra dispatch requests on a timer (0: none). */
  pollMs: number;
}

interface Conn {
  id: number;
  factory: SimFactory;
  session: FactorySession;
  /** The stream is gone from the factory's point of view: anything still in flight is lost. */
  broken: boolean;
  /** Delivery times of the last message each way (each direction is FIFO). */
  upAt: number;
  downAt: number;
  /** Arrived at the coordinator, waiting to be handled (in order). */
  inbox: ConnectRequest[];
  /** The transport's real MessageLanes for this stream: the order its messages are handled in. */
  lanes: MessageLanes;
  /** Refs the hello listed that were already stale when it arrived: welcome must not keep them. */
  helloStale: Set<string>;
  welcomed: boolean;
}

interface RunningJob {
  key: string;
  jobId: string;
  epoch: number;
  outcome: Outcome;
  exitCode: number | null;
  logSeq: number;
  cancelNoticed: boolean;
}

interface PendingResult {
  key: string;
  jobId: string;
  epoch: number;
  outcome: Outcome;
  exitCode: number | null;
  lastSentAt: number;
}

class SimFactory {
  up = true;
  conn: Conn | null = null;
  draining = false;
  partitionedUntil = 0;
  reconnectScheduled = false;
  heartbeatSeq = 0n;
  readonly running = new Map<string, RunningJob>();
  readonly pending = new Map<string, PendingResult>();

  constructor(
    readonly id: string,
    readonly labels: Record<string, string>,
    readonly slots: number,
  ) {}
}

interface Seen {
  epoch: number;
  revision: number;
  stage: JobRecord['stage'];
  /** When its lease (if any) ran out. */
  leaseExpiresAt: number | null;
  /** The factory its lease (if any) is held by. */
  holder: string | null;
}

interface Ref {
  jobId: string;
  epoch: number;
}

const key = (jobId: string, epoch: number | bigint): string => `${jobId}@${epoch}`;

/** Requirements jobs may carry; the last one no factory ever has. */
const REQUIREMENTS: LabelRequirement[][] = [
  [{ key: 'os', operator: 'equals', values: ['linux'] }],
  [{ key: 'os', operator: 'in', values: ['mac', 'windows'] }],
  [{ key: 'cpus', operator: 'gte', values: ['8'] }],
  [{ key: 'cpus', operator: 'lte', values: ['4'] }],
  [{ key: 'gpu', operator: 'exists', values: [] }],
  [{ key: 'gpu', operator: 'not_exists', values: [] }, { key: 'os', operator: 'not_in', values: ['mac'] }],
  [{ key: 'os', operator: 'equals', values: ['solaris'] }],
];

export async function runSim(options: SimOptions): Promise<SimReport> {
  const sim = new LeaseSim(options);
  return sim.run();
}

class LeaseSim {
  private readonly seed: number;
  private readonly rng: Rng;
  private readonly params: Params;
  private readonly clock: Clock & { t: number } = {
    t: T0,
    now() {
      return this.t;
    },
  };
  private readonly store = new MemoryJobStore();
  /** Each job's epoch as of its last successful write. */
  private readonly epochs = new Map<string, number>();
  /** The store the coordinator uses: this one, with a tap that checks every write as it lands. */
  private readonly coordinatorStore = tapWrites(this.store, (job, inserted) => this.onWrite(job, inserted));
  private readonly feed = new JobFeed();
  private readonly jobs: Jobs;
  private readonly fleet: Fleet;
  private readonly agenda = new EventQueue();
  private readonly dispatchQueue: (() => void)[] = [];
  private readonly ops: { name: string; run: () => Promise<unknown> }[] = [];
  private readonly busy = new Set<Conn>();
  private readonly factories: SimFactory[] = [];
  private readonly stopFeed = new AbortController();
  private inflight = 0;
  private published = 0;
  private delivered = 0;
  /** Cancel and preemption notices sent, by lease: when the coordinator must have ended the lease. */
  private readonly stopDeadlines = new Map<string, { conn: Conn; jobId: string; epoch: number; deadline: number }>();
  private connCounter = 0;
  private phase: 'chaos' | 'calm' = 'chaos';
  private readonly violations: string[] = [];
  private readonly trace: string[] = [];
  private readonly tracing: boolean;

  /** Every job stored by a submit (from the moment it is stored), and the labels it requires. */
  private readonly submitted = new Map<string, { requiredLabels: LabelRequirement[] }>();
  private readonly seen = new Map<string, Seen>();
  /** Results factories produced: "job@epoch" -> factory and outcome. */
  private readonly resultsProduced = new Map<string, { factoryId: string; outcome: Outcome }>();
  private readonly acks: { factoryId: string; jobId: string; epoch: number }[] = [];
  private readonly revokes: { factoryId: string; jobId: string; epoch: number; reason: string }[] = [];
  private readonly lastOfferEpoch = new Map<string, number>();
  /** Messages from each factory the coordinator has handled (any message is proof of life). */
  private readonly heard = new Map<string, number>();
  /** `heard` as it was when the reaper tick now running started. */
  private heardAtTick = new Map<string, number>();
  /** Factories whose running lease lapsed for silence, not heard from since: they get no offer. */
  private readonly silent = new Set<string>();
  /** The stream each lease was offered or kept on ("job@epoch"). */
  private readonly leaseConn = new Map<string, Conn>();
  /**
   * Messages about leases other factories hold, sent by factories that do not hold them. Drawn from
   * a generator of their own, and their replies are not delivered, so the rest of a seed's run
   * (and so what an old failing seed replays) is the same with them as without.
   */
  private readonly foreignRng: Rng;
  private readonly pForeign: number;
  /** While a foreign message is handled: what the coordinator said meanwhile (not delivered). */
  private foreignReplies: { conn: Conn; message: ConnectResponse }[] | null = null;
  private readonly stats: SimStats = {
    steps: 0,
    simMs: 0,
    jobs: 0,
    finalJobs: 0,
    messages: 0,
    dropped: 0,
    crashes: 0,
    streamBreaks: 0,
    leasesShortened: 0,
    partitions: 0,
    zombieRevokes: 0,
    staleChecked: 0,
    resultAcks: 0,
    duplicateResults: 0,
    offers: 0,
    preemptions: 0,
    handBacks: 0,
    silentLapses: 0,
    foreignChecked: 0,
  };

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.tracing = options.trace ?? false;
    this.rng = new Rng(options.seed);
    const coordinatorRandom = this.rng.fork();
    this.params = chooseParams(this.rng);
    this.foreignRng = new Rng((options.seed ^ 0x9e3779b9) >>> 0);
    this.pForeign = this.foreignRng.pick([0, 0.05, 0.2]);
    this.fleet = new Fleet({
      store: this.coordinatorStore,
      feed: this.feed,
      clock: this.clock,
      settings: this.params.settings,
      log: SILENT,
      random: () => coordinatorRandom.next(),
      schedule: (run) => {
        this.dispatchQueue.push(run);
      },
    });
    this.jobs = new Jobs(this.coordinatorStore, this.feed, this.clock, this.fleet.dispatch.submitClaimer);
  }

  async run(): Promise<SimReport> {
    resetIdBytes();
    let failure: string | null = null;
    try {
      this.watchFeed();
      this.setup();
      const calmAt = T0 + this.params.chaosMs;
      const deadline = calmAt + this.params.calmMaxMs;
      this.at(calmAt, () => this.calm());
      let nextLivenessCheck = calmAt;
      let done = false;
      while (this.agenda.size > 0 && this.agenda.peekAt() <= deadline) {
        const at = this.agenda.peekAt();
        this.clock.t = at;
        while (this.agenda.peekAt() === at) this.agenda.pop()!.run();
        // Steps where only factories acted (received something) leave the store as it was.
        if (await this.settle()) await this.checkStep(this.stats.steps % 25 === 0);
        if (this.phase === 'chaos' && this.foreignRng.chance(this.pForeign)) await this.foreignMessage();
        this.stats.steps++;
        if (this.phase === 'calm' && at >= nextLivenessCheck) {
          if (this.allDone()) {
            done = true;
            break;
          }
          nextLivenessCheck = at + 250;
        }
      }
      if (!done) await this.reportStuck();
      await this.checkStep(true);
      await this.checkEnd();
    } catch (err) {
      failure = err instanceof SimFailure ? err.message : `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    } finally {
      this.stopFeed.abort();
    }
    this.stats.simMs = this.clock.t - T0;
    return { seed: this.seed, failure, stats: this.stats, trace: this.trace };
  }

  // ---------------------------------------------------------------------------------------------
  // World setup and the chaos schedule.

  private setup(): void {
    const p = this.params;
    for (let i = 0; i < p.factories; i++) {
      const labels: Record<string, string> = { os: this.rng.pick(['linux', 'mac', 'windows']), cpus: this.rng.pick(['2', '4', '8', '16']) };
      if (this.rng.chance(0.3)) labels.gpu = 'a100';
      const f = new SimFactory(`f${i + 1}`, labels, this.rng.int(1, 3));
      this.factories.push(f);
      this.at(T0 + this.rng.int(0, 20) * Q, () => this.connect(f));
      const beatAt = T0 + this.rng.int(1, p.settings.heartbeatIntervalMs / Q) * Q;
      this.at(beatAt, () => this.heartbeat(f));
      // Up to three failures per factory during the chaos phase.
      for (let n = this.rng.int(0, 3); n > 0; n--) {
        const when = T0 + this.rng.int(10, Math.floor(p.chaosMs / Q) - 10) * Q;
        const what = this.rng.pick(['crash', 'break', 'break', 'partition', 'partition', 'drain'] as const);
        this.at(when, () => this.fault(f, what));
      }
    }
    for (let i = 0; i < p.jobs; i++) {
      const when = T0 + this.rng.int(0, Math.floor((p.chaosMs * 0.7) / Q)) * Q;
      const spec = this.jobSpec(i);
      this.at(when, () => this.op(`submit #${i}`, () => this.submit(spec)));
    }
    for (let n = this.rng.int(0, 2); n > 0; n--) {
      const when = T0 + this.rng.int(1, Math.floor(p.chaosMs / Q)) * Q;
      this.at(when, () => {
        const ids = [...this.submitted.keys()];
        if (ids.length > 0) {
          const id = this.rng.pick(ids);
          this.op(`cancel ${id}`, () => this.cancel(id));
        }
      });
    }
    if (p.pollMs > 0) {
      // As Fleet's shared-store poll does: a dispatch pass on a timer, which then meets whatever
      // messages arrive at the same moment (a hello, say) in the same wave.
      const poll = (): void => {
        this.fleet.requestDispatch();
        this.at(this.clock.t + p.pollMs, poll);
      };
      this.at(T0 + p.pollMs, poll);
    }
    const tick = (): void => {
      this.op('tick', () => {
        this.heardAtTick = new Map(this.heard);
        return this.fleet.tick();
      });
      this.at(this.clock.t + p.settings.reaperIntervalMs, tick);
    };
    this.at(T0 + p.settings.reaperIntervalMs, tick);
  }

  private jobSpec(i: number): JobSpec {
    return {
      productId: 'sim',
      title: `job #${i}`,
      command: ['run', String(i)],
      env: {},
      requiredLabels: this.rng.chance(0.35) ? this.rng.pick(REQUIREMENTS) : [],
      priority: this.rng.int(-1, 1),
      idempotencyKey: this.rng.chance(0.15) ? this.rng.pick(['k1', 'k2']) : '',
      maxAttempts: this.rng.int(1, 4),
      timeoutMs: 60_000,
    };
  }

  private async submit(spec: JobSpec): Promise<void> {
    const { job, created } = await this.jobs.submit(spec, 'client:sim');
    this.log(() => `submit -> ${job.id} (${created ? 'created' : 'existing'}) labels=${JSON.stringify(job.requiredLabels)} maxAttempts=${job.maxAttempts}`);
    if (!this.submitted.has(job.id)) this.submitted.set(job.id, { requiredLabels: job.requiredLabels });
  }

  private async cancel(id: string): Promise<void> {
    try {
      const job = await this.jobs.cancel(id, 'user:sim', 'sim cancel');
      this.log(() => `cancel ${id} -> ${job.stage}`);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      this.log(() => `cancel ${id} refused: ${err.message}`);
    }
  }

  private fault(f: SimFactory, what: 'crash' | 'break' | 'partition' | 'drain'): void {
    if (this.phase !== 'chaos') return;
    const p = this.params;
    switch (what) {
      case 'crash': {
        if (!f.up) return;
        const keepJobs = this.rng.chance(0.5);
        this.log(() => `${f.id} CRASH (${keepJobs ? 'its jobs survive' : 'its jobs die'})`);
        this.stats.crashes++;
        f.up = false;
        this.breakStream(f);
        if (!keepJobs) {
          f.running.clear();
          f.pending.clear();
        }
        if (this.rng.chance(0.7)) this.at(this.clock.t + this.rng.int(20, 300) * Q, () => this.restart(f));
        return;
      }
      case 'break':
        if (!f.conn) return;
        this.log(() => `${f.id} stream breaks`);
        this.stats.streamBreaks++;
        this.breakStream(f);
        this.scheduleReconnect(f);
        return;
      case 'partition': {
        const ms = Math.round((p.settings.leaseTtlMs * (1 + this.rng.next() * 2)) / Q) * Q;
        this.log(() => `${f.id} PARTITIONED for ${ms} ms`);
        this.stats.partitions++;
        f.partitionedUntil = Math.max(f.partitionedUntil, this.clock.t + ms);
        this.at(f.partitionedUntil, () => this.heal(f));
        return;
      }
      case 'drain':
        if (!f.conn?.welcomed || f.draining) return;
        this.log(() => `${f.id} drains`);
        f.draining = true;
        this.send(f, { case: 'drain', value: { reason: 'sim drain' } });
        // Its drain timeout: what still runs then is stopped and handed back (lease_return).
        this.at(this.clock.t + this.rng.int(1, 40) * Q, () => this.handBack(f));
        return;
    }
  }

  /** Failures stop: partitions heal, crashed factories come back, nothing more is lost. */
  private calm(): void {
    this.log(() => 'CALM: no more failures');
    this.phase = 'calm';
    for (const f of this.factories) {
      f.draining = false;
      if (f.partitionedUntil > this.clock.t) {
        f.partitionedUntil = this.clock.t;
        this.heal(f);
      }
      if (!f.up) this.at(this.clock.t + this.rng.int(1, 50) * Q, () => this.restart(f));
    }
  }

  private restart(f: SimFactory): void {
    if (f.up) return;
    this.log(() => `${f.id} restarts with ${f.running.size} running, ${f.pending.size} unacknowledged`);
    f.up = true;
    this.connect(f);
  }

  /** A partition ends: results that finished meanwhile are sent late on the stream the factory still has. */
  private heal(f: SimFactory): void {
    if (this.clock.t < f.partitionedUntil) return;
    this.log(() => `${f.id} partition healed`);
    if (f.conn?.welcomed) for (const result of f.pending.values()) this.sendResult(f, result);
  }

  // ---------------------------------------------------------------------------------------------
  // Streams.

  private connect(f: SimFactory): void {
    if (!f.up || f.conn) return;
    const conn: Conn = {
      id: ++this.connCounter,
      factory: f,
      session: undefined as unknown as FactorySession,
      broken: false,
      upAt: 0,
      downAt: 0,
      inbox: [],
      lanes: undefined as unknown as MessageLanes,
      helloStale: new Set(),
      welcomed: false,
    };
    conn.lanes = new MessageLanes((err) => this.violation(`session.handle threw on stream ${conn.id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    conn.session = openSession(
      this.fleet,
      { send: (message) => this.fromCoordinator(conn, message), end: (error) => this.endFromCoordinator(conn, error) },
      SILENT,
    );
    f.conn = conn;
    f.draining = false;
    this.log(() => `${f.id} connects (stream ${conn.id}) holding ${[...this.heldRefs(f)].map((r) => key(r.jobId, r.epoch)).join(',') || 'nothing'}`);
    this.send(f, { case: 'hello', value: { factoryId: f.id, labels: f.labels, slots: f.slots, agentVersion: 'sim', runningJobs: this.heldRefs(f) } }, true);
  }

  /** The factory's side of the stream breaks (crash, network): in-flight messages are lost. */
  private breakStream(f: SimFactory): void {
    const conn = f.conn;
    if (!conn) return;
    conn.broken = true;
    f.conn = null;
    // The transport notices a little later and closes the session.
    this.at(this.clock.t + this.rng.int(0, 30) * Q, () => {
      this.log(() => `stream ${conn.id} of ${f.id}: coordinator notices the break`);
      this.track(conn.session.broke('stream aborted'), 'closing a broken stream');
    });
  }

  private scheduleReconnect(f: SimFactory): void {
    if (!f.up || f.conn || f.reconnectScheduled) return;
    f.reconnectScheduled = true;
    this.at(this.clock.t + this.rng.int(2, 100) * Q, () => {
      f.reconnectScheduled = false;
      this.connect(f);
    });
  }

  private delay(): number {
    const p = this.params;
    return (this.rng.chance(p.pSlow) ? this.rng.int(1, p.slowMaxQ) : this.rng.int(1, p.maxDelayQ)) * Q;
  }

  /** Factory -> coordinator. */
  private send(f: SimFactory, kind: RequestKind, reliable = false): void {
    const conn = f.conn;
    if (!conn) return;
    this.stats.messages++;
    if (this.clock.t < f.partitionedUntil || (!reliable && this.phase === 'chaos' && this.rng.chance(this.params.pDrop))) {
      this.stats.dropped++;
      this.log(() => `${f.id} -> coordinator LOST ${describeRequest(kind)}`);
      return;
    }
    const message = create(ConnectRequestSchema, { kind });
    const at = Math.max(this.clock.t + this.delay(), conn.upAt);
    conn.upAt = at;
    this.at(at, () => {
      if (conn.broken) {
        this.log(() => `${f.id} -> coordinator lost with stream ${conn.id}: ${describeRequest(message.kind)}`);
        return;
      }
      conn.inbox.push(message);
      this.busy.add(conn);
    });
  }

  /** Coordinator -> factory: everything the session sends passes here. */
  private fromCoordinator(conn: Conn, message: ConnectResponse): void {
    const f = conn.factory;
    this.observe(conn, message);
    if (this.foreignReplies) {
      this.foreignReplies.push({ conn, message });
      return;
    }
    if (conn.broken) return;
    this.stats.messages++;
    if (this.phase === 'chaos' && this.rng.chance(this.params.pDrop)) {
      this.stats.dropped++;
      this.log(() => `coordinator -> ${f.id} LOST ${describeResponse(message)}`);
      return;
    }
    const at = Math.max(this.clock.t + this.delay(), conn.downAt);
    conn.downAt = at;
    this.at(at, () => this.deliverToFactory(conn, message));
  }

  private endFromCoordinator(conn: Conn, error?: DomainError): void {
    this.log(() => `coordinator ends stream ${conn.id} of ${conn.factory.id}${error ? `: ${error.code} ${error.message}` : ''}`);
    if (conn.broken) return;
    const at = Math.max(this.clock.t + this.delay(), conn.downAt);
    conn.downAt = at;
    const arrive = (): void => {
      const f = conn.factory;
      if (conn.broken || f.conn !== conn) return;
      if (this.clock.t < f.partitionedUntil) {
        this.at(f.partitionedUntil, arrive); // the end of a stream is noticed once the network is back
        return;
      }
      this.log(() => `${f.id} sees stream ${conn.id} end`);
      conn.broken = true;
      f.conn = null;
      this.scheduleReconnect(f);
    };
    this.at(at, arrive);
  }

  // ---------------------------------------------------------------------------------------------
  // The factories' behaviour.

  private deliverToFactory(conn: Conn, message: ConnectResponse): void {
    const f = conn.factory;
    if (conn.broken || f.conn !== conn || !f.up) return;
    if (this.clock.t < f.partitionedUntil) {
      this.stats.dropped++;
      return;
    }
    this.log(() => `${f.id} <- ${describeResponse(message)}`);
    const kind = message.kind;
    switch (kind.case) {
      case 'welcome':
        conn.welcomed = true;
        for (const result of f.pending.values()) this.sendResult(f, result);
        return;
      case 'leaseOffer': {
        const jobId = kind.value.jobId;
        const epoch = Number(kind.value.epoch);
        if (this.phase === 'chaos' && this.rng.chance(this.params.pIgnoreOffer)) return; // let it lapse
        if (f.draining || this.rng.chance(this.params.pDecline)) {
          this.send(f, { case: 'leaseDecline', value: { jobId, epoch: kind.value.epoch, reason: f.draining ? 'draining' : 'busy' } });
          return;
        }
        this.send(f, { case: 'leaseAccept', value: { jobId, epoch: kind.value.epoch } });
        this.startJob(f, jobId, epoch);
        return;
      }
      case 'cancel': {
        const job = f.running.get(key(kind.value.jobId, kind.value.epoch));
        if (!job || job.cancelNoticed) return;
        job.cancelNoticed = true;
        if (this.rng.chance(0.2)) return; // finishes anyway
        const grace = this.rng.int(0, this.params.settings.cancelGraceMs / Q) * Q;
        this.at(this.clock.t + grace, () => this.finishJob(f, job, 'cancelled'));
        return;
      }
      case 'leaseRevoked': {
        const k = key(kind.value.jobId, kind.value.epoch);
        const job = f.running.get(k);
        if (job && this.phase === 'chaos' && this.rng.chance(this.params.pZombie)) {
          this.stats.zombieRevokes++;
          this.log(() => `${f.id} ignores the revocation of ${k} (zombie)`);
          return;
        }
        f.running.delete(k);
        f.pending.delete(k);
        return;
      }
      case 'resultAck':
        f.pending.delete(key(kind.value.jobId, kind.value.epoch));
        return;
      case 'preemptionNotice': {
        const job = f.running.get(key(kind.value.jobId, kind.value.epoch));
        if (!job || this.rng.chance(0.2)) return; // finishes anyway
        const grace = this.rng.int(0, 20) * Q;
        this.at(this.clock.t + grace, () => {
          if (f.running.get(job.key) !== job) return;
          f.running.delete(job.key);
          this.log(() => `${f.id} stops ${job.key} for preemption`);
          this.send(f, { case: 'preemptionAck', value: { jobId: job.jobId, epoch: BigInt(job.epoch), checkpoint: 'sim' } });
        });
        return;
      }
      case 'heartbeatAck':
      case 'goodbye':
      case undefined:
        return;
    }
  }

  /** A draining agent's timeout: its running jobs are stopped and their leases given back. */
  private handBack(f: SimFactory): void {
    if (!f.draining || !f.up || !f.conn?.welcomed) return;
    for (const job of [...f.running.values()]) {
      f.running.delete(job.key);
      this.stats.handBacks++;
      this.log(() => `${f.id} hands back ${job.key}`);
      this.send(f, { case: 'leaseReturn', value: { jobId: job.jobId, epoch: BigInt(job.epoch), reason: 'sim drain timeout' } });
    }
  }

  private startJob(f: SimFactory, jobId: string, epoch: number): void {
    const k = key(jobId, epoch);
    if (f.running.has(k) || f.pending.has(k)) return;
    const r = this.rng.next();
    const outcome: Outcome = r < 0.6 ? 'succeeded' : r < 0.9 ? 'failed' : 'timed_out';
    const job: RunningJob = {
      key: k,
      jobId,
      epoch,
      outcome,
      exitCode: outcome === 'succeeded' ? 0 : outcome === 'failed' ? this.rng.int(1, 3) : null,
      logSeq: 0,
      cancelNoticed: false,
    };
    f.running.set(k, job);
    const runMs = this.rng.int(0, this.params.maxRunMs / Q) * Q;
    this.at(this.clock.t + runMs, () => this.finishJob(f, job, null));
  }

  private finishJob(f: SimFactory, job: RunningJob, override: Outcome | null): void {
    if (f.running.get(job.key) !== job) return; // revoked, crashed away, or already finished
    f.running.delete(job.key);
    const outcome = override ?? job.outcome;
    const result: PendingResult = { key: job.key, jobId: job.jobId, epoch: job.epoch, outcome, exitCode: override ? -15 : job.exitCode, lastSentAt: 0 };
    this.resultsProduced.set(job.key, { factoryId: f.id, outcome });
    f.pending.set(job.key, result);
    this.log(() => `${f.id} finishes ${job.key}: ${outcome}`);
    if (f.up && f.conn?.welcomed) {
      if (this.rng.chance(0.3)) this.sendLog(f, job);
      this.sendResult(f, result);
    }
  }

  private sendResult(f: SimFactory, result: PendingResult): void {
    result.lastSentAt = this.clock.t;
    const value = { jobId: result.jobId, epoch: BigInt(result.epoch), outcome: OUTCOME_TO_WIRE[result.outcome], message: `sim ${result.outcome}`, ...(result.exitCode === null ? {} : { exitCode: result.exitCode }) };
    this.send(f, { case: 'jobResult', value });
    if (this.rng.chance(this.params.pDuplicate)) {
      this.stats.duplicateResults++;
      this.send(f, { case: 'jobResult', value });
    }
  }

  private sendLog(f: SimFactory, job: RunningJob): void {
    const value = { jobId: job.jobId, epoch: BigInt(job.epoch), sequence: BigInt(job.logSeq++), stream: LogStream.STDOUT, data: new Uint8Array([job.logSeq & 0xff]) };
    this.send(f, { case: 'logChunk', value });
    if (this.rng.chance(this.params.pDuplicate)) this.send(f, { case: 'logChunk', value });
  }

  private heartbeat(f: SimFactory): void {
    if (f.up && f.conn?.welcomed) {
      this.send(f, { case: 'heartbeat', value: { sequence: ++f.heartbeatSeq, runningJobs: this.heldRefs(f) } });
      for (const job of f.running.values()) if (this.rng.chance(0.3)) this.sendLog(f, job);
      // "Sent again until acknowledged": single messages get lost in the sim (not on a real stream),
      // and a heartbeat listing a job whose result never arrives would keep its lease alive forever.
      const resendAfter = 3 * this.params.settings.heartbeatIntervalMs;
      for (const result of f.pending.values()) if (this.clock.t - result.lastSentAt >= resendAfter) this.sendResult(f, result);
    }
    this.at(this.clock.t + this.params.settings.heartbeatIntervalMs, () => this.heartbeat(f));
  }

  /**
   * What a factory says it holds (hello, heartbeat): jobs it runs and results not yet acknowledged,
   * at most as many as the coordinator accepts, running jobs first, as the real agent lists them
   * (agent.ts heldLeases): unlisted results are still sent and resent on their own.
   */
  private heldRefs(f: SimFactory): { jobId: string; epoch: bigint }[] {
    const refs = new Map<string, { jobId: string; epoch: bigint }>();
    for (const job of f.running.values()) refs.set(job.key, { jobId: job.jobId, epoch: BigInt(job.epoch) });
    for (const result of f.pending.values()) refs.set(result.key, { jobId: result.jobId, epoch: BigInt(result.epoch) });
    return [...refs.values()].slice(0, maxListedLeases(f.slots));
  }

  // ---------------------------------------------------------------------------------------------
  // Driving the coordinator.

  private at(time: number, run: () => void): void {
    this.agenda.push(time, run);
  }

  private op(name: string, run: () => Promise<unknown>): void {
    this.ops.push({ name, run });
  }

  private watchFeed(): void {
    const updates = this.feed.topic.subscribe((item) => {
      if (item.kind !== 'update') return false;
      this.published++;
      return true;
    }, this.stopFeed.signal);
    void (async () => {
      try {
        for await (const item of updates) {
          if (item.kind === 'update') {
            this.log(() => `feed: ${item.update.job.id} ${item.update.event.kind} e${item.update.event.epoch} by ${item.update.event.actor}`);
            this.fleet.onUpdate(item.update);
          }
          this.delivered++;
        }
      } catch (err) {
        this.violation(`the fleet's feed handler threw: ${String(err)}`);
        this.delivered = Number.NaN;
      }
    })();
  }

  private track(promise: Promise<unknown>, what: string): void {
    this.inflight++;
    promise.then(
      () => this.inflight--,
      (err: unknown) => {
        this.inflight--;
        this.violation(`${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      },
    );
  }

  /** Waits until the coordinator has nothing left to do but what the sim has queued for it. */
  private async flush(): Promise<void> {
    for (let turn = 0; turn < 100; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const dispatchIdle = this.dispatchQueue.length > 0 || this.fleet.dispatch.idle;
      if (this.inflight === 0 && this.published === this.delivered && dispatchIdle) return;
    }
    this.throwViolations();
    throw new SimFailure(
      `coordinator work still pending after 100 event-loop turns (inflight ${this.inflight}, feed ${this.delivered}/${this.published}, dispatch ${this.fleet.dispatch.idle ? 'idle' : 'running'})`,
    );
  }

  /**
   * Runs everything the due events caused, in waves: each wave takes the messages of every stream
   * that the transport handles at once (its next message, and the ones after it about other jobs, as
   * MessageLanes does), the queued operations and dispatch passes, starts them in a seeded order and
   * lets them interleave; messages already stale on arrival are then handled alone and checked.
   */
  /** Returns whether the coordinator did anything. */
  private async settle(): Promise<boolean> {
    for (let wave = 0; ; wave++) {
      if (wave > 5_000) throw new SimFailure('the coordinator never became idle (5000 waves)');
      // Some streams and operations sit a wave out, so they also meet the dispatch passes and
      // other work that the first wave causes (hello beside a dispatch pass, say).
      const pending = this.busy.size + this.ops.length + this.dispatchQueue.length;
      if (pending === 0) return wave > 0;
      const sitOut = (): boolean => pending > 1 && this.rng.chance(0.25);
      const readers: { conn: Conn; messages: ConnectRequest[] }[] = [];
      const isolated: { conn: Conn; message: ConnectRequest; stale: Ref[] }[] = [];
      for (const conn of [...this.busy]) {
        if (sitOut()) continue;
        // Everything that arrived is read, in order, into the stream's MessageLanes, as the
        // transport does; messages already stale on arrival are kept apart to be checked alone.
        const messages: ConnectRequest[] = [];
        for (const message of conn.inbox.splice(0)) {
          const stale = this.staleRefs(conn, message);
          if (stale.length > 0) isolated.push({ conn, message, stale });
          else messages.push(message);
        }
        if (messages.length > 0) readers.push({ conn, messages });
        this.busy.delete(conn);
      }
      const ops = this.ops.splice(0).filter((op) => !(sitOut() && this.ops.push(op)));
      const dispatches = this.dispatchQueue.splice(0);
      if (readers.length === 0 && isolated.length === 0 && ops.length === 0 && dispatches.length === 0) continue; // all sat out: draw again

      const tasks: (() => void)[] = [];
      for (const { conn, messages } of readers) tasks.push(() => this.track(this.read(conn, messages), `reading stream ${conn.id}`));
      for (const op of ops) {
        tasks.push(() => {
          this.log(() => `op ${op.name}`);
          this.track(op.run(), op.name);
        });
      }
      for (const run of dispatches) tasks.push(run);
      // Started in a seeded order, each after a few microtask turns, so their awaits interleave
      // differently from seed to seed (as messages arriving in one network read would).
      for (const task of this.rng.shuffle(tasks)) {
        const turns = this.rng.chance(0.5) ? 0 : this.rng.int(1, 12);
        if (turns === 0) task();
        else this.track(afterMicrotasks(turns, task), 'a delayed start');
      }
      await this.flush();
      this.throwViolations();

      for (const item of isolated) await this.handleStale(item.conn, item.message, item.stale);
    }
  }

  /** The transport's reader loop (api/factory-service.ts): each message into the stream's lanes, in order. */
  private async read(conn: Conn, messages: readonly ConnectRequest[]): Promise<void> {
    for (const message of messages) {
      if (conn.lanes.failed) return;
      await conn.lanes.run(laneOf(message), () => this.handle(conn, message));
    }
  }

  private handle(conn: Conn, message: ConnectRequest): Promise<void> {
    this.log(() => `${conn.factory.id} -> coordinator (stream ${conn.id}) ${describeRequest(message.kind)}`);
    const id = conn.factory.id;
    this.heard.set(id, (this.heard.get(id) ?? 0) + 1);
    this.silent.delete(id);
    return conn.session.handle(message);
  }

  /** Job refs in a message whose epoch is older than the job's current one. */
  private staleRefs(conn: Conn, message: ConnectRequest): Ref[] {
    const kind = message.kind;
    let refs: Ref[];
    switch (kind.case) {
      case 'hello':
        for (const ref of this.staleOf(kind.value.runningJobs.map(toRef))) conn.helloStale.add(key(ref.jobId, ref.epoch));
        return [];
      case 'heartbeat': {
        refs = kind.value.runningJobs.map(toRef);
        const stale = this.staleOf(refs);
        // A job listed under both an old and its current epoch (a zombie beside the new attempt) is renewed legitimately.
        return stale.filter((s) => !refs.some((r) => r.jobId === s.jobId && !stale.includes(r)));
      }
      case 'leaseAccept':
      case 'leaseDecline':
      case 'preemptionAck':
      case 'leaseReturn':
      case 'jobResult':
      case 'logChunk':
        return this.staleOf([{ jobId: kind.value.jobId, epoch: Number(kind.value.epoch) }]);
      default:
        return [];
    }
  }

  /** Read between waves, when no write is in flight, so the recorded epochs are the stored ones. */
  private staleOf(refs: Ref[]): Ref[] {
    return refs.filter((ref) => (this.epochs.get(ref.jobId) ?? -1) > ref.epoch);
  }

  /**
   * Rule 7: a factory speaks about a lease another factory holds (every kind of message that names
   * a job). Handled alone: it must change nothing about the job, logs included, and be answered
   * lease_revoked for that lease; its replies are checked, not delivered.
   */
  private async foreignMessage(): Promise<void> {
    const rng = this.foreignRng;
    const leased = [...this.seen].filter(([, s]) => s.holder !== null);
    if (leased.length === 0) return;
    const [jobId, target] = rng.pick(leased);
    const speakers = this.factories.filter((f) => f.id !== target.holder && f.up && f.conn?.welcomed && !f.conn.broken && f.conn.session.factory !== null);
    if (speakers.length === 0) return;
    const f = rng.pick(speakers);
    const conn = f.conn!;
    const epoch = BigInt(target.epoch);
    const kind: RequestKind = rng.pick<() => RequestKind>([
      () => ({ case: 'leaseAccept', value: { jobId, epoch } }),
      () => ({ case: 'leaseDecline', value: { jobId, epoch, reason: 'not mine' } }),
      () => ({ case: 'leaseReturn', value: { jobId, epoch, reason: 'not mine' } }),
      () => ({ case: 'heartbeat', value: { sequence: 0n, runningJobs: [{ jobId, epoch }] } }),
      () => ({ case: 'logChunk', value: { jobId, epoch, sequence: 0n, stream: LogStream.STDOUT, data: new Uint8Array([1]) } }),
      () => ({ case: 'jobResult', value: { jobId, epoch, outcome: OUTCOME_TO_WIRE[rng.pick(['succeeded', 'failed', 'cancelled'] as const)], message: 'not mine' } }),
      () => ({ case: 'preemptionAck', value: { jobId, epoch, checkpoint: 'not mine' } }),
    ])();
    const message = create(ConnectRequestSchema, { kind });
    const before = await this.snapshot(jobId);
    this.log(() => `(foreign: ${f.id} speaks about ${key(jobId, target.epoch)}, held by ${target.holder})`);
    const replies: { conn: Conn; message: ConnectResponse }[] = (this.foreignReplies = []);
    try {
      this.track(this.read(conn, [message]), `reading stream ${conn.id}`);
      await this.flush();
    } finally {
      this.foreignReplies = null;
    }
    this.throwViolations();
    this.stats.foreignChecked++;
    const after = await this.snapshot(jobId);
    const what = `a ${kind.case} from ${f.id} about ${key(jobId, target.epoch)}, a lease ${target.holder} holds`;
    if (after !== before) throw new SimFailure(`${what}, changed the job:\n  before ${before}\n  after  ${after}`);
    const revoked = replies.some((r) => r.conn === conn && r.message.kind.case === 'leaseRevoked' && r.message.kind.value.jobId === jobId && r.message.kind.value.epoch === epoch);
    const other = replies.find((r) => r.conn !== conn || (r.message.kind.case !== 'leaseRevoked' && r.message.kind.case !== 'heartbeatAck'));
    if (!revoked || other) {
      throw new SimFailure(`${what}, was answered ${replies.map((r) => `${describeResponse(r.message)} to ${r.conn.factory.id}`).join('; ') || 'with nothing'}, not lease_revoked alone`);
    }
  }

  /** Rule 2: a message carrying an old epoch changes nothing about its job, logs included. */
  private async handleStale(conn: Conn, message: ConnectRequest, stale: Ref[]): Promise<void> {
    const before = new Map<string, string>();
    for (const ref of stale) before.set(ref.jobId, await this.snapshot(ref.jobId));
    this.log(() => `(stale: ${stale.map((r) => key(r.jobId, r.epoch)).join(',')})`);
    this.track(this.read(conn, [message]), `reading stream ${conn.id}`);
    await this.flush();
    this.throwViolations();
    this.stats.staleChecked++;
    for (const [jobId, snapshot] of before) {
      const after = await this.snapshot(jobId);
      if (after !== snapshot) {
        throw new SimFailure(`a ${message.kind.case} from ${conn.factory.id} with a stale epoch changed job ${jobId}:\n  before ${snapshot}\n  after  ${after}`);
      }
    }
  }

  private async snapshot(jobId: string): Promise<string> {
    const job = await this.store.getJob(jobId);
    const logs = await this.store.readLogs(jobId, null, Number.POSITIVE_INFINITY);
    return `${JSON.stringify(job)} logs=${logs.map((c) => `${c.epoch}:${c.sequence}`).join(',')}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Invariants.

  private violation(message: string): void {
    this.violations.push(message);
  }

  private throwViolations(): void {
    if (this.violations.length > 0) throw new SimFailure(this.violations.join('\n'));
  }

  /** What the coordinator says, checked as it says it. */
  /**
   * A cancel or preemption notice went out: the coordinator ends the lease itself once the grace is
   * over (by the next reaper tick after it), whatever the factory does.
   */
  private noteStop(conn: Conn, jobId: string, epoch: number, graceMs: number): void {
    const k = key(jobId, epoch);
    const deadline = this.clock.t + graceMs + this.params.settings.reaperIntervalMs + Q;
    if ((this.stopDeadlines.get(k)?.deadline ?? Infinity) > deadline) this.stopDeadlines.set(k, { conn, jobId, epoch, deadline });
  }

  private observe(conn: Conn, message: ConnectResponse): void {
    const kind = message.kind;
    const f = conn.factory;
    switch (kind.case) {
      case 'leaseOffer': {
        this.stats.offers++;
        const jobId = kind.value.jobId;
        const epoch = Number(kind.value.epoch);
        const info = this.submitted.get(jobId);
        if (!info) this.violation(`offer of unknown job ${jobId}`);
        else if (!meetsRequirements(info.requiredLabels, f.labels)) {
          this.violation(`job ${jobId} requiring ${JSON.stringify(info.requiredLabels)} was offered to ${f.id} labelled ${JSON.stringify(f.labels)}`);
        }
        if (this.silent.has(f.id)) this.violation(`job ${jobId} offered to ${f.id}, whose running lease lapsed for silence, before anything was heard from it`);
        const last = this.lastOfferEpoch.get(jobId) ?? 0;
        if (epoch <= last) this.violation(`job ${jobId} offered at epoch ${epoch} after an offer at epoch ${last}: every grant needs a new epoch`);
        this.lastOfferEpoch.set(jobId, epoch);
        this.leaseConn.set(key(jobId, epoch), conn);
        return;
      }
      case 'welcome':
        for (const kept of kind.value.keptLeases) {
          this.leaseConn.set(key(kept.jobId, kept.epoch), conn);
          if (conn.helloStale.has(key(kept.jobId, kept.epoch))) {
            this.violation(`welcome to ${f.id} kept ${key(kept.jobId, kept.epoch)}, whose epoch was already stale when hello arrived`);
          }
        }
        return;
      case 'resultAck':
        this.stats.resultAcks++;
        this.acks.push({ factoryId: f.id, jobId: kind.value.jobId, epoch: Number(kind.value.epoch) });
        return;
      case 'preemptionNotice':
        this.stats.preemptions++;
        this.noteStop(conn, kind.value.jobId, Number(kind.value.epoch), this.params.settings.preemptionGraceMs);
        return;
      case 'cancel':
        this.noteStop(conn, kind.value.jobId, Number(kind.value.epoch), this.params.settings.cancelGraceMs);
        return;
      case 'leaseRevoked':
        this.revokes.push({ factoryId: f.id, jobId: kind.value.jobId, epoch: Number(kind.value.epoch), reason: kind.value.reason });
        return;
      default:
        return;
    }
  }

  /**
   * Every write the coordinator makes, checked as it lands (from the store tap): the transition
   * from the job's previous record to this one obeys every rule.
   */
  private onWrite(job: JobRecord, inserted: boolean): void {
    // Known from the moment it is stored (a dispatch pass may offer it before submit returns).
    if (inserted && !this.submitted.has(job.id)) this.submitted.set(job.id, { requiredLabels: job.requiredLabels });
    this.noteSilentLapse(job);
    const problem = this.checkJob(job, 'write');
    if (problem) this.violation(problem);
  }

  /**
   * A running lease the reaper ended because its factory sent no heartbeat in time on a stream that
   * stayed open: that factory is silent, and is offered nothing until the coordinator hears from it
   * again. Only when nothing from it was handled since the reaper's tick began (else the coordinator
   * may rightly count that message as heard after the lapse).
   */
  private noteSilentLapse(job: JobRecord): void {
    const prev = this.seen.get(job.id);
    if (prev?.stage !== 'running' || prev.holder === null || job.lease !== null) return;
    const attempt = job.attempts.find((a) => a.epoch === prev.epoch);
    if (attempt?.outcome !== 'lease_expired' || !attempt.message.startsWith('no heartbeat from')) return;
    const factoryId = prev.holder;
    if ((this.heard.get(factoryId) ?? 0) !== (this.heardAtTick.get(factoryId) ?? 0)) return;
    // Silence on an open stream: the lease was held on the stream the factory is still on (a lease
    // of a broken stream lapses after the reconnect grace, and the factory is not silent for it).
    const conn = this.leaseConn.get(key(job.id, prev.epoch));
    if (!conn || this.factories.find((f) => f.id === factoryId)?.conn !== conn || conn.session.factory === null) return;
    this.stats.silentLapses++;
    this.silent.add(factoryId);
    this.log(() => `(${factoryId} is silent: its lease ${key(job.id, prev.epoch)} lapsed)`);
  }

  /** Checks one job record against the last one seen; records it when it passes. */
  private checkJob(job: JobRecord, how: 'write' | 'read'): string | null {
    const prev = this.seen.get(job.id);
    const fail = (what: string): string => `job ${job.id}: ${what}\n  job ${JSON.stringify(job)}`;
    if (prev) {
      if (job.epoch < prev.epoch) return fail(`epoch went back from ${prev.epoch} to ${job.epoch}`);
      if (how === 'write' && job.revision !== prev.revision + 1) return fail(`a write took revision ${prev.revision} to ${job.revision}, not +1`);
      if (how === 'read' && job.revision !== prev.revision) return fail(`the store is at revision ${job.revision}, the last write seen was ${prev.revision}`);
      if (isFinal(prev.stage) && job.revision !== prev.revision) return fail(`changed after reaching the final stage ${prev.stage}`);
      if (how === 'write' && job.lease && job.epoch === prev.epoch && job.stage === prev.stage && prev.leaseExpiresAt !== null && job.lease.expiresAt < prev.leaseExpiresAt) {
        // Only a broken stream shortens a lease: to the end of the reconnect grace from when it broke (not later than from now).
        const graceEnd = this.clock.t + this.params.settings.reconnectGraceMs;
        if (job.lease.expiresAt > graceEnd) return fail(`lease shortened from ${prev.leaseExpiresAt} to ${job.lease.expiresAt}, past the grace's end ${graceEnd}`);
        this.stats.leasesShortened++;
      }
    }
    const holds = job.stage === 'leased' || job.stage === 'running';
    if (holds !== (job.lease !== null)) return fail(`stage ${job.stage} with lease ${JSON.stringify(job.lease)}`);
    if (job.lease) {
      if (!this.factories.some((f) => f.id === job.lease!.factoryId)) return fail('lease names no known factory');
      if (job.lease.epoch !== job.epoch) return fail(`lease epoch ${job.lease.epoch} is not the job's epoch ${job.epoch}`);
      const attempt = job.attempts.at(-1);
      if (attempt?.epoch !== job.epoch || attempt.factoryId !== job.lease.factoryId) return fail('lease does not match the current attempt');
    }
    // A cancel is never lost: once asked for, the job ends, and is not queued or offered again.
    if (job.cancelRequestedAt !== null && (job.stage === 'queued' || (job.stage === 'leased' && prev !== undefined && job.epoch > prev.epoch))) {
      return fail(`back in ${job.stage} after its cancel was requested`);
    }
    if (job.attemptCount > job.maxAttempts) return fail(`attemptCount ${job.attemptCount} > maxAttempts ${job.maxAttempts}`);
    let lastEpoch = 0;
    let succeeded = 0;
    for (const attempt of job.attempts) {
      if (attempt.epoch <= lastEpoch) return fail('attempt epochs are not increasing');
      lastEpoch = attempt.epoch;
      if (attempt.outcome === 'succeeded') succeeded++;
      if (attempt.outcome !== null && REPORTED.has(attempt.outcome) && attempt.startedAt !== null) {
        const produced = this.resultsProduced.get(key(job.id, attempt.epoch));
        if (!produced || produced.factoryId !== attempt.factoryId || produced.outcome !== attempt.outcome) {
          return fail(`attempt ${attempt.epoch} records ${attempt.outcome} from ${attempt.factoryId}, but that factory produced ${JSON.stringify(produced)} for that epoch`);
        }
      }
    }
    if (lastEpoch !== job.epoch) return fail(`last attempt epoch ${lastEpoch} is not the job's epoch ${job.epoch}`);
    if (succeeded > 1) return fail(`${succeeded} attempts succeeded: more than one result accepted`);
    if (job.stage === 'succeeded' && job.attempts.at(-1)?.outcome !== 'succeeded') return fail('succeeded, but not by its last attempt');
    this.seen.set(job.id, { epoch: job.epoch, revision: job.revision, stage: job.stage, leaseExpiresAt: job.lease?.expiresAt ?? null, holder: job.lease?.factoryId ?? null });
    this.epochs.set(job.id, job.epoch);
    return null;
  }

  /**
   * After every step in which the coordinator did anything. Each write was checked as it landed;
   * every 25th step (and at the end) every acknowledged job is also read back from the store.
   */
  private async checkStep(everyJob: boolean): Promise<void> {
    this.throwViolations();
    if (everyJob) {
      for (const id of this.submitted.keys()) {
        const job = await this.store.getJob(id);
        if (!job) throw new SimFailure(`job ${id} was acknowledged by submit but is not in the store`);
        const problem = this.checkJob(job, 'read');
        if (problem) throw new SimFailure(problem);
      }
    }
    for (const ack of this.acks.splice(0)) await this.checkAck(ack);
    // The grace of a cancel or preemption is enforced: past it, the job no longer runs under that
    // lease (unless the stream the notice went out on broke: a resumed lease gets a new notice).
    for (const [k, stop] of this.stopDeadlines) {
      const job = await this.store.getJob(stop.jobId);
      if (!job || job.stage !== 'running' || job.epoch !== stop.epoch || stop.conn.broken || stop.conn.factory.conn !== stop.conn) {
        this.stopDeadlines.delete(k);
      } else if (this.clock.t > stop.deadline) {
        throw new SimFailure(`${k} still runs on ${stop.conn.factory.id} at ${this.clock.t - T0}, past the grace of its stop notice (deadline ${stop.deadline - T0})`);
      }
    }
    // A factory told to stop must really have lost the lease: otherwise the job sits, leased to a
    // factory that no longer runs it, until the lease runs out (and the attempt is wasted).
    for (const revoke of this.revokes.splice(0)) {
      const job = await this.store.getJob(revoke.jobId);
      if (job?.lease && job.lease.factoryId === revoke.factoryId && job.lease.epoch === revoke.epoch) {
        throw new SimFailure(`${revoke.factoryId} was told lease ${key(revoke.jobId, revoke.epoch)} is revoked (${revoke.reason}), but the store still gives it that lease:\n  job ${JSON.stringify(job)}`);
      }
    }
    for (const session of this.fleet.sessions()) {
      const factory = session.factory;
      const held = session.jobIds();
      if (factory && held.length > factory.slots) {
        throw new SimFailure(`session of ${factory.factoryId} holds ${held.length} leases with ${factory.slots} slots: ${held.map((id) => key(id, this.fleet.leases.book.lease(id)!.epoch)).join(',')}`);
      }
    }
  }

  /** Rule 3: a result_ack means that very result was recorded; a deciding result only once per job. */
  private async checkAck(ack: { factoryId: string; jobId: string; epoch: number }): Promise<void> {
    const job = await this.store.getJob(ack.jobId);
    const attempt = job?.attempts.find((a) => a.epoch === ack.epoch);
    const produced = this.resultsProduced.get(key(ack.jobId, ack.epoch));
    if (!job || !attempt || attempt.startedAt === null || attempt.outcome === null || !REPORTED.has(attempt.outcome) || attempt.factoryId !== ack.factoryId || produced?.outcome !== attempt.outcome) {
      throw new SimFailure(
        `result_ack for ${key(ack.jobId, ack.epoch)} sent to ${ack.factoryId}, but the store did not record that result:\n  attempt ${JSON.stringify(attempt)}\n  produced ${JSON.stringify(produced)}\n  job ${JSON.stringify(job)}`,
      );
    }
    if ((attempt.outcome === 'succeeded' || attempt.outcome === 'cancelled') && (job.attempts.at(-1) !== attempt || !isFinal(job.stage))) {
      throw new SimFailure(`result_ack for a deciding ${attempt.outcome} of ${key(ack.jobId, ack.epoch)}, but the job went on: ${JSON.stringify(job)}`);
    }
  }

  /** Liveness: every job is final, or queued for labels no factory has (as of the last check). */
  private allDone(): boolean {
    for (const [id, { requiredLabels }] of this.submitted) {
      const stage = this.seen.get(id)?.stage;
      if (stage === undefined) return false;
      if (!isFinal(stage) && !(stage === 'queued' && !this.factories.some((f) => meetsRequirements(requiredLabels, f.labels)))) return false;
    }
    return true;
  }

  private async reportStuck(): Promise<void> {
    const lines: string[] = [];
    for (const id of this.submitted.keys()) {
      const job = (await this.store.getJob(id))!;
      if (isFinal(job.stage)) continue;
      lines.push(`  ${id} ${job.stage} e${job.epoch} lease=${JSON.stringify(job.lease)} notBefore=${job.notBefore - T0} attempts=${job.attempts.map((a) => `${a.epoch}:${a.factoryId}:${a.outcome}`).join(' ')}`);
    }
    for (const f of this.factories) {
      lines.push(`  ${f.id} up=${f.up} conn=${f.conn?.id ?? '-'} welcomed=${f.conn?.welcomed ?? false} running=${[...f.running.keys()].join(',')} pending=${[...f.pending.keys()].join(',')} labels=${JSON.stringify(f.labels)}`);
    }
    for (const s of this.fleet.sessions()) {
      lines.push(`  session ${s.sessionId} ${s.current.t} ${s.factory?.factoryId} leases=${s.jobIds().map((id) => { const l = this.fleet.leases.book.lease(id)!; return `${key(id, l.epoch)}${l.phase === 'running' ? '' : `(${l.phase})`}`; }).join(',')}`);
    }
    throw new SimFailure(`not every job finished ${this.params.calmMaxMs} ms after failures stopped (t=${this.clock.t - T0}):\n${lines.join('\n')}`);
  }

  /** At the end: each job's event history is one unbroken chain of transitions. */
  private async checkEnd(): Promise<void> {
    for (const id of this.submitted.keys()) {
      const job = (await this.store.getJob(id))!;
      const events = await this.store.listEvents(id);
      let prev: (typeof events)[number] | null = null;
      for (const event of events) {
        if (prev && (event.revision <= prev.revision || event.epoch < prev.epoch || event.fromStage !== prev.toStage)) {
          throw new SimFailure(`job ${id}: event ${JSON.stringify(event)} does not follow ${JSON.stringify(prev)}`);
        }
        prev = event;
      }
      if (prev?.toStage !== job.stage) throw new SimFailure(`job ${id}: last event ends in ${prev?.toStage}, job is ${job.stage}`);
      if (isFinal(job.stage)) this.stats.finalJobs++;
    }
    this.stats.jobs = this.submitted.size;
  }

  private log(line: () => string): void {
    if (this.tracing) this.trace.push(`${String(this.clock.t - T0).padStart(6)} ${line()}`);
  }
}

class SimFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimFailure';
  }
}

function chooseParams(rng: Rng): Params {
  const heartbeatIntervalMs = rng.pick([200, 300, 500]);
  const leaseTtlMs = heartbeatIntervalMs * rng.pick([2, 3, 4]);
  const offerTimeoutMs = rng.pick([300, 500, 1_000]);
  return {
    settings: {
      offerTimeoutMs,
      leaseTtlMs,
      heartbeatIntervalMs,
      heartbeatTimeoutMs: Math.round((leaseTtlMs * rng.pick([0.75, 1, 2])) / Q) * Q,
      helloTimeoutMs: 1_000,
      // From 0.5 to 2 heartbeats, in quanta: sometimes shorter than the factory's reconnect delay, sometimes longer.
      reconnectGraceMs: Math.round((heartbeatIntervalMs * rng.pick([0.5, 1, 2])) / Q) * Q,
      reaperIntervalMs: rng.pick([200, 300, 500]),
      cancelGraceMs: 200,
      maxLogChunkBytes: 1_024,
      retryBackoff: { baseMs: rng.pick([50, 100, 200]), maxMs: 1_000 },
      preemption: rng.chance(0.5),
      preemptionGraceMs: 200,
    },
    chaosMs: rng.pick([1_500, 2_500, 4_000]),
    calmMaxMs: 60_000,
    factories: rng.int(1, 3),
    jobs: rng.int(2, 7),
    maxDelayQ: rng.pick([1, 3, 8]),
    pSlow: rng.pick([0, 0.05, 0.1]),
    slowMaxQ: Math.ceil((offerTimeoutMs * 1.5) / Q),
    pDrop: rng.pick([0, 0.01, 0.03]),
    pDecline: rng.pick([0, 0.1]),
    pIgnoreOffer: rng.pick([0, 0.05]),
    pZombie: rng.pick([0, 0.3, 0.6]),
    pDuplicate: rng.pick([0, 0.1, 0.3]),
    maxRunMs: Math.round((leaseTtlMs * rng.pick([0.5, 1, 2])) / Q) * Q,
    pollMs: rng.pick([0, 0, 0, 150]),
  };
}

/**
 * The store the coordinator is given: the same MemoryJobStore, with a tap that sees every job record
 * it writes successfully (no extra await, so how work interleaves does not change). Nothing else
 * differs.
 */
function tapWrites(store: MemoryJobStore, written: (job: JobRecord, inserted: boolean) => void): JobStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'replaceJob' || property === 'insertJob') {
        return (job: JobRecord, ...rest: unknown[]): unknown => {
          const result = (value as (...args: unknown[]) => Promise<unknown>).call(target, job, ...rest);
          // A reaction of its own, registered before the caller's: it runs first, in write order,
          // and the caller's await is not delayed by it.
          result.then(
            (out) => {
              if (property === 'replaceJob') written(job, false);
              else if ((out as { created: boolean }).created) written(job, true);
            },
            () => undefined,
          );
          return result;
        };
      }
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}

async function afterMicrotasks(turns: number, run: () => void): Promise<void> {
  for (let i = 0; i < turns; i++) await null;
  run();
}

function toRef(ref: JobRef): Ref {
  return { jobId: ref.jobId, epoch: Number(ref.epoch) };
}

function describeRequest(kind: RequestKind | ConnectRequest['kind']): string {
  switch (kind.case) {
    case 'hello':
      return `hello ${kind.value.factoryId} running=[${(kind.value.runningJobs ?? []).map((r) => key(r.jobId ?? '', r.epoch ?? 0n)).join(',')}]`;
    case 'heartbeat':
      return `heartbeat #${kind.value.sequence} [${(kind.value.runningJobs ?? []).map((r) => key(r.jobId ?? '', r.epoch ?? 0n)).join(',')}]`;
    case 'leaseAccept':
    case 'leaseDecline':
    case 'preemptionAck':
    case 'leaseReturn':
      return `${kind.case} ${key(kind.value.jobId ?? '', kind.value.epoch ?? 0n)}`;
    case 'jobResult':
      return `jobResult ${key(kind.value.jobId ?? '', kind.value.epoch ?? 0n)} ${AttemptOutcome[kind.value.outcome ?? 0]}`;
    case 'logChunk':
      return `logChunk ${key(kind.value.jobId ?? '', kind.value.epoch ?? 0n)} #${kind.value.sequence}`;
    default:
      return String(kind.case);
  }
}

function describeResponse(message: ConnectResponse): string {
  const kind = message.kind;
  switch (kind.case) {
    case 'welcome':
      return `welcome kept=[${kind.value.keptLeases.map((r) => key(r.jobId, r.epoch)).join(',')}]`;
    case 'leaseOffer':
    case 'resultAck':
    case 'cancel':
      return `${kind.case} ${key(kind.value.jobId, kind.value.epoch)}`;
    case 'leaseRevoked':
      return `leaseRevoked ${key(kind.value.jobId, kind.value.epoch)} (${kind.value.reason})`;
    case 'heartbeatAck':
      return `heartbeatAck #${kind.value.sequence} [${kind.value.extensions.map((e) => key(e.jobId, e.epoch)).join(',')}]`;
    case 'goodbye':
      return `goodbye ${kind.value.message}`;
    default:
      return String(kind.case);
  }
}


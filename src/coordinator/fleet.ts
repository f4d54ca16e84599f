/**
 * The connected fleet: one session per factory id, the dispatcher that offers queued jobs to free
 * slots, the reaper that takes back expired leases, and the watcher that tells a factory when a job
 * it holds was taken from it (cancelled, reaped, superseded).
 */
import { GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { DomainError, notFound } from '../domain/errors.js';
import { expire, shortenLease, stopForBudget } from '../domain/lifecycle.js';
import type { Logger } from '../logging.js';
import type { JobRecord } from '../domain/job.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { NO_FLEET_OBSERVER, type FleetObserver } from './fleet-observer.js';
import { claimOnSubmit, dispatchPass, noteUnplaceable } from './dispatcher.js';
import { Preemptions } from './preemptions.js';
import { Scheduling } from './scheduling.js';
import { Budgets } from './budgets.js';
import { MemorySettingsStore } from '../store/memory/memory-settings-store.js';
import { FactorySession, type SessionLink } from './factory-session.js';
import type { JobFeed, JobUpdate } from './job-feed.js';
import type { Jobs } from './jobs.js';
import type { FleetSettings } from './lease-settings.js';

const REAP_BATCH = 200;
/** Queued jobs checked per tick for "no connected factory can run this". */
const UNPLACEABLE_PAGE = 100;

/**
 * Settings for running as one of several replicas over a shared store (Cosmos). Optional, so a
 * plain FleetSettings (one coordinator, SQLite) behaves exactly as before.
 */
export interface ScaleOutSettings {
  /**
   * Other coordinators write to the same store: poll for runnable jobs (they cannot publish to
   * our feed), every SHARED_POLL.minMs after finding work, backing off to SHARED_POLL.maxMs.
   */
  sharedStore?: boolean;
  /**
   * Say goodbye (MAX_AGE) to a factory whose stream is this old (less up to 10% jitter), so
   * long-lived streams rebalance across replicas behind a load balancer; 0 or unset: never.
   */
  maxStreamAgeMs?: number;
}

/** The shared-store runnable poll: fast while there is work, backing off to the slowest when idle. */
export const SHARED_POLL = { minMs: 50, maxMs: 500 } as const;

/** Races with other writers (replicas, factories), for logs, tests and the benchmark. */
export interface RaceCounts {
  /** Expired leases another writer ended or renewed before this reaper could. */
  reaperRaced: number;
  /** Compare-and-set retries inside the reaper's writes. */
  reaperCasRetries: number;
  /** Offers lost because the job was taken (by another replica) between listing and claiming. */
  dispatchLost: number;
}

export interface FleetDeps {
  jobs: Jobs;
  store: JobStore;
  feed: JobFeed;
  clock: Clock;
  settings: FleetSettings & ScaleOutSettings;
  log: Logger;
  /** A number in [0, 1): jitter for retry back-off. Seeded in simulations. */
  random?: () => number;
  /** Runs a dispatch pass soon; setImmediate by default, the simulation's queue in tests. */
  schedule?: (run: () => void) => void;
  /** Told about stream traffic and refusals (metrics). */
  observer?: FleetObserver;
  /** Weights, fair share and affinity; defaults over in-memory product settings. */
  scheduling?: Scheduling;
}

export class Fleet {
  readonly jobs: Jobs;
  readonly store: JobStore;
  readonly feed: JobFeed;
  readonly clock: Clock;
  readonly settings: FleetSettings & ScaleOutSettings;
  readonly random: () => number;
  readonly observer: FleetObserver;
  readonly scheduling: Scheduling;
  readonly preemptions: Preemptions;
  readonly budgets: Budgets;
  private readonly log: Logger;
  private readonly schedule: (run: () => void) => void;
  /** Sessions that said hello, by factory id. */
  private readonly byFactory = new Map<string, FactorySession>();
  /** Every open stream, including those still waiting for hello. */
  private readonly open = new Set<FactorySession>();
  private dispatch: 'idle' | 'running' | 'running_again' = 'idle';
  /**
   * False only when the last pass listed the whole runnable queue and offered every job in it, and
   * no job was queued since (`queuedSince` counts those): then a pass, asked for because a slot
   * freed up, would list an empty queue, and is skipped. Any job entering the queue, the periodic
   * tick (back-offs ending) and a shared store (others' submits) make passes list again.
   */
  private mayHaveRunnable = true;
  private queuedSince = 0;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  /** One early reaper pass, for the soonest lease a broken stream left to lapse (see shortenLeases). */
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;
  private sessionCounter = 0;
  /** The registered sessions as an array, for sessionsWithFreeSlots; null when one came or went since. */
  private roster: FactorySession[] | null = null;
  private rosterCursor = 0;
  /** The session that last took a slot for each job, until an update as new as its lease arrives (heldPastEpoch). */
  private readonly holds = new Map<string, FactorySession>();
  private pollTimer: NodeJS.Timeout | null = null;
  private pollDelayMs: number = SHARED_POLL.minMs;
  private offersSincePoll = 0;
  /** When a dispatch pass last listed runnable jobs: any such pass saw other replicas' jobs too. */
  private lastListedAt = 0;
  /** When each session is told goodbye for its age (only when maxStreamAgeMs is set). */
  private readonly retireAt = new WeakMap<FactorySession, number>();
  readonly races: RaceCounts = { reaperRaced: 0, reaperCasRetries: 0, dispatchLost: 0 };

  constructor(deps: FleetDeps) {
    this.jobs = deps.jobs;
    this.store = deps.store;
    this.feed = deps.feed;
    this.clock = deps.clock;
    this.settings = deps.settings;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.observer = deps.observer ?? NO_FLEET_OBSERVER;
    this.scheduling = deps.scheduling ?? new Scheduling(new MemorySettingsStore());
    this.budgets = new Budgets(deps.store, this.scheduling, deps.clock);
    // A notice unanswered for this long (grace plus a lease TTL) is given up, so another can be sent.
    this.preemptions = new Preemptions(deps.settings.preemptionGraceMs + deps.settings.leaseTtlMs);
    this.schedule = deps.schedule ?? ((run) => setImmediate(run));
    // Only when no pass is pending: a pending pass lists the queue best-first and must not be overtaken.
    if (!deps.settings.sharedStore) deps.jobs.claimer = { claim: (job) => (this.dispatch === 'idle' ? claimOnSubmit(this, job) : null) };
  }

  /** Components with their own periodic work (workflows), started and stopped with the fleet. */
  private readonly companions: { start(): void; stop(): void }[] = [];

  attach(companion: { start(): void; stop(): void }): void {
    this.companions.push(companion);
  }

  /** Starts the periodic work (reaper, silent-session sweep, back-off wake-ups) and the feed watcher. */
  start(): void {
    void this.watchFeed();
    for (const companion of this.companions) companion.start();
    this.timer = setInterval(() => void this.tick(), this.settings.reaperIntervalMs);
    this.timer.unref();
    if (this.settings.sharedStore) this.schedulePoll();
  }

  /**
   * Another replica's submit reaches us only through the store: poll it. After a poll interval in
   * which we offered work, poll again after SHARED_POLL.minMs; otherwise double the delay up to
   * SHARED_POLL.maxMs. A pass with no free slot costs nothing (dispatchOnce returns at once), and
   * when a pass (run for a local event or the reaper's tick) listed the store within the delay, the
   * poll moves to one delay after that pass: the store is never left unread for longer than the delay.
   */
  private schedulePoll(delayMs: number = this.pollDelayMs): void {
    if (this.stopping.signal.aborted) return;
    this.pollTimer = setTimeout(() => {
      const sinceListed = Date.now() - this.lastListedAt;
      if (sinceListed < this.pollDelayMs) {
        // A pass listed the store meanwhile (a local event, the reaper's tick): poll one delay after
        // that pass, not a whole delay from now, so the store is never left unread for longer.
        this.schedulePoll(this.pollDelayMs - sinceListed);
        return;
      }
      this.pollDelayMs = this.offersSincePoll > 0 ? SHARED_POLL.minMs : Math.min(this.pollDelayMs * 2, SHARED_POLL.maxMs);
      this.offersSincePoll = 0;
      this.requestDispatch();
      this.schedulePoll();
    }, delayMs);
    this.pollTimer.unref();
  }

  /** Says goodbye to every factory; their leases stay in the store for them to resume elsewhere. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.wake) clearTimeout(this.wake.timer);
    this.stopping.abort();
    for (const companion of this.companions) companion.stop();
    for (const session of [...this.open]) session.goodbye(GoodbyeReason.SHUTDOWN, 'coordinator is shutting down');
  }

  /** A new stream; `log` carries the stream's request id when the transport has one. */
  openSession(link: SessionLink, log: Logger = this.log): FactorySession {
    const sessionId = `s${++this.sessionCounter}-${this.clock.now().toString(36)}`;
    const session = new FactorySession(sessionId, this, link, log.child({ sessionId }));
    this.open.add(session);
    const maxAge = this.settings.maxStreamAgeMs ?? 0;
    if (maxAge > 0) this.retireAt.set(session, session.connectedAt + maxAge - Math.floor(maxAge * 0.1 * this.random()));
    return session;
  }

  sessions(): FactorySession[] {
    return [...this.byFactory.values()];
  }

  /**
   * Up to `limit` sessions with a free slot, taken round-robin over the fleet from where the last
   * call stopped. A submit places its job among such a window (at most SCORED_FACTORIES, as a pass
   * scores per job) instead of gathering every connected factory, so its cost does not grow with
   * the fleet, and successive submits spread over all of it. When fewer are free, all of them.
   */
  sessionsWithFreeSlots(limit: number): FactorySession[] {
    const roster = (this.roster ??= [...this.byFactory.values()]);
    const found: FactorySession[] = [];
    let step = 0;
    for (; step < roster.length && found.length < limit; step++) {
      const session = roster[(this.rosterCursor + step) % roster.length]!;
      if (session.freeSlots > 0) found.push(session);
    }
    this.rosterCursor = roster.length === 0 ? 0 : (this.rosterCursor + step) % roster.length;
    return found;
  }

  register(session: FactorySession): void {
    const id = session.factory!.factoryId;
    const previous = this.byFactory.get(id);
    this.byFactory.set(id, session);
    this.roster = null;
    if (previous && previous !== session) {
      previous.goodbye(GoodbyeReason.REPLACED, 'another stream for this factory id took over');
    }
  }

  unregister(session: FactorySession): void {
    this.open.delete(session);
    const id = session.factory?.factoryId;
    if (id && this.byFactory.get(id) === session) {
      this.byFactory.delete(id);
      this.roster = null;
    }
  }

  /**
   * A factory's stream broke without a goodbye: the leases it held (as its session last wrote them)
   * now lapse after the reconnect grace, if not sooner anyway, and the reaper is woken for that
   * moment, so a dead factory's jobs come back in seconds rather than a lease TTL. A factory that
   * reconnects within the grace renews them in its hello; one already back on a new stream here is
   * left alone (its hello decided about them). Never rejects: a lease not shortened just runs its TTL.
   */
  async shortenLeases(factoryId: string, held: readonly { jobId: string; epoch: number; expiresAt: number }[]): Promise<void> {
    const until = this.clock.now() + this.settings.reconnectGraceMs;
    for (const lease of held) {
      await this.jobs
        .mutate(lease.jobId, (job) => (this.byFactory.has(factoryId) ? null : shortenLease(job, factoryId, lease.epoch, until, this.clock.now(), lease.expiresAt)))
        .catch((err: unknown) => this.log.warn({ err, factoryId, jobId: lease.jobId }, 'could not shorten the lease of a broken stream; it runs its TTL'));
    }
    if (held.length > 0) this.wakeReaperAt(until);
  }

  /** Runs a reaper pass at `at` rather than at the next tick; one timer, for the soonest such moment. */
  private wakeReaperAt(at: number): void {
    if (this.timer === null || this.stopping.signal.aborted) return; // not started: the simulation ticks itself
    if (this.wake && this.wake.at <= at) return; // a later deadline is met by the next regular tick
    if (this.wake) clearTimeout(this.wake.timer);
    // +1: a timer may fire a millisecond early, before the lease counts as expired.
    const timer = setTimeout(() => {
      this.wake = null;
      this.reapOnce().then(
        (reaped) => {
          if (reaped > 0) this.requestDispatch(); // a lapsed offer is runnable at once
        },
        (err: unknown) => this.log.error({ err }, 'reaper pass failed'),
      );
    }, Math.max(0, at - this.clock.now()) + 1);
    timer.unref();
    this.wake = { at, timer };
  }

  /** An operator drains a factory: no new offers; it is told goodbye once its jobs are done. */
  drain(factoryId: string, reason: string): void {
    const session = this.byFactory.get(factoryId);
    if (!session) throw notFound(`factory ${factoryId} is not connected to this coordinator`);
    void session.drain(reason);
  }

  /** Asks for a dispatch pass; passes never overlap, and requests during one cause one more. */
  requestDispatch(): void {
    if (this.dispatch !== 'idle') {
      this.dispatch = 'running_again';
      return;
    }
    this.dispatch = 'running';
    this.schedule(() => void this.runDispatch());
  }

  /** One round of periodic work; the simulation calls it directly. */
  async tick(): Promise<void> {
    this.noteQueued(); // back-offs that ended, budgets that freed up: only a listing finds them
    this.sweepSilentSessions();
    this.preemptions.expire(this.clock.now());
    await this.reapOnce().catch((err: unknown) => this.log.error({ err }, 'reaper pass failed'));
    await this.budgets.refreshIfDue().catch((err: unknown) => this.log.error({ err }, 'budget refresh failed'));
    await this.stopBudgetOverruns().catch((err: unknown) => this.log.error({ err }, 'wall-clock budget check failed'));
    this.requestDispatch(); // jobs whose back-off just ended, products whose budget freed up
    await noteUnplaceable(this, UNPLACEABLE_PAGE).catch((err: unknown) => this.log.error({ err }, 'unplaceable check failed'));
  }

  /** Closes sessions that missed their hello deadline or went silent. */
  sweepSilentSessions(): void {
    const now = this.clock.now();
    for (const session of [...this.open]) {
      const state = session.current.t;
      if (state === 'awaiting_hello' && now - session.connectedAt >= this.settings.helloTimeoutMs) {
        session.close('no hello');
        session.end(new DomainError('deadline_exceeded', `no hello within ${this.settings.helloTimeoutMs} ms of opening the stream`));
      } else if ((state === 'active' || state === 'draining') && now - session.lastSeenAt >= this.settings.heartbeatTimeoutMs) {
        this.log.warn({ factoryId: session.factory?.factoryId, silentMs: now - session.lastSeenAt }, 'factory silent; closing its stream');
        session.goodbye(GoodbyeReason.HEARTBEAT_TIMEOUT, `no message for ${now - session.lastSeenAt} ms`);
      } else if (state === 'active' && now >= (this.retireAt.get(session) ?? Infinity)) {
        // Its leases stay in the store; the factory reconnects (elsewhere, behind a balancer) and resumes them.
        this.log.info({ factoryId: session.factory?.factoryId, ageMs: now - session.connectedAt }, 'stream reached its maximum age; goodbye');
        session.goodbye(GoodbyeReason.MAX_AGE, `stream reached its maximum age (${now - session.connectedAt} ms); reconnect to rebalance`);
      }
    }
  }

  /** Expired leases go back to the queue (with back-off) or to dead. Returns how many were reaped. */
  async reapOnce(): Promise<number> {
    const now = this.clock.now();
    let reaped = 0;
    let raced = 0;
    let casRetries = 0;
    for (const job of await this.store.listExpiredLeases(now, REAP_BATCH)) {
      const epoch = job.epoch;
      let decisions = 0;
      let expired = false;
      try {
        await this.jobs.mutate(job.id, (current) => {
          decisions++;
          expired = current.epoch === epoch && current.lease !== null && current.lease.expiresAt <= now;
          return expired
            ? expire(current, now, this.settings.retryBackoff, this.random(), `no heartbeat from ${current.lease!.factoryId} before the lease expired`)
            : null;
        });
        if (expired) reaped++;
        else raced++; // another replica's reaper (or the factory) got there first: fenced, harmless
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        raced++;
      }
      casRetries += Math.max(0, decisions - 1);
    }
    this.races.reaperRaced += raced;
    this.races.reaperCasRetries += casRetries;
    if (raced > 0 || casRetries > 0) {
      this.log.info({ reaped, raced, casRetries, totalRaced: this.races.reaperRaced }, 'reaper raced other writers (fenced by compare-and-set)');
    }
    return reaped;
  }

  /**
   * Stops running jobs of this coordinator's factories that used up their product's wall-clock
   * budget: the 'cancel_requested' event this writes is what sends the factory its cancel.
   */
  async stopBudgetOverruns(): Promise<number> {
    const running = this.sessions().flatMap((s) => [...s.leases].filter(([, held]) => held.running).map(([jobId]) => jobId));
    let stopped = 0;
    for (const { job, reason } of await this.budgets.overruns(running)) {
      try {
        await this.jobs.mutate(job.id, (current) => (current.epoch === job.epoch && current.stage === 'running' ? stopForBudget(current, this.clock.now(), reason) : null));
        stopped++;
        this.log.info({ jobId: job.id, productId: job.productId, reason }, 'job stopped: wall-clock budget exceeded');
      } catch (err) {
        if (!(err instanceof DomainError)) throw err; // ended meanwhile
      }
    }
    return stopped;
  }

  private async runDispatch(): Promise<void> {
    try {
      let again: boolean;
      do {
        this.dispatch = 'running';
        await this.dispatchOnce();
        // requestDispatch() may have flipped the state while the pass was awaiting the store.
        again = (this.dispatch as Fleet['dispatch']) === 'running_again';
      } while (again);
    } catch (err) {
      this.log.error({ err }, 'dispatch pass failed');
    } finally {
      this.dispatch = 'idle';
    }
  }

  /** Offers the best runnable jobs to factories with free slots; never more offers than slots. */
  async dispatchOnce(): Promise<void> {
    for (;;) {
      if (!this.mayHaveRunnable && !this.settings.sharedStore) return;
      const queuedBefore = this.queuedSince;
      this.lastListedAt = Date.now();
      const pass = await dispatchPass(this);
      this.offersSincePoll += pass.offered;
      this.races.dispatchLost += pass.lost;
      if (pass.emptied && this.queuedSince === queuedBefore) this.mayHaveRunnable = false;
      if (pass.offered === 0 || pass.listed < pass.limit) return;
    }
  }

  /** A job entered the queue (or may have): the next pass must list it. */
  noteQueued(): void {
    this.mayHaveRunnable = true;
    this.queuedSince++;
  }

  /** A session took a slot for `job` (a claim or an offer): remembered until the feed catches up. */
  noteHold(jobId: string, session: FactorySession): void {
    this.holds.set(jobId, session);
  }

  /** A claim that was not stored: nothing of it will reach the feed. */
  forgetHold(jobId: string, session: FactorySession): void {
    if (this.holds.get(jobId) === session) this.holds.delete(jobId);
  }

  /**
   * Whether a session holds (or is claiming) a lease on `job` newer than this record of it: only a
   * hold the feed has not caught up with can be, so one lookup instead of a look at every session.
   * A hold the feed caught up with (or that was let go) is forgotten here.
   */
  private heldPastEpoch(job: JobRecord): boolean {
    const session = this.holds.get(job.id);
    if (!session) return false;
    const factoryId = session.factory?.factoryId; // null once the session closed
    if (factoryId !== undefined && this.byFactory.get(factoryId) === session && (session.leases.get(job.id)?.epoch ?? -1) > job.epoch) return true;
    this.holds.delete(job.id);
    return false;
  }

  /** Tells factories about changes to their jobs that they did not cause themselves. */
  private async watchFeed(): Promise<void> {
    const updates = this.feed.topic.subscribe((item) => item.kind === 'update', this.stopping.signal);
    try {
      for await (const item of updates) {
        if (item.kind === 'update') this.onUpdate(item.update);
      }
    } catch (err) {
      this.log.error({ err }, 'fleet feed watcher stopped');
    }
  }

  /** Exposed for the simulation, which delivers updates itself. */
  onUpdate({ event, job }: JobUpdate): void {
    this.scheduling.observe({ event, job });
    this.budgets.observe({ event, job });
    if (job.stage !== 'running') this.preemptions.end(job.id);
    // A job submitted and claimed at once (claimOnSubmit) is already held by a session: no pass for it.
    const heldPast = this.heldPastEpoch(job); // for every update: it forgets holds the feed caught up with
    if (job.stage === 'queued' && !heldPast) {
      this.noteQueued();
      this.requestDispatch();
    }
    for (const session of this.possibleHolders(job)) {
      const held = session.leases.get(job.id);
      if (!held) continue;
      // An update from before the lease this session holds was granted (updates can be handled
      // late, and out of order across chains): old news, it must not revoke the newer lease.
      if (held.epoch > job.epoch) continue;
      const factoryId = session.factory!.factoryId;
      if (event.actor === `factory:${factoryId}`) continue; // the session already knows
      if (job.lease?.factoryId === factoryId && job.lease.epoch === held.epoch) {
        if (event.kind === 'cancel_requested') session.cancel(job.id, held.epoch, event.message);
        continue;
      }
      session.revoke(job.id, held.epoch, `lease ended: ${event.kind}${event.message ? ` (${event.message})` : ''}`);
      session.goodbyeIfDrained();
      this.requestDispatch();
    }
  }

  /**
   * The sessions that may hold a lease on `job`: only an offer grants a lease, and every offer is
   * recorded as an attempt naming its factory, so only the factories in the job's attempts. An
   * update costs O(attempts) this way instead of a look at every connected factory (O(fleet)).
   */
  private possibleHolders(job: JobRecord): FactorySession[] {
    const holders: FactorySession[] = [];
    for (const { factoryId } of job.attempts) {
      const session = this.byFactory.get(factoryId);
      if (session && !holders.includes(session)) holders.push(session);
    }
    return holders;
  }
}

/**
 * The connected fleet: one session per factory id, the dispatcher that offers queued jobs to free
 * slots, the reaper's tick, and the feed watcher; what any of them does to a lease goes through the
 * one lease owner (Leases).
 */
import { DomainError } from '../domain/errors.js';
import { stopForBudget } from '../domain/lifecycle.js';
import type { Logger } from '../logging.js';
import type { JobRecord } from '../domain/job.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { NO_FLEET_OBSERVER, type FleetObserver } from './fleet-observer.js';
import { claimOnSubmit, dispatchPass, noteUnplaceable } from './dispatcher.js';
import { Scheduling } from './scheduling.js';
import { Budgets } from './budgets.js';
import { MemorySettingsStore } from '../store/memory/memory-settings-store.js';
import type { FactoryLink, SessionHost, SessionRegistry } from './factory-link.js';
import { Leases, type ReaperRaces } from './leases.js';
import { Sessions } from './sessions.js';
import type { JobFeed, JobUpdate } from './job-feed.js';
import { JobWrites } from './job-writes.js';
import type { SubmitClaimer } from './jobs.js';
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

/** The reaper's work and races with other writers (replicas, factories), for logs, tests and the benchmark. */
export interface RaceCounts extends ReaperRaces {
  /** Offers lost because the job was taken (by another replica) between listing and claiming. */
  dispatchLost: number;
}

export interface FleetDeps {
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

export class Fleet implements SessionHost, SessionRegistry {
  /** How the fleet's parts change a job (compare-and-set, then publish). */
  readonly writes: JobWrites;
  /**
   * For Jobs: places a job at the moment it is submitted, when a slot is free and no pass is
   * pending (a pending pass lists the queue best-first and must not be overtaken). Null over a
   * shared store, whose writes may land out of order (see Jobs).
   */
  readonly submitClaimer: SubmitClaimer | null;
  readonly store: JobStore;
  readonly feed: JobFeed;
  readonly clock: Clock;
  readonly settings: FleetSettings & ScaleOutSettings;
  readonly random: () => number;
  readonly observer: FleetObserver;
  readonly scheduling: Scheduling;
  /** The one owner of lease state: the book of every lease this coordinator's factories hold. */
  readonly leases: Leases;
  /** The open factory streams. */
  private readonly registry: Sessions;
  readonly budgets: Budgets;
  private readonly log: Logger;
  private readonly schedule: (run: () => void) => void;
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
  private pollTimer: NodeJS.Timeout | null = null;
  private pollDelayMs: number = SHARED_POLL.minMs;
  private offersSincePoll = 0;
  /** When a dispatch pass last listed runnable jobs: any such pass saw other replicas' jobs too. */
  private lastListedAt = 0;
  readonly races: RaceCounts = { reaped: 0, reaperRaced: 0, reaperCasRetries: 0, dispatchLost: 0 };

  constructor(deps: FleetDeps) {
    this.writes = new JobWrites(deps.store, deps.feed);
    this.store = deps.store;
    this.feed = deps.feed;
    this.clock = deps.clock;
    this.settings = deps.settings;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.observer = deps.observer ?? NO_FLEET_OBSERVER;
    this.scheduling = deps.scheduling ?? new Scheduling(new MemorySettingsStore());
    this.budgets = new Budgets(deps.store, this.scheduling, deps.clock);
    this.leases = new Leases({
      writes: this.writes,
      store: deps.store,
      feed: deps.feed,
      clock: deps.clock,
      settings: deps.settings,
      random: this.random,
      log: deps.log,
      observer: this.observer,
      races: this.races,
      onFreed: () => this.requestDispatch(),
      onResumed: (job) => this.scheduling.track(job), // renewals publish no event: a restarted coordinator learns its leases here
    });
    this.registry = new Sessions({ clock: deps.clock, settings: deps.settings, random: this.random, log: deps.log, leases: this.leases });
    this.schedule = deps.schedule ?? ((run) => setImmediate(run));
    this.submitClaimer = deps.settings.sharedStore ? null : { claim: (job) => (this.dispatch === 'idle' ? claimOnSubmit(this, job) : null) };
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
    this.registry.goodbyeAll();
  }

  /** An id for a new stream, unique in this coordinator. */
  newSessionId(): string {
    return this.registry.newSessionId();
  }

  /** A new stream, before its hello. */
  open(session: FactoryLink): void {
    this.registry.open(session);
  }

  /** The sessions that said hello. */
  sessions(): FactoryLink[] {
    return this.registry.list();
  }

  /** Up to `limit` sessions with a free slot, round-robin over the fleet (see Sessions.withFreeSlots). */
  sessionsWithFreeSlots(limit: number): FactoryLink[] {
    return this.registry.withFreeSlots(limit);
  }

  register(session: FactoryLink): void {
    this.registry.register(session);
  }

  unregister(session: FactoryLink): void {
    this.registry.unregister(session);
  }

  /** Runs a reaper pass at `at` rather than at the next tick; one timer, for the soonest such moment. */
  wakeReaperAt(at: number): void {
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
    this.registry.drain(factoryId, reason);
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
    this.registry.sweep();
    await this.reapOnce().catch((err: unknown) => this.log.error({ err }, 'reaper pass failed'));
    await this.budgets.refreshIfDue().catch((err: unknown) => this.log.error({ err }, 'budget refresh failed'));
    await this.stopBudgetOverruns().catch((err: unknown) => this.log.error({ err }, 'wall-clock budget check failed'));
    this.requestDispatch(); // jobs whose back-off just ended, products whose budget freed up
    await noteUnplaceable(this, UNPLACEABLE_PAGE).catch((err: unknown) => this.log.error({ err }, 'unplaceable check failed'));
  }

  /**
   * Hands the lease book the leases the store lists as lapsed (and the stops whose grace ended):
   * it ends them, back to the queue (with back-off) or to dead. Returns how many it ended.
   */
  async reapOnce(): Promise<number> {
    const now = this.clock.now();
    const lapsed = (await this.store.listExpiredLeases(now, REAP_BATCH)).flatMap((job) => (job.lease ? [{ jobId: job.id, epoch: job.epoch, factoryId: job.lease.factoryId }] : []));
    const [reaped, raced, retries] = [this.races.reaped, this.races.reaperRaced, this.races.reaperCasRetries];
    await this.leases.apply({ t: 'tick', now, lapsed });
    const newlyRaced = this.races.reaperRaced - raced;
    if (newlyRaced > 0 || this.races.reaperCasRetries > retries) {
      this.log.info({ raced: newlyRaced, casRetries: this.races.reaperCasRetries - retries, totalRaced: this.races.reaperRaced }, 'reaper raced other writers (fenced by compare-and-set)');
    }
    return this.races.reaped - reaped;
  }

  /**
   * Stops running jobs of this coordinator's factories that used up their product's wall-clock
   * budget: the 'cancel_requested' event this writes is what sends the factory its cancel.
   */
  async stopBudgetOverruns(): Promise<number> {
    const running = [...this.leases.book.leases].filter(([, lease]) => lease.phase === 'running').map(([jobId]) => jobId);
    let stopped = 0;
    for (const { job, reason } of await this.budgets.overruns(running)) {
      try {
        await this.writes.mutate(job.id, (current) => (current.epoch === job.epoch && current.stage === 'running' ? stopForBudget(current, this.clock.now(), reason) : null));
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

  /** Jobs the store shows leased to `factoryId`. */
  listLeasedTo(factoryId: string): Promise<JobRecord[]> {
    return this.store.listLeasedTo(factoryId);
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
    // A job submitted and claimed at once (claimOnSubmit) already holds a newer lease: no pass for it.
    if (job.stage === 'queued' && (this.leases.book.lease(job.id)?.epoch ?? -1) <= job.epoch) {
      this.noteQueued();
      this.requestDispatch();
    }
    void this.leases.apply({ t: 'changed', job, actor: event.actor, kind: event.kind, message: event.message, now: this.clock.now() });
  }
}
